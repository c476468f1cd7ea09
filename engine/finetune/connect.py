"""Reaching a training host: this computer or a server over SSH.

Apart from hosts.py so that the SSH host (which builds on hosts.py) and the local
one meet only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..cancel import CancelToken
from ..errors import HostError
from ..types import Progress
from . import trainer_env
from .hosts import HostReport, HostSpec, LocalHost, Secrets
from .ssh import SSHHost


def connect(spec: HostSpec, root: Path, secrets: Secrets | None = None, timeout: float = 15.0):
    """A LocalHost or a connected SSHHost for `spec`. Host keys the user accepts are kept in
    Bunko's own `root/known_hosts` (unless the spec names another file)."""
    if spec.kind == "local":
        return LocalHost(spec, root)
    if spec.kind == "ssh":
        return SSHHost.connect(spec, secrets or Secrets(), timeout=timeout, known_hosts=Path(root) / "known_hosts")
    raise HostError(f"Unknown host kind {spec.kind!r}.")


def probe(spec: HostSpec, root: Path, secrets: Secrets | None = None, timeout: float = 15.0) -> HostReport:
    """Test connection: Python, GPU, driver, free disk and the trainer's environment."""
    host = connect(spec, root, secrets, timeout)
    try:
        return trainer_env.probe(host)
    finally:
        host.close()


def setup(spec: HostSpec, root: Path, secrets: Secrets | None = None, kind: str | None = None,
          progress: Callable[[Progress], None] | None = None, cancel: CancelToken | None = None) -> None:
    """Make the trainer's environment on the host; each output line comes as a Progress message."""
    host = connect(spec, root, secrets)
    try:
        kind = kind or trainer_env.env_kind(trainer_env.probe(host))
        say = (lambda line: progress(Progress(message=line, unit="lines"))) if progress else None
        trainer_env.setup(host, kind, say, cancel)
    finally:
        host.close()
