"""Starting, following and cancelling fine-tuning jobs, shared by the page and the wizard.

A job trains on its host whether or not Bunko is open; following it means copying
what the trainer wrote since last time, every second, until it ends. Each job has at
most one follower, started under the runner key f"follow-{job.id}", so the wizard
and the page see the same events. Host questions (an unknown host key, a key's
passphrase) are asked here and the work is tried again with the answer.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from ..common import while_alive
from .host_dialogs import SessionSecrets, ask_to_retry

log = logging.getLogger(__name__)

_pool_lock = threading.Lock()


def _grow(pool, by: int) -> None:
    with _pool_lock:
        pool.setMaxThreadCount(pool.maxThreadCount() + by)


def follow_key(job_id: int) -> str:
    return f"follow-{job_id}"


class Followers(QObject):
    event = Signal(int, object)    # job id, an engine JobEvent
    ended = Signal(int, object)    # job id, the Job once following stopped by itself (done, failed, cancelled)
    failed = Signal(int, object)   # job id, the error that stopped starting or following it

    def __init__(self, ctx, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.secrets = SessionSecrets()
        self._tasks: dict[tuple[str, int], object] = {}   # ("start" | "follow", job id) -> runner Task

    def _parent(self):
        return QApplication.activeWindow() or self.ctx.window

    def busy(self, job_id: int) -> bool:
        """Starting or following `job_id` now."""
        return any(not task.finished.is_set() for (kind, jid), task in self._tasks.items() if jid == job_id)

    def following(self, job_id: int) -> bool:
        task = self._tasks.get(("follow", job_id))
        return task is not None and not task.finished.is_set()

    # -- starting (also resuming) ------------------------------------------------------
    def start(self, job) -> None:
        """engine.jobs.start (connect, set up, upload, start the trainer), then follow."""
        jobs, secrets, job_id = self.ctx.engine.jobs, self.secrets.get(job.host), job.id

        def start(progress, cancel):
            return jobs.start(job_id, secrets, progress, cancel)

        self._tasks[("start", job_id)] = self.ctx.runner.run(
            start, key=f"start-{job_id}", on_progress=while_alive(self, "_emit", job_id),
            on_done=while_alive(self, "_started"), on_error=while_alive(self, "_start_failed", job))

    def _started(self, job) -> None:
        if job.status in ("running", "converting"):
            self.follow(job)
        else:
            self.ended.emit(job.id, job)

    def _start_failed(self, job, exc: BaseException) -> None:
        if ask_to_retry(self._parent(), exc, job.host, self.secrets):
            self.start(job)
            return
        log.info("job %s did not start: %s", job.name, exc)
        self.failed.emit(job.id, exc)

    # -- following ------------------------------------------------------------------------
    def follow(self, job) -> None:
        """Follow `job` until it ends (nothing happens if it is followed already). A lost
        connection is retried inside the engine while the trainer goes on; a question for
        the person (an unknown host key, a passphrase) ends following and is asked."""
        if self.following(job.id):
            return
        jobs, secrets, job_id, pool = self.ctx.engine.jobs, self.secrets.get(job.host), job.id, self.ctx.runner.pool

        def follow(progress, cancel):
            # A follower holds a pool thread for hours: give the pool one more meanwhile.
            _grow(pool, 1)
            try:
                return jobs.follow(job_id, secrets, progress, cancel)
            finally:
                _grow(pool, -1)

        self._tasks[("follow", job_id)] = self.ctx.runner.run(
            follow, key=follow_key(job_id), on_progress=while_alive(self, "_emit", job_id),
            on_done=while_alive(self, "_ended"), on_error=while_alive(self, "_follow_failed", job))

    def _emit(self, job_id: int, progress) -> None:
        self.event.emit(job_id, progress.item)  # the trainer's JobEvent that this Progress carries

    def _ended(self, job) -> None:
        self.ended.emit(job.id, job)

    def _follow_failed(self, job, exc: BaseException) -> None:
        if ask_to_retry(self._parent(), exc, job.host, self.secrets):
            self.follow(job)
        else:   # lost connections are retried inside the engine; what arrives here needs the person
            log.info("not following job %s: %s", job.name, exc)
            self.failed.emit(job.id, exc)

    def stop(self, job_id: int) -> None:
        """Stop starting and following `job_id` here (the trainer goes on)."""
        for kind in ("start", "follow"):
            task = self._tasks.get((kind, job_id))
            if task is not None:
                task.cancel()

    # -- other work on the job's host -------------------------------------------------------
    def cancel(self, job) -> None:
        """Stop the trainer (it saves a checkpoint); `ended` brings the cancelled job."""
        waiting = [t for (_kind, jid), t in self._tasks.items() if jid == job.id]
        self.stop(job.id)

        def cancel(secrets):
            for task in waiting:   # no follower or start may write the job after this
                task.wait(120)
            return self.ctx.engine.jobs.cancel(job.id, secrets)

        self.on_host(job, cancel, "_ended", key=f"cancel-{job.id}")

    def on_host(self, job, fn, on_done, key: str | None = None) -> None:
        """fn(secrets) in the runner, tried again after a host question; errors go to `failed`.
        `on_done` is a callable, or the name of a method of this object."""
        done = while_alive(self, on_done) if isinstance(on_done, str) else on_done
        self.ctx.runner.run(fn, self.secrets.get(job.host), key=key, on_done=done,
                            on_error=while_alive(self, "_host_failed", job, fn, on_done, key))

    def _host_failed(self, job, fn, on_done, key, exc: BaseException) -> None:
        if ask_to_retry(self._parent(), exc, job.host, self.secrets):
            self.on_host(job, fn, on_done, key)
        else:
            self.failed.emit(job.id, exc)
