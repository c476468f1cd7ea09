"""The CPU budget across processes: while an answer is generated, the budget leaves a
file named by its process id; a local training job (bunko_train.py, its own process)
waits between batches while such a file names a live process, and goes on after."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.budget import CpuBudget

TRAINER = Path(__file__).resolve().parents[2] / "engine" / "finetune" / "trainer" / "bunko_train.py"


@pytest.fixture(scope="module")
def trainer():
    """The real trainer script as a module (it imports only the standard library at the top)."""
    spec = importlib.util.spec_from_file_location("bunko_train_under_test", TRAINER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_answer_leaves_its_signal_only_while_it_is_generated(tmp_path: Path, trainer) -> None:
    budget = CpuBudget("pause")
    budget.set_signal_dir(tmp_path)
    mine = tmp_path / f"{os.getpid()}.json"
    assert not mine.exists() and trainer.answering(tmp_path) is None
    with budget.foreground():
        assert json.loads(mine.read_text()) == {"pid": os.getpid(), "mode": "pause"}
        assert trainer.answering(tmp_path) == "pause"
        with budget.foreground():  # a second answer at once: still one file
            pass
        assert mine.exists()
        budget.set_mode("full")  # no yielding: no signal
        assert not mine.exists()
        budget.set_mode("slow")
        assert trainer.answering(tmp_path) == "slow"
    assert not mine.exists() and trainer.answering(tmp_path) is None


def test_a_signal_of_a_process_that_died_is_ignored(tmp_path: Path, trainer) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / f"{gone.pid}.json").write_text(json.dumps({"pid": gone.pid, "mode": "pause"}))
    (tmp_path / "half-written.json").write_text('{"pid": ')
    assert trainer.answering(tmp_path) is None
    assert trainer.yield_to_answers(tmp_path, 1.0) < 0.2


_CHILD = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("t", sys.argv[1])
t = importlib.util.module_from_spec(spec); spec.loader.exec_module(t)
print("batch", flush=True)
waited = t.yield_to_answers(sys.argv[2], 0.01)
print("after", round(waited, 2), flush=True)
"""


def test_a_training_process_waits_for_the_answer_and_goes_on_after(tmp_path: Path) -> None:
    budget = CpuBudget("pause")
    budget.set_signal_dir(tmp_path)
    with budget.foreground():
        child = subprocess.Popen([sys.executable, "-c", _CHILD, str(TRAINER), str(tmp_path)],
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "batch"
            # Several of its polls pass while the answer is still being generated.
            time.sleep(4 * 0.25)
            assert child.poll() is None, "the trainer went on during the answer"
        except BaseException:
            child.kill()
            raise
    out, _ = child.communicate(timeout=30)
    word, waited = out.split()
    assert word == "after" and float(waited) >= 0.9
