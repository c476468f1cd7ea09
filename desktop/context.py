"""What every page of the window shares: the engine, the runner, settings, and one
signal that tells pages when something shared changed, and what."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from engine.api import BunkoError, Engine, log_dir

from .runner import Runner
from .settings import Settings

log = logging.getLogger(__name__)


def as_plain(text: str) -> str:
    """`text` for a message box, shown as written: Qt would render a line holding a tag
    (<img>, <a>, a table) as rich text, and error texts quote servers and file names."""
    return "<p style='white-space:pre-wrap'>" + html.escape(text, quote=False) + "</p>"


KINDS = ("libraries", "models", "model", "conversations")


@dataclass(frozen=True)
class Change:
    """Something shared changed. `kind`: libraries, models (added or removed), model (the one in
    memory; `state` is its ModelState, or None), conversations."""
    kind: str
    state: Any = None


class _Listener(QObject):
    """Calls a page's slot for the kinds of change it cares about; a child of the page, so the
    connection ends with the page."""

    def __init__(self, parent: QObject, kinds: tuple[str, ...], slot: Callable, with_state: bool) -> None:
        super().__init__(parent)
        self.kinds, self.slot, self.with_state = kinds, slot, with_state

    @Slot(object)
    def on_change(self, change: Change) -> None:
        if change.kind in self.kinds:
            self.slot(change.state) if self.with_state else self.slot()


class AppContext(QObject):
    changed = Signal(object)             # a Change
    indexing = Signal(object)            # engine IndexProgress, for the status bar
    status = Signal(str)                 # a short message for the status bar
    chat_with_adapter = Signal(str, str)  # base model, adapter: open a new chat answering with them

    def __init__(self, engine: Engine, settings: Settings, runner: Runner | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.settings = settings
        self.runner = runner or Runner(on_error=self.show_error)
        self.window: QWidget | None = None
        self.closing = False   # set once the app shuts down: late errors are logged, not shown

    def notify(self, kind: str, state: Any = None) -> None:
        """Tell every page that `kind` changed (see Change)."""
        assert kind in KINDS, kind
        self.changed.emit(Change(kind, state))

    def listen(self, kinds: str | tuple[str, ...], slot: Callable, receiver: QObject | None = None,
               with_state: bool = False) -> None:
        """Call `slot` (with the Change's `state` if `with_state`) when one of `kinds` changes,
        for as long as `receiver` (by default the slot's own widget) lives."""
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        owner = receiver or getattr(slot, "__self__", None)
        listener = _Listener(owner if isinstance(owner, QObject) else self, kinds, slot, with_state)
        self.changed.connect(listener.on_change)

    def shut_down(self, timeout_s: float) -> bool:
        """The app (or a test's window) is going away: cancel the background work and wait for
        it; an error that still arrives is logged, since nobody is there to read a message box."""
        self.closing = True
        return self.runner.shutdown(timeout_s)

    def show_error(self, exc: BaseException, parent: QWidget | None = None) -> None:
        """An engine error as its own words; anything else as "something went wrong"."""
        if self.closing:
            # A page's late work after the engine closed (a refresh on a language change while
            # the window goes away): nobody is there to read a message box.
            log.info("after closing, not shown: %s: %s", type(exc).__name__, exc)
            return
        parent = parent or self.window
        if isinstance(exc, BunkoError):
            log.info("shown to the user: %s", exc)
            QMessageBox.warning(parent, self.tr("Bunko"), as_plain(str(exc)))
            return
        log.error("unexpected error", exc_info=exc)
        QMessageBox.critical(
            parent, self.tr("Something went wrong"),
            as_plain(self.tr("Bunko hit an unexpected problem and stopped that task; the app keeps running.\n\n"
                             "{error}\n\nThe details are in the log: {log}").format(
                error=f"{type(exc).__name__}: {exc}", log=str(log_dir() / "bunko.log"))))
