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
def mascot_db(mascot_training):
    """A database with a real LoRA adapter ("mascot") that teaches SmolLM2 a made-up fact: the
    session's one training (tests/conftest.py `mascot_training`). Copy the file, then open the copy."""
    return mascot_training.db
