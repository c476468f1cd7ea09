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
from engine.embed import load_embedder
from engine.embed.remote import (SCRIPT, ProcessLink, RemoteEmbedder, agree, agreed, compare_sample, host_config)
from engine.errors import ConnectionLostError, EmbedderError

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
    # the other graph there (int8 against float32: cosine 0.991-0.998): close, but not the library's vectors
    other = "model.onnx" if embedder.graph == "fast" else "model-fast.onnx"
    with child(embedder, tmp_path, graph=embedder_dir / other) as wrong:
        wrong.start()
        with pytest.raises(EmbedderError, match=r"cosine 0\.99\d\d on the worst of 6 sample texts.*0\.999"):
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
        with pytest.raises(ConnectionLostError, match=r"a child process stopped: the link broke .*exit status -9.*run the same command again"):
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
    deadline = time.monotonic() + 10
    while script_pids() and time.monotonic() < deadline:   # it ends at the end of its stdin
        time.sleep(0.1)
    assert not script_pids()
    with Engine.open(tmp_path / "local.duckdb", embedder_dir) as engine:
        engine.libraries.index(engine.libraries.add(folder).name)
        here = stored_vectors(engine)
    assert set(there) == set(here) and len(here) == 12
    assert min(float(there[t] @ here[t]) for t in here) >= 0.9999

    # a bigger folder; the script there is killed once the first files are stored
    big = tmp_path / "big"
    write_folder(big, 200)
    killed = threading.Event()

    def progress(p) -> None:
        if p.files_done >= 100 and not killed.is_set():
            for pid in script_pids():
                os.kill(pid, signal.SIGKILL)
            killed.set()

    said.clear()
    with Engine.open(tmp_path / "remote.duckdb", embedder_dir) as engine:
        lib = engine.libraries.add(big)
        with pytest.raises(ConnectionLostError, match=r"Embedding on .* stopped: .*run the same command again"):
            engine.libraries.index(lib.name, progress, host=spec, say=said.append)
        assert killed.is_set()
        assert not any("copying the embedding model" in s for s in said)   # it is there already
        first = engine.libraries.get(lib.name).documents
        assert 100 <= first < 200
        result = engine.libraries.index(lib.name, host=spec)
        assert (result.added, result.unchanged, result.failed) == (200 - first, first, 0)
        cur = engine._store.cursor()
        assert cur.execute("SELECT count(*), count(DISTINCT path) FROM documents WHERE library_id = ?",
                           [lib.id]).fetchone() == (200, 200)
        wanted = f"Rule 150 about {TOPICS[150 % len(TOPICS)]}"   # found by its vector
        hits = engine.search(wanted, k=3, mode="dense", libraries=[lib.name])
        assert any(wanted in h.text for h in hits)
