"""Fixtures for the engine tests: a real sshd on 127.0.0.1 (see tests/sshd.py)."""

from __future__ import annotations

import pytest

from tests.sshd import SshServer, sshd_missing_reason


@pytest.fixture(scope="module")
def _sshd_server(tmp_path_factory):
    """One sshd (and one set of keys) per test module; stopped, with all its processes, at the end."""
    reason = sshd_missing_reason()
    if reason:
        pytest.skip(reason)
    server = SshServer(tmp_path_factory.mktemp("sshd"))
    # What the `sshd` fixture puts back before each test: a test may change the host key.
    original = {p: p.read_bytes() for p in (server.host_key, server.host_key.with_suffix(".pub"), server.known_hosts)}
    try:
        yield server, original
    finally:
        server.stop()


@pytest.fixture
def sshd(_sshd_server) -> SshServer:
    """A running sshd with its original host key, whatever the previous test in the module did to it."""
    server, original = _sshd_server
    if any(p.read_bytes() != data for p, data in original.items()):
        server.stop()
        for p, data in original.items():
            p.write_bytes(data)
    server.start()  # a no-op when it is already running
    return server


@pytest.fixture(scope="session")
def trainer_python() -> str:
    """A Python with the trainer's packages: $BUNKO_TRAINER_PYTHON, or an environment made
    once in .trainer-env by the app's own setup (pip, pinned requirements-cpu.txt).
    Without the package registry that setup fails the test (BUNKO_SKIP_TRAINER=1 skips it)."""
    import os
    from pathlib import Path

    from engine.errors import BunkoError
    from engine.finetune import trainer_env
    from engine.finetune.hosts import HostSpec, LocalHost

    explicit = os.environ.get("BUNKO_TRAINER_PYTHON")
    if explicit:
        return explicit
    target = Path(__file__).resolve().parents[2] / ".trainer-env"
    old = os.environ.get("BUNKO_TRAINER_ENV")
    os.environ["BUNKO_TRAINER_ENV"] = str(target)
    try:
        host = LocalHost(HostSpec(), target.parent)
        if not trainer_env.env_ready(host, "cpu"):
            try:
                trainer_env.setup(host, "cpu", on_line=lambda line: None)
            except BunkoError as exc:  # like the app's own install, this needs the package registry
                if os.environ.get("BUNKO_SKIP_TRAINER") == "1":
                    pytest.skip(f"the trainer's environment could not be set up here: {exc}")
                pytest.fail(f"could not set up the trainer's environment (BUNKO_SKIP_TRAINER=1 skips): {exc}")
        return trainer_env.env_python(host)
    finally:
        if old is None:
            os.environ.pop("BUNKO_TRAINER_ENV", None)
        else:
            os.environ["BUNKO_TRAINER_ENV"] = old
