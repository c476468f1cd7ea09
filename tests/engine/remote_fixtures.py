"""Shared by the remote-model tests: a real file-based keyring, a log file to scan for keys,
and the llama-server binary built from the pinned llama.cpp source (packaging/build_llama_server.sh)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

LLAMA_VERSION = "0.3.36"


@pytest.fixture
def file_keyring(tmp_path):
    """keyrings.alt's PlaintextKeyring in a temporary file, as the process-wide keyring."""
    keyring = pytest.importorskip("keyring")
    from keyrings.alt.file import PlaintextKeyring

    before = keyring.get_keyring()
    kr = PlaintextKeyring()
    kr.file_path = str(tmp_path / "keyring_pass.cfg")
    keyring.set_keyring(kr)
    try:
        yield kr
    finally:
        keyring.set_keyring(before)


@pytest.fixture
def log_file(tmp_path):
    """Everything the engine logs (DEBUG and up) in a file, as the app's log would hold it."""
    path = tmp_path / "bunko.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
        handler.close()


def llama_server_binary() -> Path | None:
    """$BUNKO_LLAMA_SERVER, or the CPU build that packaging/build_llama_server.sh caches."""
    given = os.environ.get("BUNKO_LLAMA_SERVER")
    if given:
        return Path(given) if Path(given).is_file() else None
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = cache / "bunko" / f"llama-server-{LLAMA_VERSION}-cpu" / "llama-server"
    return path if path.is_file() else None


def need_llama_server() -> Path:
    path = llama_server_binary()
    if path is None:
        pytest.skip("llama-server is not built here: run BUNKO_LLAMA_CPU=1 packaging/build_llama_server.sh "
                    "(CI does, in .ci/run)")
    return path
