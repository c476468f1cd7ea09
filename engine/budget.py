"""One CPU budget for the process: an answer being generated comes first.

On a 2-core PC llama.cpp and onnxruntime each start a thread per core; run
together, an answer fell from 124 to 8.8 tokens/s while a library indexed
(llama.cpp's threads meet at a barrier every layer, so one thread slowed by a
competitor slows them all). So generation marks the budget busy for as long as
it holds the model (`foreground()`), and background work (embedding passages,
reading files for the index) asks `wait_turn()` between its batches.

The policy is a setting (`MODES`):

* ``pause`` (default): background work waits while an answer is generated and
  an embedding call already under way is cut short (and redone afterwards), so
  the answer gets every core within a fraction of a second;
* ``slow``: background work goes on, but rests after each batch as long as the
  batch took, so it has at most half of the machine;
* ``full``: no yielding (a machine with cores to spare, or a GPU for the model).

Why not fewer threads or a lower priority: onnxruntime fixes its thread count
when a session is made (a second session would double the model's memory), and
on Linux os.nice() lowers the whole process, the answer's threads included;
a thread's own niceness can be raised but not lowered again without privileges.
With nothing generating, background work runs at full speed: it never waits.

A local training job is another process, which this budget cannot reach; so while
an answer is generated (modes pause and slow) the budget also keeps a file named
by its process id in the data folder's `answering/` (`signal_dir`); the trainer
looks there between batches and waits or rests the same way (bunko_train.py,
`yield_dir` in its spec). A file whose process has died is ignored by the trainer.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Callable, Iterator

from .cancel import CancelToken

log = logging.getLogger(__name__)

MODES = ("pause", "slow", "full")
SETTING_KEY = "cpu/background_while_answering"  # the desktop's settings key
# A paused task checks its cancel token this often while it waits.
_POLL_S = 0.25


class CpuBudget:
    def __init__(self, mode: str = "pause") -> None:
        self._cond = threading.Condition()
        self._busy = 0
        self._mode = "pause"
        self._waiting = 0
        self._listeners: list[Callable[[], None]] = []
        self._signal_dir: Path | None = None
        self._signalled: Path | None = None
        self.set_mode(mode)

    # -- the setting ---------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown CPU budget mode {mode!r}; use one of {', '.join(MODES)}")
        with self._cond:
            self._mode = mode
            self._signal()
            self._cond.notify_all()

    # -- other processes -----------------------------------------------------------
    def signal_dir(self) -> Path:
        """Where answering processes leave their file (set_signal_dir; else under the data folder)."""
        if self._signal_dir is not None:
            return self._signal_dir
        from .paths import data_dir  # read each time: tests and profiles change it

        return data_dir() / "answering"

    def set_signal_dir(self, folder: Path | None) -> None:
        with self._cond:
            if self._signalled is not None:
                _remove(self._signalled)
                self._signalled = None
            self._signal_dir = Path(folder) if folder is not None else None
            self._signal()

    def _signal(self) -> None:
        """Keep this process's file in step with yielding(); called with the lock held."""
        want = self.yielding()
        if want and self._signalled is None:
            try:
                folder = self.signal_dir()
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"{os.getpid()}.json"
                path.write_text(json.dumps({"pid": os.getpid(), "mode": self._mode}), encoding="utf-8")
                self._signalled = path
            except OSError as exc:  # a read-only data folder: the trainer simply does not yield
                log.info("could not leave the answering signal: %s", exc)
        elif self._signalled is not None and (not want or self._signalled.parent != self.signal_dir()):
            _remove(self._signalled)
            self._signalled = None
            if want:
                self._signal()

    # -- the foreground ------------------------------------------------------------
    @contextmanager
    def foreground(self) -> Iterator[None]:
        """Held while an answer is generated (prompt and tokens)."""
        with self._cond:
            self._busy += 1
            first = self._busy == 1
            self._signal()
            listeners = list(self._listeners) if first and self._mode == "pause" else []
        for stop in listeners:  # cut short what is running now
            try:
                stop()
            except Exception:  # noqa: BLE001 - a listener must not break the answer
                log.exception("a CPU budget listener failed")
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                self._signal()
                self._cond.notify_all()

    @property
    def busy(self) -> bool:
        return self._busy > 0

    def yielding(self) -> bool:
        """Whether background work should hold back now."""
        return self._busy > 0 and self._mode != "full"

    def on_foreground(self, stop: Callable[[], None]) -> Callable[[], None]:
        """Call `stop` when an answer starts (mode pause); returns a function that unsubscribes."""
        with self._cond:
            self._listeners.append(stop)

        def unsubscribe() -> None:
            with self._cond:
                if stop in self._listeners:
                    self._listeners.remove(stop)

        return unsubscribe

    # -- the background ------------------------------------------------------------
    @property
    def waiting(self) -> int:
        """Background tasks paused now (tests and the bench read it)."""
        return self._waiting

    def wait_turn(self, cancel: CancelToken | None = None, last_batch_s: float = 0.0) -> float:
        """Called by background work between batches; returns the seconds it held back.

        pause: waits until no answer is generated (or `cancel`); slow: rests as long as
        the last batch took while an answer is generated; full: returns at once."""
        started = time.monotonic()
        with self._cond:
            if not self.yielding():
                return 0.0
            self._waiting += 1
            try:
                if self._mode == "slow":
                    self._cond.wait_for(lambda: not self.yielding() or _cancelled(cancel),
                                        timeout=min(max(last_batch_s, 0.05), 5.0))
                else:
                    while self.yielding() and not _cancelled(cancel):
                        self._cond.wait(_POLL_S)
            finally:
                self._waiting -= 1
        return time.monotonic() - started


# A local training job is its own process, so its priority can be lowered without
# touching the answer's threads: the kernel then gives an answer the cores first, and
# the job everything left over. (Windows: a below-normal priority class at start.)
BACKGROUND_NICE = 10


def lower_priority(pid: int, budget: CpuBudget | None = None) -> bool:
    """Lower a background process's priority (not in mode full); False where it cannot."""
    if (budget or BUDGET).mode == "full" or not hasattr(os, "setpriority"):
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, pid, BACKGROUND_NICE)
        return True
    except OSError as exc:
        log.info("could not lower the priority of process %d: %s", pid, exc)
        return False


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.info("could not remove the answering signal %s: %s", path, exc)


def _cancelled(cancel: CancelToken | None) -> bool:
    return cancel is not None and cancel.cancelled


# The process's one budget: generation, the indexer and the embedder share it.
BUDGET = CpuBudget()


def set_background_mode(mode: str) -> None:
    """What indexing does while an answer is generated: "pause" (default), "slow" or
    "full"; applies to the whole process at once."""
    BUDGET.set_mode(mode)


def background_mode() -> str:
    return BUDGET.mode
