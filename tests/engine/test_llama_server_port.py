"""Before the key and a question go to llama-server's port on a GPU server, Bunko checks that the
socket listening there is its own process's: once its llama-server stopped, another login could
bind the same 127.0.0.1 port. Checked over the real sshd with real listening processes."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from engine.hosts.connect import connect
from engine.llm.remote.llama_server import listener_owner

LISTEN = ("import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
          "print(s.getsockname()[1], flush=True); time.sleep(120)")


@pytest.fixture
def host(sshd, tmp_path):
    spec = sshd.spec(tmp_path)
    h = connect(spec, tmp_path)
    yield h
    h.close()


@pytest.fixture
def listener():
    proc = subprocess.Popen([sys.executable, "-c", LISTEN], stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    yield proc.pid, port
    proc.kill()
    proc.wait()


def test_the_listener_is_told_apart_from_another_process(host, listener) -> None:
    pid, port = listener
    assert listener_owner(host, port, pid) == "ours"
    impostor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:   # "our" llama-server is this other process: the socket on the port is not its
        assert listener_owner(host, port, impostor.pid) == "other"
    finally:
        impostor.kill()
        impostor.wait()
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    closed = free.getsockname()[1]
    free.close()
    assert listener_owner(host, closed, pid) == "none"
