"""Test connection and setup for a training host (reaching it is engine.hosts.connect)."""

from __future__ import annotations

from pathlib import Path
from collections.abc import Callable

from ..cancel import CancelToken
from ..types import Progress
from . import trainer_env
from ..hosts.connect import connect
from ..hosts.hosts import HostReport, HostSpec, Secrets


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
