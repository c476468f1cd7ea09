"""One indexing run at a time, with a queue behind it, pause and cancel.

The engine's index is incremental and resumable, so pausing is simply
cancelling the run and resuming is starting it again. A new run starts only
after the previous one has really ended (its result came back), so two runs
never work on the same library at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from engine.api import HostSpec
from engine.types import IndexProgress, IndexResult

from ..finetune.host_dialogs import SessionSecrets
from .embed_host import host_for

log = logging.getLogger(__name__)


class IndexQueue(QObject):
    started = Signal(str)              # library name
    progress = Signal(object)          # IndexProgress
    finished = Signal(str, object)     # name, IndexResult (result.cancelled after pause or cancel)
    failed = Signal(str, object, bool)  # name, exception, quiet (started by watch or at start-up)
    paused = Signal(str)
    stopping = Signal()
    idle = Signal()

    def __init__(self, ctx, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.waiting: list[tuple[str, bool]] = []   # (name, quiet)
        self.current: str | None = None
        self.paused_name: str | None = None
        self.stopped: set[str] = set()     # cancelled by the user: watch leaves them alone
        self.rebuild: set[str] = set()     # re-embed these from scratch (the user agreed)
        self.quiet = False                 # the current run was started by watch or at start-up
        self._task = None
        self._stop: str | None = None      # "pause" | "cancel" while the current run winds down
        self._after: list[Callable[[], None]] = []
        self._closed = False
        self.secrets = SessionSecrets()    # accepted host keys and passphrases, this run of the app only
        self.hosts: dict[str, HostSpec | None] = {}  # the GPU server each library's last run embedded on
        self._rebuilding = False           # the current run re-embeds everything (the user agreed)

    # -- questions -------------------------------------------------------------
    def busy(self, name: str | None = None) -> bool:
        """Running, queued or paused (for `name`, or for any library)."""
        if name is None:
            return self.current is not None or bool(self.waiting) or self.paused_name is not None
        return name == self.current or name == self.paused_name or any(n == name for n, _ in self.waiting)

    def running(self) -> bool:
        return self.current is not None or bool(self.waiting)

    # -- orders ------------------------------------------------------------------
    def enqueue(self, name: str, quiet: bool = False, rebuild: bool = False) -> None:
        """Index `name` after what is already queued. A request from the user (not
        quiet) also ends a pause: asking for indexing means "go". `rebuild`: embed every
        file again (after the user agreed to a change of embedder)."""
        if self._closed:
            return
        if rebuild and not quiet:
            self.rebuild.add(name)
        if not quiet:
            self.stopped.discard(name)
            if self.paused_name is not None:
                self.resume()
        elif name in self.stopped or self.paused_name is not None:
            return
        if name == self.current and self._stop is None:
            if not quiet and self.quiet:  # the user asks for the run that watch started: show it
                self.quiet = False
                self.started.emit(name)
        elif all(n != name for n, _ in self.waiting):
            self.waiting.append((name, quiet))
        elif not quiet:  # already queued: the user's request is not quiet any more
            self.waiting = [(n, q and n != name) for n, q in self.waiting]
        self._next()

    def pause(self) -> None:
        if self.current is None or self._stop is not None:
            return
        self._stop = "pause"
        self._task.cancel(drop=False)  # the result still arrives, so we know when it ended
        self.stopping.emit()

    def resume(self) -> None:
        name, self.paused_name = self.paused_name, None
        if name is not None and all(n != name for n, _ in self.waiting):
            self.waiting.insert(0, (name, False))
        self._next()

    def cancel(self) -> None:
        """Stop the run and everything queued; a paused library stays as it is, stopped."""
        for name, _ in self.waiting:
            self.stopped.add(name)
        self.waiting.clear()
        if self.paused_name is not None:
            self.stopped.add(self.paused_name)
            self.paused_name = None
        if self.current is not None and self._stop != "cancel":
            self.stopped.add(self.current)
            self._stop = "cancel"
            self._task.cancel(drop=False)
            self.stopping.emit()
        elif self.current is None:
            self.idle.emit()

    def forget(self, name: str, then: Callable[[], None]) -> None:
        """Drop `name` from the queue and call `then` once no run works on it (before removing it)."""
        self.waiting = [(n, q) for n, q in self.waiting if n != name]
        self.stopped.discard(name)
        if self.paused_name == name:
            self.paused_name = None
        if self.current == name:
            self._after.append(then)
            if self._stop is None:
                self._stop = "cancel"
                self._task.cancel(drop=False)
                self.stopping.emit()
        else:
            then()
        self._next()

    def shutdown(self) -> None:
        """Closing the app: stop at once and start nothing more."""
        self._closed = True
        self.waiting.clear()
        if self._task is not None:
            self._task.cancel()

    # -- the run ---------------------------------------------------------------
    def _next(self) -> None:
        if self._closed or self.current is not None or self.paused_name is not None:
            return
        if not self.waiting:
            self.idle.emit()
            return
        name, self.quiet = self.waiting.pop(0)
        self.current, self._stop = name, None
        self.started.emit(name)
        rebuild = name in self.rebuild
        self.rebuild.discard(name)
        # the user's GPU server, if chosen for it, for runs the user starts; watched folders
        # and the start-up pass embed here (no SSH opened, no server needed, nobody asked)
        host = None if self.quiet else host_for(self.ctx.settings, name)
        self.hosts[name], self._rebuilding = host, rebuild
        there = {"host": host, "secrets": self.secrets.get(host),
                 "say": lambda text: log.info("%s: %s", name, text)} if host else {}
        self._task = self.ctx.runner.run(self.ctx.engine.libraries.index, name, rebuild=rebuild, **there,
                                         on_progress=self._on_progress,
                                         on_done=self._on_done, on_error=self._on_error, key=f"index:{name}")

    def _on_progress(self, p: IndexProgress) -> None:
        if self._stop is None:
            self.progress.emit(p)

    def _end(self) -> tuple[str, str | None]:
        name, stop = self.current, self._stop
        self.current, self._task, self._stop = None, None, None
        after, self._after = self._after, []
        for then in after:
            then()
        return name, stop

    def _on_done(self, result: IndexResult) -> None:
        name, stop = self._end()
        if stop == "pause" and result.cancelled:
            self.paused_name = name
            self.paused.emit(name)
        self.finished.emit(name, result)
        self._next()

    def _on_error(self, exc: BaseException) -> None:
        quiet = self.quiet
        name, stop = self._end()
        if stop is not None:  # cancelled while starting: not an error
            log.info("indexing %s stopped: %s", name, exc)
            if stop == "pause":
                self.paused_name = name
                self.paused.emit(name)
            self.finished.emit(name, IndexResult(name, cancelled=True))
        else:
            if self._rebuilding:   # still to do: a retry (after a host key question) rebuilds too
                self.rebuild.add(name)
            self.failed.emit(name, exc, quiet)
        self._next()
