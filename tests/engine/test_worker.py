"""The model worker: llama.cpp in a child process whose death never takes the caller with it.

Real parts: SmolLM2 through llama.cpp in a real worker process, killed with real signals in
the middle of an answer; a GGUF crafted to trip a real llama.cpp assertion while loading; the
probe's fallback driven by the worker's test switch (a fault on the first decode with the
default settings, as llama.cpp's AMX kernels do on some Xeons).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from engine.api import Engine
from engine.errors import ModelCrashedError
from engine.llm import probe
from engine.models.registry import smollm2_path
from engine.llm.supervised import LocalModel
from engine.llm.worker import FAULT_ENV
from engine.types import GenerationSettings, LoadSettings

GREEDY = GenerationSettings(temperature=0.0, max_tokens=48, seed=1, repeat_penalty=1.0)
LONG = GenerationSettings(temperature=0.0, max_tokens=400, repeat_penalty=1.0)
STORY = "Write a long story about a cat who travels around Japan by train."


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A machine folder of the test's own: the probe runs afresh, crash counts start at zero."""
    monkeypatch.setenv("BUNKO_MACHINE_DIR", str(tmp_path / "machine"))
    monkeypatch.delenv(FAULT_ENV, raising=False)   # a whole run may set it to act like an AMX machine
    probe.machine_key.cache_clear()
    return tmp_path / "machine"


@pytest.fixture
def engine(tmp_path, machine):
    with Engine.open(tmp_path / "b.duckdb") as e:
        e.models.load(None, LoadSettings(n_ctx=1024, n_threads=2))
        yield e


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has died too
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGABRT, signal.SIGKILL])
def test_worker_killed_mid_answer_keeps_the_partial_answer_and_the_next_one_is_right(engine, sig):
    pid = engine.models.loaded().worker_pid
    assert pid and pid != os.getpid() and _alive(pid)
    tokens, answer = [], None
    for event in engine.ask(STORY, settings=LONG):
        if event.kind == "token":
            tokens.append(event.text)
            if len(tokens) == 3:
                os.kill(pid, sig)
        elif event.kind == "done":
            answer = event.answer
    assert answer.status == "stopped" and answer.stats["finish_reason"] == "crashed"
    assert len(tokens) >= 3 and answer.text and answer.text in "".join(tokens)
    crash = [n for n in answer.notices if n["kind"] == "crashed"]
    assert crash and sig.name in crash[0]["text"] and "starts it again" in crash[0]["text"]
    stored = engine.conversations.messages(answer.conversation_id)[-1]
    assert stored.status == "stopped" and stored.content == answer.text
    assert engine.models.loaded() is None and _wait_gone(pid)
    # the next question starts a fresh worker and gets a real answer
    done = [e.answer for e in engine.chat.stream("What is the capital of France?", settings=GREEDY)
            if e.kind == "done"][0]
    assert done.status == "complete" and "Paris" in done.text
    assert engine.models.loaded().worker_pid not in (None, pid)


def test_stop_and_early_exit_leave_the_worker_ready(engine):
    from engine.cancel import CancelToken

    cancel = CancelToken()
    events = engine.chat.stream(STORY, settings=LONG, cancel=cancel)
    for event in events:
        if event.kind == "token":
            cancel.cancel()
        if event.kind == "done":
            assert event.answer.status == "stopped"
    with engine.models.host.use() as (llm, _state):
        from engine.llm.runtime import GenerationStats

        stats = GenerationStats()
        gen = llm.generate(llm.tokenize("Hello"), 300, LONG, stats=stats)
        next(gen)
        gen.close()   # the caller stops reading: the worker is told, and drained
        assert not llm.crashed and stats.finish_reason == "cancelled"
        assert stats.prompt_tokens > 0 and stats.completion_tokens >= 1   # counted as in-process
        pieces = list(llm.generate(llm.tokenize("The capital of France is"), 8, GREEDY))
        assert "Paris" in "".join(pieces)


def test_two_crashes_in_a_row_switch_the_model_to_safe_settings(tmp_path, machine, monkeypatch):
    probe_first = probe.run_probe(smollm2_path(), 2)            # this machine: the defaults work
    probe.SafetyBook(machine).keep_verdict(probe_first)
    assert probe_first.extra_bufts and probe_first.ok
    monkeypatch.setenv(FAULT_ENV, "decode-default")               # from now on they crash
    with Engine.open(tmp_path / "b.duckdb") as engine:
        notes = []
        for _ in range(2):
            answer = [e.answer for e in engine.ask("Hello?", settings=GREEDY) if e.kind == "done"][0]
            assert answer.status == "stopped"
            notes.append(next(n["text"] for n in answer.notices if n["kind"] == "crashed"))
        assert "SIGSEGV" in notes[0] and "starts it again" in notes[0]
        assert "safe settings next time" in notes[1]
        answer = [e.answer for e in engine.chat.stream("What is the capital of France?", settings=GREEDY)
                  if e.kind == "done"][0]
        assert answer.status == "complete" and "Paris" in answer.text
        state = engine.models.loaded()
        assert "crashed 2 times" in state.safe_settings
        report = engine.doctor()
        assert report.facts["loaded_model"]["safe_settings"] and report.facts["models_on_safe_settings"]


def test_probe_that_crashes_leads_to_safe_settings_not_to_a_crash(tmp_path, machine, monkeypatch):
    monkeypatch.setenv(FAULT_ENV, "decode-default")
    verdict = probe.run_probe(smollm2_path(), 2)
    assert verdict.ok and not verdict.extra_bufts
    assert "SIGSEGV" in verdict.detail and verdict.seconds < 60
    # the app's first load probes (once per machine) and runs with the safe settings it found
    with Engine.open(tmp_path / "b.duckdb") as engine:
        state = engine.models.load(None, LoadSettings(n_ctx=1024, n_threads=2))
        assert "probe" in state.safe_settings
        answer = [e.answer for e in engine.chat.stream("What is the capital of France?", settings=GREEDY)
                  if e.kind == "done"][0]
        assert answer.status == "complete" and "Paris" in answer.text
        assert probe.SafetyBook(machine).verdict().extra_bufts is False
        assert "safe settings" in engine.doctor().facts["probe"]["settings"] or \
            engine.doctor().facts["probe"]["settings"] == "safe"


def _duplicate_token_gguf(src, dst):
    """SmolLM2 with two identical vocabulary entries: llama.cpp's loader stops on
    GGML_ASSERT(id_to_token.size() == token_to_id.size()), which aborts the process."""
    from gguf import GGUFReader

    shutil.copyfile(src, dst)
    reader = GGUFReader(dst, "r+")
    field = reader.fields["tokenizer.ggml.tokens"]
    texts = [bytes(field.parts[i]) for i in field.data]
    a, b = next((i, j) for i in range(200, 400) for j in range(i + 1, 400) if len(texts[i]) == len(texts[j]))
    np.copyto(field.parts[field.data[b]], field.parts[field.data[a]])
    reader.data.flush()
    del reader


def test_gguf_that_trips_a_llama_cpp_assertion_gives_an_error_in_words(tmp_path, machine):
    bad = tmp_path / "bad-vocab.gguf"
    _duplicate_token_gguf(smollm2_path(), bad)
    with pytest.raises(ModelCrashedError) as caught:
        LocalModel(bad, 256, 2, 64, 0)
    text = str(caught.value)
    assert "stopped unexpectedly" in text and "SIGABRT" in text and "GGML_ASSERT" in text
    # through the engine: a clear error, nothing else touched, and a good model still answers
    with Engine.open(tmp_path / "b.duckdb") as engine:
        engine.models.add(bad, name="bad-vocab")
        with pytest.raises(ModelCrashedError, match="stopped unexpectedly"):
            engine.models.load("bad-vocab", LoadSettings(n_ctx=256, n_threads=2))
        answer = [e.answer for e in engine.chat.stream("What is the capital of France?", settings=GREEDY)
                  if e.kind == "done"][0]
        assert "Paris" in answer.text


def test_worker_ends_with_its_parent(tmp_path):
    """kill -9 of the process that started a worker leaves no orphan holding the model."""
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(os.getcwd())!r})
        from engine.llm.supervised import LocalModel
        m = LocalModel({str(smollm2_path())!r}, 256, 1, 64, 0)
        print(m.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        assert _alive(worker)
        parent.kill()
        parent.wait(10)
        assert _wait_gone(worker), "the worker outlived its parent"
    finally:
        parent.kill()


def test_doctor_says_what_a_bug_report_needs(engine, machine):
    report = engine.doctor()
    text = report.text
    assert report.facts["probe"]["ok"] and report.facts["cpu"]["features"] is not None
    for words in ("features:", "AMX", "llama.cpp", "Probe:", "Model:", "buffer", "Data folder", "Versions"):
        assert words in text
    assert str(os.path.expanduser("~")) + "/" not in text or os.path.expanduser("~") == "/"


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def test_bunko_chat_survives_a_crash_mid_answer(tmp_path, machine):
    """`bunko chat` in a terminal: the worker is killed while an answer prints; the command says
    what happened, stays at its prompt, and answers the next question."""
    import threading
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "BUNKO_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "desktop.launcher", "--db", str(tmp_path / "b.duckdb"), "chat",
                             "--no-rag", "--temperature", "0", "--max-tokens", "300"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env, cwd=root)
    out = bytearray()
    threading.Thread(target=lambda: [out.extend(c) for c in iter(lambda: proc.stdout.read1(4096), b"")],
                     daemon=True).start()

    def wait_for(predicate, seconds=300):
        end = time.monotonic() + seconds
        while time.monotonic() < end and not predicate(out.decode("utf-8", "replace")):
            assert proc.poll() is None, out.decode("utf-8", "replace")
            time.sleep(0.05)
        return predicate(out.decode("utf-8", "replace"))

    try:
        proc.stdin.write(f"{STORY}\n".encode())
        proc.stdin.flush()
        assert wait_for(lambda text: len(text.rsplit("> ", 1)[-1]) > 40)   # the answer is printing
        workers = [p for p in _children(proc.pid)
                   if b"engine.llm.worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(workers) == 1
        os.kill(workers[0], signal.SIGSEGV)
        assert wait_for(lambda text: "stopped unexpectedly" in text and "SIGSEGV" in text)
        proc.stdin.write(b"What is the capital of France?\n")
        proc.stdin.flush()
        assert wait_for(lambda text: "Paris" in text.split("stopped unexpectedly", 1)[1])
        proc.stdin.write(b"/quit\n")
        proc.stdin.flush()
        assert proc.wait(60) == 0
    finally:
        proc.kill()


def test_the_app_process_never_loads_llama_cpp(tmp_path, machine):
    """An answer, the doctor and the GPU check run llama.cpp only in worker processes."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(os.getcwd())!r})
        from engine.api import Engine, LoadSettings, GenerationSettings, gpu_offload_supported
        with Engine.open({str(tmp_path / "b.duckdb")!r}) as e:
            e.models.load(None, LoadSettings(n_ctx=512, n_threads=2))
            done = [x.answer for x in e.chat.stream("What is the capital of France?",
                    settings=GenerationSettings(temperature=0, max_tokens=12)) if x.kind == "done"][0]
            e.doctor()
            gpu_offload_supported()
        print(done.status, "llama_cpp" in sys.modules, flush=True)
    """)
    env = {**os.environ, "BUNKO_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert out.stdout.split() == ["complete", "False"], out.stderr[-2000:]


def test_a_worker_started_from_a_short_lived_thread_outlives_it(machine):
    """`bunko serve` starts workers from request threads that end soon after; the worker must not
    end with them (Linux's PR_SET_PDEATHSIG would kill it when that thread exits)."""
    import threading

    box = {}
    starter = threading.Thread(target=lambda: box.update(model=LocalModel(smollm2_path(), 256, 1, 64, 0)))
    starter.start()
    starter.join()
    time.sleep(0.5)
    model = box["model"]
    try:
        assert model.alive()
        assert "Paris" in "".join(model.generate(model.tokenize("The capital of France is"), 6, GREEDY))
    finally:
        model.close()
