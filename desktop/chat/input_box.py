"""The question box: Enter sends, Shift+Enter starts a new line, and the Enter that
confirms a Japanese input-method conversion never sends."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QInputMethodEvent, QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from ..i18n import Retranslating

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class ChatInput(Retranslating, QPlainTextEdit):
    submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.composing = False  # an input method holds uncommitted (preedit) text
        self.setTabChangesFocus(True)
        self.retranslate()
        line = self.fontMetrics().lineSpacing()
        self.setMinimumHeight(line * 2 + 12)
        self.setMaximumHeight(line * 5 + 12)

    def retranslate(self) -> None:
        self.setPlaceholderText(self.tr("Ask a question… (Enter sends, Shift+Enter for a new line)"))

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        # Preedit text present = the IME is composing; a commit with no preedit ends it.
        self.composing = bool(event.preeditString())
        super().inputMethodEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in _ENTER:
            if self.composing:
                # This Enter belongs to the input method (it confirms the conversion);
                # it arrives as a commit event, so neither send nor insert a line break.
                event.accept()
                return
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.textCursor().insertText("\n")
                event.accept()
                return
            if not (event.modifiers() & ~(Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ControlModifier)):
                event.accept()
                self.submitted.emit()
                return
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:
        # Qt commits or drops the preedit when focus leaves; either way composing ends.
        self.composing = False
        super().focusOutEvent(event)
