"""The one way the window starts engine work: off the UI thread, results back on it.

    runner.run(engine.libraries.index, "docs", on_progress=bar.update, on_done=..., key="index:docs")
    runner.stream(lambda cancel: engine.ask(q, cancel=cancel), on_item=view.add, on_done=...)

The engine's long functions are plain functions that take `progress=` and
`cancel=` (docs/architecture.md, rule 2); this module calls them on a thread pool and
turns progress, items, results and errors into Qt signals, which Qt delivers
on the UI thread. A task started with a `key` cancels the previous task of the
same key, and whatever the old one still reports is dropped: the newest
request wins (search as you type, switching conversations).
"""

from __future__ import annotations

import inspect
import logging
import threading
from typing import Any
from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from engine.api import CancelToken

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives on the UI thread; signals emitted from workers arrive there queued."""

    progress = Signal(object, object)   # task, value
    item = Signal(object, object)       # task, value
    finished = Signal(object, object, object)  # task, (ok, result or exception), the work itself


class Task:
    """A running piece of work. `cancel()` asks it to stop; its callbacks then stay silent."""

    def __init__(self, key: str | None, on_progress, on_item, on_done, on_error) -> None:
        self.key = key
        self.token = CancelToken()
        self.dropped = False          # superseded or cancelled: no more callbacks
        self.finished = threading.Event()
        self._callbacks = (on_progress, on_item, on_done, on_error)

    def cancel(self, drop: bool = True) -> None:
        """Stop the work; with drop=False the final on_done/on_error still arrives
        (a stopped answer still reports what it kept)."""
        self.token.cancel()
        if drop:
            self.dropped = True

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)


class _Job(QRunnable):
    def __init__(self, task: Task, work: Callable[[Task], Any], relay: _Relay) -> None:
        super().__init__()
        self.task, self.work, self.relay = task, work, relay
        self.setAutoDelete(True)

    def run(self) -> None:  # on a pool thread
        # The pool deletes this job on its own thread; if the job still held the task
        # (its callbacks, bound to widgets) or the work (a closure over a page), a
        # widget could lose its last reference there, and Qt objects must die on the
        # UI thread. So both travel back with the result and the UI keeps them a while.
        task, work = self.task, self.work
        self.task = self.work = None
        try:
            outcome = (True, work(task))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the UI
            outcome = (False, exc)
        task.finished.set()
        self.relay.finished.emit(task, outcome, work)


def _accepts(fn: Callable, name: str) -> bool:
    """Only a parameter of that very name counts: `**fields` takes anything and would
    receive a cancel token it never asked for."""
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class Runner(QObject):
    """Runs engine calls on a thread pool. Default error handler: `on_error` of the runner."""

    def __init__(self, on_error: Callable[[BaseException], None] | None = None, max_threads: int = 4,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        self.default_error = on_error or (lambda exc: log.error("background task failed", exc_info=exc))
        self._relay = _Relay()
        self._relay.progress.connect(lambda t, v: self._deliver(t, 0, v))
        self._relay.item.connect(lambda t, v: self._deliver(t, 1, v))
        self._relay.finished.connect(self._on_finished)
        self._by_key: dict[str, Task] = {}
        self._running: set[Task] = set()
        self._graveyard: list = []  # finished tasks and work, dropped a second later (see _Job.run)
        self._sweep = QTimer(self)
        self._sweep.setSingleShot(True)
        self._sweep.timeout.connect(self._graveyard.clear)

    # -- starting work -------------------------------------------------------
    def run(self, fn: Callable, *args, on_done=None, on_error=None, on_progress=None,
            key: str | None = None, **kwargs) -> Task:
        """Call fn(*args, **kwargs) on the pool; `progress=` and `cancel=` are passed when fn takes them."""
        task = self._new(key, on_progress, None, on_done, on_error)
        if on_progress is not None and _accepts(fn, "progress"):
            kwargs["progress"] = lambda value: self._relay.progress.emit(task, value)
        if _accepts(fn, "cancel"):
            kwargs["cancel"] = task.token
        self.pool.start(_Job(task, lambda t: fn(*args, **kwargs), self._relay))
        return task

    def stream(self, make: Callable[[CancelToken], Iterator], on_item, on_done=None, on_error=None,
               key: str | None = None) -> Task:
        """Iterate make(cancel) on the pool, delivering each item; on_done gets the last item."""
        task = self._new(key, None, on_item, on_done, on_error)

        def work(t: Task):
            last = None
            events = make(t.token)
            try:
                for last in events:
                    self._relay.item.emit(t, last)
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()
            return last

        self.pool.start(_Job(task, work, self._relay))
        return task

    def cancel(self, key: str) -> None:
        task = self._by_key.get(key)
        if task is not None:
            task.cancel()

    def running(self, key: str) -> bool:
        task = self._by_key.get(key)
        return task is not None and not task.finished.is_set()

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        """Cancel everything and wait for the workers (closing the window)."""
        for task in list(self._running):
            task.cancel()
        return self.pool.waitForDone(int(timeout_s * 1000))

    # -- delivering ------------------------------------------------------------
    def _new(self, key, on_progress, on_item, on_done, on_error) -> Task:
        task = Task(key, on_progress, on_item, on_done, on_error)
        if key is not None:
            old = self._by_key.get(key)
            if old is not None:
                old.cancel()
            self._by_key[key] = task
        self._running.add(task)
        return task

    def _deliver(self, task: Task, which: int, value) -> None:
        callback = task._callbacks[which]
        if callback is not None and not task.dropped:
            callback(value)

    def _forget(self, task: Task) -> None:
        self._running.discard(task)
        if task.key is not None and self._by_key.get(task.key) is task:
            del self._by_key[task.key]

    def _on_finished(self, task: Task, outcome, work) -> None:
        self._forget(task)
        self._graveyard.append((task, work))
        self._sweep.start(1000)
        ok, value = outcome
        if task.dropped:
            if not ok:
                log.debug("a superseded task failed: %s", value)
            return
        if ok:
            if task._callbacks[2] is not None:
                task._callbacks[2](value)
        else:
            (task._callbacks[3] or self.default_error)(value)
