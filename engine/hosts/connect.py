"""Reaching a host: this computer or a server over SSH.

Apart from hosts.py so that the SSH host (which builds on hosts.py) and the local
one meet only here.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import HostError
from .hosts import HostSpec, LocalHost, Secrets
from .ssh import SSHHost


def connect(spec: HostSpec, root: Path, secrets: Secrets | None = None, timeout: float = 15.0):
    """A LocalHost or a connected SSHHost for `spec`. Host keys the user accepts are kept in
    Bunko's own `root/known_hosts` (unless the spec names another file)."""
    if spec.kind == "local":
        return LocalHost(spec, root)
    if spec.kind == "ssh":
        return SSHHost.connect(spec, secrets or Secrets(), timeout=timeout, known_hosts=Path(root) / "known_hosts")
    raise HostError(f"Unknown host kind {spec.kind!r}.")
