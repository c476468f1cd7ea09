"""A model on a GPU server over SSH, on the real sshd fixture (loopback): the port-forward,
then llama-server (built from the pinned llama.cpp source) started through Bunko's own code,
answering with RAG through the tunnel with the real SmolLM2; the SSH link cut mid-answer."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import pytest

from engine.api import Engine
from engine.hosts.connect import connect
from engine.hosts.hosts import HostSpec, Secrets
from engine.models.registry import smollm2_path
from engine.llm.remote import keys
from engine.llm.remote.tunnel import Tunnel
from engine.types import GenerationSettings
from tests.engine.remote_fixtures import file_keyring, log_file, need_llama_server  # noqa: F401
from tests.sshd import _children

DOCS = {"travel.md": "# Travel\n\nThe per diem for business trips is 45 dollars a day for meals.\n",
        "parking.md": "# Parking\n\nStaff park in the north lot; visitors use the south lot.\n"}


def spec_for(sshd, tmp_path) -> HostSpec:
    return sshd.alias_spec(tmp_path)


def cut_ssh_sessions(sshd) -> int:
    """Kill the per-connection sshd processes (not the listener): every open link drops."""
    killed = 0
    for pid in _children().get(sshd.process.pid, []):
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
    return killed


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"llama-server" in f.read()
    except OSError:
        return False


def echo_server():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)

    def serve():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=lambda c=c: [c.sendall(d) for d in iter(lambda: c.recv(4096), b"")],
                             daemon=True).start()
    threading.Thread(target=serve, daemon=True).start()
    return s


def test_tunnel_forwards_and_notices_a_cut_link(sshd, tmp_path) -> None:
    echo = echo_server()
    host = connect(spec_for(sshd, tmp_path), tmp_path)
    tunnel = Tunnel(host.client.get_transport(), echo.getsockname()[1])
    try:
        with socket.create_connection(("127.0.0.1", tunnel.port), timeout=5) as c:
            c.sendall("こんにちは".encode())
            assert c.recv(100).decode() == "こんにちは"
            assert tunnel.alive
            assert cut_ssh_sessions(sshd) >= 1
            c.settimeout(5)
            assert c.recv(100) == b""  # the forwarded connection ends instead of hanging
        deadline = time.monotonic() + 5
        while tunnel.alive and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not tunnel.alive
    finally:
        tunnel.close()
        host.close()
        echo.close()


@pytest.fixture
def remote_engine(sshd, tmp_path, embedder_dir, monkeypatch, file_keyring):
    binary = need_llama_server()
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    engine = Engine.open(tmp_path / "b.duckdb", embedder_dir)
    engine.libraries.index(engine.libraries.add(docs, "handbook").name)
    info = engine.models.add_remote(spec_for(sshd, tmp_path), smollm2_path(), "gpu-smol", n_ctx=2048,
                                   idle_minutes=0, server_binary=str(binary))
    try:
        yield engine, info
    finally:
        try:
            engine.models.stop_remote("gpu-smol")
        finally:
            engine.close()


def test_llama_server_that_crashes_on_first_use_is_started_again_with_safe_settings(
        sshd, tmp_path, monkeypatch, file_keyring) -> None:
    """Like llama.cpp's AMX kernels on some cloud Xeons: this llama-server dies (SIGSEGV) before its
    first answer unless it is started with --no-repack. Bunko checks a new server's first token,
    starts it again with safe settings, remembers that on the host, and the answer comes."""
    real = need_llama_server()
    fake = tmp_path / "bin" / "llama-server"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\ncase " $* " in *" --no-repack "*) exec "{real}" "$@" ;; esac\nkill -SEGV $$\n')
    fake.chmod(0o755)
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    with Engine.open(tmp_path / "b.duckdb") as engine:
        engine.models.add_remote(spec_for(sshd, tmp_path), smollm2_path(), "gpu-smol", n_ctx=1024,
                                idle_minutes=0, server_binary=str(fake))
        try:
            said = []
            engine.models.start_remote("gpu-smol", Secrets(), lambda p: said.append(p.message))
            assert any("safe settings (--no-repack)" in m for m in said)
            answer = list(engine.chat.stream("What is the capital of France?", model="gpu-smol",
                                             settings=GenerationSettings(temperature=0, max_tokens=16)))[-1].answer
            assert answer.status == "complete" and answer.text
            assert list(tmp_path.rglob("gpu-smol.no-repack"))   # remembered on the host for next time
        finally:
            engine.models.stop_remote("gpu-smol")


def test_llama_server_over_ssh_answers_with_rag_and_survives_a_cut_link(remote_engine, sshd, log_file,
                                                                       tmp_path) -> None:
    engine, info = remote_engine
    assert info.location == "ssh" and info.where == "ssh gpubox"
    said = []
    state = engine.models.start_remote("gpu-smol", Secrets(), lambda p: said.append(p.message))
    assert state.where == "ssh gpubox" and state.offload.startswith("CPU")
    assert any("uploading" in m for m in said)
    key = keys.get_key(info)
    assert key and len(key) > 30

    greedy = GenerationSettings(temperature=0.0, max_tokens=24, seed=1)
    first = list(engine.chat.ask("What is the per diem for business trips?", model="gpu-smol",
                                 libraries=("handbook",), settings=greedy))[-1].answer
    assert first.status == "complete" and first.text
    assert any(s.path == "travel.md" for s in first.sources)
    assert first.stats["server"]["predicted_n"] > 0   # llama-server's own timings came through

    # cut the SSH link a few tokens into a long answer
    long = GenerationSettings(temperature=0.0, max_tokens=400, seed=1)
    events = engine.chat.ask("Write a long story about a cat on a train.", first.conversation_id,
                             model="gpu-smol", libraries=(), settings=long)
    got = []
    for event in events:
        if event.kind == "token":
            got.append(event.text)
            if len(got) == 5:
                assert cut_ssh_sessions(sshd) >= 1
        elif event.kind == "done":
            cut = event.answer
    assert cut.status == "stopped" and cut.text and "dropped" in cut.stats["error"]
    stored = engine.conversations.messages(first.conversation_id)
    assert stored[-2].content == "Write a long story about a cat on a train."
    assert (stored[-1].status, stored[-1].content) == ("stopped", cut.text)

    # the next answer reconnects (llama-server kept running on the host)
    again = list(engine.chat.ask("What is the per diem for business trips?", first.conversation_id,
                                 model="gpu-smol", libraries=("handbook",), settings=greedy))[-1].answer
    assert again.status == "complete" and again.text

    # another session (a second Bunko, the CLI) finds the running server instead of starting another
    running = engine.models.host.server("gpu-smol")._pid
    with Engine.open(tmp_path / "other.duckdb") as other:
        other.models.registry.insert_remote("gpu-smol", "ssh", info.path, info.remote)
        other.models.host.server("gpu-smol").start()
        assert other.models.host.server("gpu-smol")._pid == running
    assert alive(running)  # closing that session left it running

    # idle shutdown (GPU servers are billed by the hour): the watcher stops llama-server there
    server = engine.models.host.server("gpu-smol")
    pid = server._pid
    server.idle_s, server._idle_check_s = 0.5, 0.2
    server._watch_idle()
    deadline = time.monotonic() + 30
    while server.running and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not server.running
    assert not alive(pid)
    server.idle_s = 0   # no idle shutdown for the rest of the test

    # started again, and stopped from another session that did not start it
    engine.models.start_remote("gpu-smol")
    again_pid = engine.models.host.server("gpu-smol")._pid
    assert again_pid != pid and alive(again_pid)
    with Engine.open(tmp_path / "other.duckdb") as other:
        other.models.stop_remote("gpu-smol")
    assert not alive(again_pid)

    # the key never reached the database or the log
    for path in [engine._store.path, log_file]:
        assert key.encode() not in path.read_bytes(), path
