"""The conversation as a column of message widgets, one per message, so a streaming
answer updates its own widget and nothing else."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from ..theme import metrics as m
from ..widgets import EmptyState
from .message_view import MessageView

STICK_PX = 24  # this close to the bottom counts as "at the bottom"


class Transcript(QScrollArea):
    """Messages in a centred column no wider than a readable line; questions sit on the
    right in a tinted bubble as wide as their words, answers fill the column."""

    regenerate_requested = Signal(object)   # the answer's MessageView
    edit_submitted = Signal(object, str)    # the question's MessageView, its new text
    citation_opened = Signal(object)        # a CitationPreview just shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        row = QHBoxLayout(inner)
        row.setContentsMargins(m.L, m.M, m.L, m.M)
        self.column = QWidget()
        self.column.setMaximumWidth(self._column_width())
        row.addStretch(1)
        row.addWidget(self.column, 100)
        row.addStretch(1)
        self._layout = QVBoxLayout(self.column)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(m.L)
        self.placeholder = EmptyState("chat")
        self.answerer = ""  # which model will answer and why (set by the chat page)
        self._placeholder_texts()
        self._layout.addWidget(self.placeholder)
        self._layout.addStretch(1)
        self.setWidget(inner)
        self.views: list[MessageView] = []
        self.follow = True  # keep the newest text in sight until the reader scrolls up
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range)
        bar.valueChanged.connect(self._on_scroll)

    def _placeholder_texts(self) -> None:
        text = self.tr("Ask a question about your documents, or just chat.\n"
                       "Enter sends; Shift+Enter starts a new line.")
        self.placeholder.set_texts(self.tr("Ask about your documents"),
                                   text + ("\n\n" + self.answerer if self.answerer else ""))

    def set_answerer(self, text: str) -> None:
        """The empty chat says which model will answer a question and why."""
        self.answerer = text
        self._placeholder_texts()

    def _column_width(self) -> int:
        return self.fontMetrics().averageCharWidth() * m.LINE_CHARS + 2 * m.L

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        for view in self.views:  # a question's bubble width follows the column's
            if view.role == "user":
                view.updateGeometry()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if hasattr(self, "column"):
            self.column.setMaximumWidth(self._column_width())

    # -- following the end -----------------------------------------------------
    def _on_range(self, _low: int, high: int) -> None:
        if self.follow:
            self.verticalScrollBar().setValue(high)

    def _on_scroll(self, value: int) -> None:
        self.follow = value >= self.verticalScrollBar().maximum() - STICK_PX

    def scroll_to_end(self) -> None:
        self.follow = True
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    # -- messages ------------------------------------------------------------------
    def add(self, view: MessageView) -> MessageView:
        view.regenerate_requested.connect(self.regenerate_requested)
        view.edit_submitted.connect(self.edit_submitted)
        view.citation_opened.connect(self.citation_opened)
        align = Qt.AlignmentFlag.AlignRight if view.role == "user" else Qt.AlignmentFlag(0)
        self._layout.insertWidget(self._layout.count() - 1, view, 0, align)
        self.views.append(view)
        self.placeholder.hide()
        self._mark_last()
        return view

    def remove_after(self, view: MessageView | None) -> None:
        """Drop every message after `view` (all of them for None)."""
        keep = self.views.index(view) + 1 if view is not None else 0
        for old in self.views[keep:]:
            self._layout.removeWidget(old)
            old.deleteLater()
        del self.views[keep:]
        self.placeholder.setVisible(not self.views)
        self._mark_last()

    def clear(self) -> None:
        self.remove_after(None)
        self.follow = True

    def last_answer(self) -> MessageView | None:
        return next((v for v in reversed(self.views) if v.role == "assistant"), None)

    def set_busy(self, busy: bool) -> None:
        for view in self.views:
            view.set_busy(busy)

    def _mark_last(self) -> None:
        last = self.last_answer()
        for view in self.views:
            view.set_last(view is last and view is self.views[-1])
