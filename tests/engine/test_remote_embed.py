"""Embedding a library on the user's GPU server: the real e5 graph run by Bunko's host script,
first as a child process here (the protocol, the sample check, a killed script, a Python
without onnxruntime), then over the real sshd on loopback with the local venv as "the
server's" Python: the vectors equal a local run's, and a run whose embedder is killed
midway keeps what was finished, says so in words, and the next run does only the rest.

No GPU exists here: the CUDA provider on a server cannot be exercised, only the CPU one."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

from engine.api import Engine
from engine.embed.remote import (SCRIPT, ProcessLink, RemoteEmbedder, agree, agreed, compare_sample, host_config)
from engine.errors import ConnectionLostError, EmbedderError
from engine.library import indexer
from tests.engine.test_remote_ssh import cut_ssh_sessions

TOPICS = ["travel", "parking", "holidays", "payroll", "security", "printers", "canteen", "training"]


def child(embedder, tmp_path, python=(sys.executable,), graph=None) -> RemoteEmbedder:
    own, config = host_config(embedder)
    graph = graph or own
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return RemoteEmbedder(embedder, ProcessLink([*python, str(SCRIPT), str(graph), str(path)]), "a child process")


@pytest.mark.slow   # two sessions of the e5 graph in a child process
def test_the_script_makes_the_local_vectors_and_a_different_one_is_refused_with_numbers(embedder, embedder_dir,
                                                                                          tmp_path):
    with child(embedder, tmp_path) as remote:
        assert remote.start()["providers"] == ["CPUExecutionProvider"]
        assert compare_sample(remote, embedder) >= 0.9999
        texts = ["短い文。", "A somewhat longer English sentence about the canteen's opening hours. " * 9]
        assert np.allclose(remote.embed_passages(texts), embedder.embed_passages(texts), atol=1e-5)
        assert remote.embed_passages([]).shape == (0, embedder.dim)
    # the other graph there (int8 against float32: cosine ~0.999): close, but not the library's vectors
    other = "model.onnx" if embedder.graph == "fast" else "model-fast.onnx"
    with child(embedder, tmp_path, graph=embedder_dir / other) as wrong:
        wrong.start()
        with pytest.raises(EmbedderError, match=r"cosine 0\.99\d\d\d on the worst of 6 sample texts.*0\.9999"):
            compare_sample(wrong, embedder)


def test_a_python_without_onnxruntime_says_what_to_install(embedder, tmp_path):
    with child(embedder, tmp_path, python=(sys.executable, "-S")) as remote:   # -S: no site-packages
        with pytest.raises(EmbedderError, match=r"needs onnxruntime.*pip install onnxruntime-gpu.*--host-python"):
            remote.start()


def test_a_killed_script_is_said_in_words(embedder, tmp_path):
    with child(embedder, tmp_path) as remote:
        remote.start()
        remote.link.proc.kill()   # type: ignore[attr-defined]
        remote.link.proc.wait()   # type: ignore[attr-defined]
        with pytest.raises(ConnectionLostError,
                           match=r"a child process stopped: the link broke .*exit status -9.*run the same command"):
            remote.embed_passages(["anything"])


def test_agreeing_is_remembered_per_host(tmp_path):
    assert not agreed(tmp_path, "me@gpu")
    agree(tmp_path, "me@gpu")
    agree(tmp_path, "me@gpu")
    assert agreed(tmp_path, "me@gpu") and not agreed(tmp_path, "other")


# -- over the real sshd --------------------------------------------------------------------------

def write_folder(folder, count: int) -> None:
    folder.mkdir()
    for i in range(count):
        topic = TOPICS[i % len(TOPICS)]
        (folder / f"{topic}-{i:03d}.md").write_text(
            f"# {topic.title()} note {i}\n\nRule {i} about {topic}: ask the office on floor {i % 7} "
            f"before day {i % 28 + 1} of the month.\n", encoding="utf-8")


def stored_vectors(engine) -> dict[str, np.ndarray]:
    cur = engine._store.cursor()
    rows = cur.execute("SELECT c.text, e.vec FROM chunks c JOIN embeddings e ON e.chunk_id = c.id").fetchall()
    return {text: np.frombuffer(vec, "<f4") for text, vec in rows}


def script_pids() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if b"bunko_embed_host" in open(f"/proc/{entry}/cmdline", "rb").read():
                    found.append(int(entry))
            except OSError:
                pass
    return found


def readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "bunko-index-reader" and t.is_alive()]


def wait_until(done, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.1)
    return done()


def test_a_library_embedded_over_ssh_matches_local_and_a_killed_run_resumes(sshd, tmp_path, embedder_dir,
                                                                             monkeypatch):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    spec = sshd.spec(tmp_path)
    folder = tmp_path / "docs"
    write_folder(folder, 12)
    said: list[str] = []
    with Engine.open(tmp_path / "remote.duckdb", embedder_dir) as engine:
        lib = engine.libraries.add(folder)
        result = engine.libraries.index(lib.name, host=spec, say=said.append)
        there = stored_vectors(engine)
    assert (result.added, result.failed) == (12, 0)
    assert any("copying the embedding model" in s for s in said)
    assert any("sample vectors agree" in s for s in said), said
    assert wait_until(lambda: not script_pids())   # it ends at the end of its stdin
    with Engine.open(tmp_path / "local.duckdb", embedder_dir) as engine:
        engine.libraries.index(engine.libraries.add(folder).name)
        here = stored_vectors(engine)
    assert set(there) == set(here) and len(here) == 12
    assert min(float(there[t] @ here[t]) for t in here) >= 0.9999

    # a bigger folder: the script there is killed once files are stored, then the SSH session is cut;
    # pools of 16 chunks (not 128) so that 90 one-chunk files make several
    monkeypatch.setattr(indexer, "POOL_CHUNKS", 16)
    monkeypatch.setattr(indexer, "REPORT_EVERY_S", 0.0)   # every file's progress reaches the stopper
    big = tmp_path / "big"
    write_folder(big, 90)

    def stopper(after: int, stop):
        done = threading.Event()

        def progress(p) -> None:
            if p.files_done >= after and not done.is_set():
                stop()
                done.set()
        return progress, done

    def kill_script() -> None:
        for pid in script_pids():
            os.kill(pid, signal.SIGKILL)

    said.clear()
    with Engine.open(tmp_path / "remote.duckdb", embedder_dir) as engine:
        lib = engine.libraries.add(big)
        progress, killed = stopper(20, kill_script)
        with pytest.raises(ConnectionLostError, match=r"Embedding on .* stopped: .*run the same command again"):
            engine.libraries.index(lib.name, progress, host=spec, say=said.append)
        assert killed.is_set()
        assert wait_until(lambda: not readers())   # the run's reader stopped too: nothing waits on a full queue
        assert not any("copying the embedding model" in s for s in said)   # it is there already
        first = engine.libraries.get(lib.name).documents
        assert 20 <= first < 90

        progress, cut = stopper(20, lambda: cut_ssh_sessions(sshd))
        with pytest.raises(ConnectionLostError, match=r"Embedding on .* stopped: .*run the same command again"):
            engine.libraries.index(lib.name, progress, host=spec)
        assert cut.is_set() and wait_until(lambda: not readers())
        second = engine.libraries.get(lib.name).documents
        assert first + 20 <= second < 90
        assert wait_until(lambda: not script_pids())   # the cut ended it there too

        result = engine.libraries.index(lib.name, host=spec)
        assert (result.added, result.unchanged, result.failed) == (90 - second, second, 0)
        cur = engine._store.cursor()
        assert cur.execute("SELECT count(*), count(DISTINCT path) FROM documents WHERE library_id = ?",
                           [lib.id]).fetchone() == (90, 90)
        assert cur.execute("SELECT count(*) FROM chunks WHERE library_id = ?", [lib.id]).fetchone() == (90,)
        wanted = f"Rule 75 about {TOPICS[75 % len(TOPICS)]}"   # found by its vector
        hits = engine.search(wanted, k=3, mode="dense", libraries=[lib.name])
        assert any(wanted in h.text for h in hits)


def test_cli_asks_once_then_embeds_on_the_host(sshd, tmp_path, embedder_dir, monkeypatch, capsys):
    from engine.cli.commands import main

    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "docs"
    write_folder(folder, 3)
    base = ["--db", str(tmp_path / "cli.duckdb"), "--embedder", str(embedder_dir), "index", str(folder),
            "--embed-host", f"{sshd.user}@127.0.0.1:{sshd.port}", "--key", str(sshd.client_key),
            "--ssh-config", str(tmp_path / "no-config"), "--host-python", sys.executable,
            "--remote-dir", str(tmp_path / "remote"), "--accept-host-key", sshd.host_key_fingerprint]
    assert main(base) == 2   # not a terminal and no --yes: nothing is sent
    err = capsys.readouterr().err
    assert "sends the text of its files there" in err and "Nothing was sent to" in err
    assert not (tmp_path / "remote").exists()
    assert main(base + ["--yes", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["added"] == 3
    assert "sends the text" in err and "sample vectors agree" in err
    assert "copying the embedding model" in err
    (folder / "new.md").write_text("# New\n\nA note added later about the library hours.\n", encoding="utf-8")
    [copy] = (tmp_path / "remote" / "embed" / "models").glob("*.onnx")
    data = bytearray(copy.read_bytes())
    data[-100:] = bytes(100)   # damaged there, same size: found by its sha256 and copied again
    copy.write_bytes(bytes(data))
    assert main(base + ["--json"]) == 0   # agreed once for this host: not asked again
    out, err = capsys.readouterr()
    assert json.loads(out)["added"] == 1 and "sends the text" not in err
    assert "copying the embedding model" in err and "sample vectors agree" in err


def test_bench_embed_on_the_host_against_here(sshd, tmp_path, embedder_dir, monkeypatch, capsys):
    from engine.cli.commands import main

    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    assert main(["--embedder", str(embedder_dir), "bench", "embed", "--rounds", "2", "--texts", "8", "--json",
                 "--host", f"{sshd.user}@127.0.0.1:{sshd.port}", "--key", str(sshd.client_key),
                 "--ssh-config", str(tmp_path / "no-config"), "--host-python", sys.executable,
                 "--remote-dir", str(tmp_path / "remote"), "--accept-host-key", sshd.host_key_fingerprint]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["bench"] == "embed-host" and result["cuda_measured"] is False
    for row in result["sets"].values():
        assert row["texts"] == 8 and row["ratio_min"] > 0 and row["cosine_min"] >= 0.999
        assert all(v > 0 for v in row["texts_per_s"].values())


FAKE_SERVER = r"""
import json, struct, sys
out = sys.stdout.buffer
mode = sys.argv[1]
if mode == "garbage":
    out.write(b"Welcome to the server!\n" * 3); out.flush(); sys.exit(0)
if mode == "huge":
    out.write(b"BKH1" + struct.pack("<I", 1 << 30)); out.flush(); sys.stdin.read(); sys.exit(0)
hello = json.dumps({"providers": ["CPUExecutionProvider"], "onnxruntime": "0"}).encode()
if mode == "notjson":
    hello = b"[" * 5000
elif mode == "list":
    hello = b"[1, 2]"
out.write(b"BKH1" + struct.pack("<I", len(hello)) + hello); out.flush()
head = sys.stdin.buffer.read(12)
_, rows, width = struct.unpack("<4sII", head)
sys.stdin.buffer.read(4 * rows * width + 4 * rows)
if mode == "shape":
    out.write(struct.pack("<4sII", b"BKV1", rows, 7) + bytes(4 * rows * 7))
elif mode == "nan":
    out.write(struct.pack("<4sII", b"BKV1", rows, 384) + struct.pack("<f", float("nan")) * (rows * 384))
elif mode == "notjson":
    pass
else:
    message = b"CUDA out of memory"
    out.write(struct.pack("<4sII", b"BKX1", len(message), 0) + message)
out.flush()
sys.stdin.read()
"""


@pytest.mark.parametrize("mode, error, words", [
    ("garbage", EmbedderError, "answered with something Bunko does not know"),
    ("huge", EmbedderError, "answered with something Bunko does not know"),
    ("shape", EmbedderError, r"sent 1 vectors of 7 numbers for 1 texts of 384"),
    ("failure", EmbedderError, "failed: CUDA out of memory"),
    ("nan", EmbedderError, "not unit length or not numbers"),
    ("notjson", EmbedderError, "not JSON"),
    ("list", EmbedderError, "answered with something Bunko does not know"),
])
def test_a_server_that_answers_wrongly_is_refused_in_words(embedder, tmp_path, mode, error, words):
    remote = RemoteEmbedder(embedder, ProcessLink([sys.executable, "-c", FAKE_SERVER, mode]), "a fake server")
    with remote, pytest.raises(error, match=words):
        remote.start()
        remote.embed_passages(["one text"])


def test_a_run_whose_embedder_is_lost_stops_its_reader_and_keeps_what_was_stored(tmp_path, monkeypatch):
    """On fakes: the embedder's link drops at its third call while the reader, far ahead, waits on a
    full queue; the run says so, the finished files are stored, and the reader thread ends."""
    from tests.fakes import StubEmbedder

    class Dropping(StubEmbedder):
        calls = 0

        def embed_passages(self, texts, batch_size=32, background=False):
            self.calls += 1
            if self.calls == 3:
                raise ConnectionLostError("Embedding on gpubox stopped: the link broke.")
            return super().embed_passages(texts)

    monkeypatch.setattr(indexer, "POOL_CHUNKS", 4)
    monkeypatch.setattr(indexer, "EMBED_GROUP", 4)
    monkeypatch.setattr(indexer, "QUEUE_DOCS", 2)
    folder = tmp_path / "docs"
    write_folder(folder, 40)
    with Engine.open(tmp_path / "db.duckdb", embedder=Dropping()) as engine:
        lib = engine.libraries.add(folder)
        with pytest.raises(ConnectionLostError, match="the link broke"):
            engine.libraries.index(lib.name)
        assert wait_until(lambda: not readers(), 5)
        assert engine.libraries.get(lib.name).documents == 8   # two full calls of four one-chunk files


def test_a_server_that_trickles_is_given_up_on_after_the_timeout_in_all(embedder):
    """A byte now and then, each within the per-read wait: the reply as a whole still has a deadline."""
    class Trickle:
        def write(self, data):
            pass

        def read(self, n, timeout):
            time.sleep(min(0.05, timeout))
            return b"B"

        def close(self):
            pass

        def why_ended(self):
            return "still there"

    remote = RemoteEmbedder(embedder, Trickle(), "a slow server")
    started = time.monotonic()
    with pytest.raises(ConnectionLostError, match=r"a slow server stopped: no complete answer in 0 s"):
        remote._read(1_000_000, 0.4)
    assert time.monotonic() - started < 2
