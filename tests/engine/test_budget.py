"""The CPU budget: while an answer is generated, background work (the indexer, the
embedder's passage batches) waits, and resumes when it is done. No sleeps decide
anything here: each step waits for a state the budget reports."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.api import Engine, background_mode, set_background_mode
from engine.budget import BUDGET, CpuBudget
from engine.cancel import CancelToken


def until(condition, timeout: float = 60.0) -> None:
    """Wait for a state (not a duration); fail if it never comes."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "the state never came"
        time.sleep(0.005)


@pytest.fixture(autouse=True)
def pause_mode():
    set_background_mode("pause")
    yield
    set_background_mode("pause")
    assert not BUDGET.busy


def test_idle_budget_never_holds_background_work_back() -> None:
    budget = CpuBudget()
    assert budget.wait_turn() == 0.0
    with budget.foreground():
        budget.set_mode("full")
        assert budget.wait_turn() == 0.0  # full: no yielding even while busy
    assert not budget.busy


def test_background_waits_for_the_answer_and_resumes_after() -> None:
    budget = CpuBudget("pause")
    stopped = []
    budget.on_foreground(lambda: stopped.append(True))
    finished = threading.Event()
    with budget.foreground():
        assert stopped == [True]  # work under way is told to stop
        worker = threading.Thread(target=lambda: (budget.wait_turn(), finished.set()))
        worker.start()
        until(lambda: budget.waiting == 1)
        assert not finished.is_set()
    worker.join(10)
    assert finished.is_set() and budget.waiting == 0


def test_a_paused_task_can_still_be_cancelled() -> None:
    budget = CpuBudget("pause")
    cancel = CancelToken()
    with budget.foreground():
        worker = threading.Thread(target=budget.wait_turn, args=(cancel,))
        worker.start()
        until(lambda: budget.waiting == 1)
        cancel.cancel()
        worker.join(10)
        assert not worker.is_alive()


def test_slow_mode_rests_for_as_long_as_the_batch_took() -> None:
    budget = CpuBudget("slow")
    with budget.foreground():
        assert budget.wait_turn(last_batch_s=0.2) >= 0.19
    assert budget.wait_turn(last_batch_s=5.0) == 0.0


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="pause"):
        CpuBudget("fast")
    assert background_mode() == "pause"


def test_an_embedding_under_way_is_cut_short_and_redone(embedder) -> None:
    """The answer starts while a passage batch runs: onnxruntime's terminate flag stops
    it, the embedder waits for the answer to end, then embeds the batch again."""
    texts = ["出張の日当は3,000円とする。", "Per diem is paid for meals."]
    expected = embedder.embed_queries(texts)  # warm; a different prefix, compared below by shape
    reference = embedder.embed_passages(texts)
    real = embedder._session
    calls = []
    answer = {}

    class Session:
        def __getattr__(self, name):
            return getattr(real, name)

        def run(self, outputs, feed, options=None):
            calls.append(options)
            if len(calls) == 1:  # an answer begins while this batch runs
                answer["cm"] = BUDGET.foreground()
                answer["cm"].__enter__()
                assert options.terminate
            return real.run(outputs, feed, options)

    embedder._session = Session()
    try:
        out = {}
        worker = threading.Thread(target=lambda: out.setdefault("v", embedder.embed_passages(texts, background=True)))
        worker.start()
        until(lambda: BUDGET.waiting == 1)  # cut short, now waiting for the answer
        assert len(calls) == 1 and "v" not in out
        answer["cm"].__exit__(None, None, None)
        worker.join(60)
    finally:
        embedder._session = real
    assert len(calls) == 2 and expected.shape == out["v"].shape
    np.testing.assert_allclose(out["v"], reference, atol=1e-5)


def test_indexing_waits_while_an_answer_is_generated(tmp_path: Path, embedder_dir: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(3):
        (root / f"{i}.md").write_text(f"# 規程 {i}\n\n出張の日当は{i}千円とする。\n", encoding="utf-8")
    with Engine.open(tmp_path / "b.duckdb", embedder_dir) as engine:
        engine.libraries.add(root, "docs")
        result = {}
        with BUDGET.foreground():
            worker = threading.Thread(target=lambda: result.setdefault("r", engine.libraries.index("docs")))
            worker.start()
            until(lambda: BUDGET.waiting >= 1)
            cur = engine._store.cursor()
            assert cur.execute("SELECT count(*) FROM chunks").fetchone()[0] == 0
            assert "r" not in result
        worker.join(120)
        assert result["r"].added == 3 and result["r"].chunks == 3
        assert engine.search("日当", k=3, mode="keyword")


def test_a_local_training_process_gets_a_lower_priority(tmp_path: Path) -> None:
    import os
    import signal

    from engine.hosts.hosts import HostSpec, LocalHost

    host = LocalHost(HostSpec(), tmp_path)
    pid = host.start(["sleep", "30"], str(tmp_path), "log.txt")
    try:
        assert os.getpriority(os.PRIO_PROCESS, pid) > os.getpriority(os.PRIO_PROCESS, 0)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
