"""One message of the transcript: its text (Markdown for answers), its citations and
its actions.

A streaming answer must not get slower as it grows. Re-rendering the whole
Markdown per update costs ~1 ms at 100 tokens and ~18 ms at 2,000, so the
streaming text is kept as finished blocks, each rendered once into its own small
document when a blank line (outside code) closes it, plus a live tail that is
re-rendered on each update while short and appended as plain text when long.
`finish()` renders the whole answer once into a single document.
"""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QMessageBox, QPlainTextEdit, QPushButton,
                               QToolButton, QVBoxLayout, QWidget)

from engine.types import Answer, Source

from .. import theme
from ..common import local_time
from ..theme import metrics as m
from ..widgets.flow import FlowLayout

from .chips import chip_preview, chip_text
from .citation_preview import CitationPreview
from .markdown import CITE_SCHEME, BlockSplitter, link_citations
from .message_body import MessageBody

log = logging.getLogger(__name__)

FLUSH_MS = 50               # tokens arriving within this time are shown together
TAIL_MARKDOWN_MAX = 1500    # a longer unfinished block is shown as plain text until it closes


class MessageView(QFrame):
    regenerate_requested = Signal(object)       # this view
    edit_submitted = Signal(object, str)        # this view, the new question
    citation_opened = Signal(object)            # the CitationPreview shown

    def __init__(self, role: str, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.status = "complete"
        self.sources: tuple[Source, ...] = ()
        self.cited: tuple[int, ...] = ()
        self.inferred = False
        self.chips: list[QPushButton] = []
        self.source_buttons: list[QPushButton] = []
        self.preview: CitationPreview | None = None
        self._text = text
        self.setObjectName("userMessage" if role == "user" else "assistantMessage")

        self.header = QLabel(self.tr("You") if role == "user" else self.tr("Bunko"))
        self.header.setObjectName("messageHeader")
        self.meta_label = QLabel()        # model, where it ran, speed, time: quietly, under the answer
        self.meta_label.setObjectName("messageMeta")
        self.meta_label.setWordWrap(True)
        self.meta_label.hide()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.hide()
        self.notice_label = QLabel()  # why the answer is shorter than asked, or which model can answer
        self.notice_label.setWordWrap(True)
        self.notice_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice_label.setStyleSheet("color: palette(mid); font-style: italic;")
        self.notice_label.hide()
        self.body = MessageBody()
        self.body.anchorClicked.connect(self._on_link)

        # streaming: finished blocks, then the live tail
        self._stream = QWidget()
        self._stream_layout = QVBoxLayout(self._stream)
        self._stream_layout.setContentsMargins(0, 0, 0, 0)
        self._stream_layout.setSpacing(0)
        self._stream.hide()
        self._tail: MessageBody | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)

        self._build_citations()
        self._build_editor()
        self._build_actions()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(m.L, m.S + 2, m.L, m.XS + 2)
        layout.setSpacing(m.XS)
        layout.addWidget(self.header)
        layout.addWidget(self.body)
        layout.addWidget(self._stream)
        layout.addWidget(self.editor_box)
        layout.addWidget(self.notice_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.citations_box)
        footer = QHBoxLayout()
        footer.setSpacing(m.S)
        footer.addWidget(self.meta_label, 1)
        footer.addLayout(self.actions)
        layout.addLayout(footer)
        self._paint_icons()
        theme.notifier().changed.connect(self._paint_icons)
        if role == "user":
            self.body.setPlainText(text)
        else:
            self.body.set_markdown(link_citations(text, set()))

    # -- building --------------------------------------------------------------
    def _build_citations(self) -> None:
        self.citations_box = QWidget()
        box = QVBoxLayout(self.citations_box)
        box.setContentsMargins(0, 2, 0, 0)
        box.setSpacing(2)
        self.chips_row = FlowLayout(spacing=m.XS + 2)  # wraps: a chip is never cut by the message's edge
        self.inferred_label = QLabel(self.tr("The model did not cite; these sources match its words"))
        self.inferred_label.setWordWrap(True)
        theme.set_role(self.inferred_label, "caption")
        self.sources_toggle = QToolButton()
        self.sources_toggle.setCheckable(True)
        self.sources_toggle.setAutoRaise(True)
        self.sources_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.sources_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.sources_toggle.toggled.connect(self._toggle_sources)
        self.sources_list = QWidget()
        self._sources_layout = QVBoxLayout(self.sources_list)
        self._sources_layout.setContentsMargins(16, 0, 0, 0)
        self._sources_layout.setSpacing(0)
        self.sources_list.hide()
        box.addLayout(self.chips_row)
        box.addWidget(self.inferred_label)
        box.addWidget(self.sources_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        box.addWidget(self.sources_list)
        self.citations_box.hide()

    def _build_editor(self) -> None:
        self.editor_box = QWidget()
        self.editor = QPlainTextEdit()
        self.editor.setMaximumHeight(120)
        self.resend_button = QPushButton(self.tr("Send again"))
        self.resend_button.clicked.connect(self._resend)
        cancel = QPushButton(self.tr("Cancel"))
        cancel.clicked.connect(self.cancel_edit)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(cancel)
        row.addWidget(self.resend_button)
        box = QVBoxLayout(self.editor_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.editor)
        box.addLayout(row)
        self.editor_box.hide()

    def _build_actions(self) -> None:
        self.actions = QHBoxLayout()
        self.actions.setSpacing(m.XS)
        self.copy_button = self._action(self.tr("Copy"), self.tr("Copy this message"), self.copy)
        self.regenerate_button = self._action(self.tr("Regenerate"), self.tr("Answer this question again"),
                                              lambda: self.regenerate_requested.emit(self))
        self.edit_button = self._action(self.tr("Edit"), self.tr("Change this question and send it again"),
                                        self.start_edit)
        self.regenerate_button.setVisible(False)
        self.edit_button.setVisible(self.role == "user")
        self.actions.insertStretch(0, 1)

    def _paint_icons(self, *_args) -> None:
        for button, name in ((self.copy_button, "copy"), (self.regenerate_button, "regenerate"),
                             (self.edit_button, "edit")):
            button.setIcon(theme.icon(name))

    def _action(self, text: str, tip: str, slot) -> QToolButton:
        """An icon button; its words are the tooltip and the accessible name."""
        button = QToolButton()
        button.setText(text)
        button.setAccessibleName(text)
        button.setToolTip(f"{text}: {tip}")
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        button.setIconSize(QSize(16, 16))
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        self.actions.addWidget(button)
        return button

    def sizeHint(self):
        """A question's bubble is as wide as its longest line (the transcript aligns it right),
        at most most of the column; an answer takes the whole column."""
        hint = super().sizeHint()
        if self.role != "user":
            return hint
        metrics = self.body.fontMetrics()
        words = max((metrics.horizontalAdvance(line) for line in self._text.split("\n")), default=0)
        margins = self.layout().contentsMargins()
        width = words + 2 * int(self.body.document().documentMargin()) + margins.left() + margins.right() + 4
        column = self.parentWidget().width() if self.parentWidget() is not None else width
        hint.setWidth(max(min(width, int(column * 0.85)), 12 * metrics.averageCharWidth()))
        return hint

    # -- what it shows ------------------------------------------------------------
    @property
    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        """A question's new words (after edit-and-resend)."""
        self._text = text
        if self.role == "user":
            self.body.setPlainText(text)
            self.updateGeometry()
        else:
            self.body.set_markdown(link_citations(text, self._valid()))

    def set_model(self, model: str | None, adapter: str | None = None) -> None:
        if self.role == "assistant" and model:
            self._model = f"{model} + {adapter}" if adapter else model
            self._show_meta()

    def set_meta(self, stats: dict | None = None, when=None) -> None:
        """Where the answer ran, how fast, and when: shown small under the answer."""
        self._stats, self._when = dict(stats or {}), when
        self._show_meta()

    def _show_meta(self) -> None:
        stats, parts = getattr(self, "_stats", {}), []
        if getattr(self, "_model", None):
            parts.append(self._model)
        ran_on = stats.get("ran_on")
        if ran_on:
            parts.append(self.tr("CPU") if ran_on == "CPU" else self.tr("GPU ({layers})").format(layers=ran_on))
        speed = stats.get("tokens_per_second")
        if speed:
            parts.append(self.tr("{rate} tokens/s").format(rate=f"{float(speed):.1f}"))
        when = getattr(self, "_when", None)
        if when is not None:
            parts.append(local_time(when))
        self.meta_label.setText(" · ".join(parts))
        self.meta_label.setVisible(bool(parts))

    def set_status(self, status: str, detail: str = "") -> None:
        self.status = status
        texts = {"streaming": self.tr("Answering…"), "stopped": self.tr("Stopped before the end."),
                 "error": self.tr("This answer failed: {reason}").format(reason=detail) if detail
                 else self.tr("This answer failed.")}
        self.status_label.setText(texts.get(status, ""))
        theme.set_role(self.status_label, "error" if status == "error" else "muted")
        self.status_label.setVisible(status in texts)

    def set_last(self, last: bool) -> None:
        """Only the last answer can be regenerated."""
        self.regenerate_button.setVisible(self.role == "assistant" and last)

    def set_busy(self, busy: bool) -> None:
        """While an answer streams, nothing else may be regenerated or resent."""
        self.regenerate_button.setEnabled(not busy)
        self.edit_button.setEnabled(not busy)
        self.resend_button.setEnabled(not busy)

    def set_citations(self, sources, cited, inferred: bool = False) -> None:
        """Chips for the cited sources, and every source given to the model under "Sources"."""
        self.sources, self.cited, self.inferred = tuple(sources), tuple(cited), bool(inferred)
        for chip in self.chips:
            self.chips_row.removeWidget(chip)
        for button in self.chips + self.source_buttons:
            button.deleteLater()
        self.chips, self.source_buttons = [], []
        by_number = {s.number: s for s in self.sources}
        for n in self.cited:
            if n in by_number:
                chip = QPushButton()
                chip.setObjectName("citationChip")
                chip.ensurePolished()  # the chip's own (caption) font measures its text
                chip.setText(chip_text(by_number[n], chip.fontMetrics()))
                chip.setToolTip(chip_preview(by_number[n]))
                chip.setAccessibleName(by_number[n].label)
                chip.clicked.connect(lambda _=False, n=n: self.open_citation(n))
                self.chips_row.addWidget(chip)
                self.chips.append(chip)
        for source in self.sources:
            button = QPushButton(f"[{source.number}] {source.label}")
            button.setObjectName("sourceLink")
            button.setToolTip(chip_preview(source))
            button.clicked.connect(lambda _=False, n=source.number: self.open_citation(n))
            self._sources_layout.addWidget(button)
            self.source_buttons.append(button)
        self.inferred_label.setVisible(self.inferred and bool(self.chips))
        self.sources_toggle.setText(self.tr("Sources ({n})").format(n=len(self.sources)))
        self.sources_toggle.setVisible(bool(self.sources))
        self.citations_box.setVisible(bool(self.sources))

    def _toggle_sources(self, shown: bool) -> None:
        self.sources_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.sources_list.setVisible(shown)

    def _valid(self) -> set[int]:
        return {s.number for s in self.sources}

    # -- streaming ---------------------------------------------------------------
    def start_stream(self) -> None:
        self._text = ""
        self._splitter = BlockSplitter()
        self._done = 0                # text rendered into finished blocks
        self._tail_plain_upto = None  # while the tail is plain: how much of the text it holds
        self._tail = MessageBody()
        self._tail.anchorClicked.connect(self._on_link)
        self._tail.hide()
        self._stream_layout.addWidget(self._tail)
        self.body.hide()
        self._stream.show()
        self.set_status("streaming")
        self.set_busy(True)

    def set_sources(self, sources) -> None:
        self.sources = tuple(sources)

    def append_text(self, piece: str) -> None:
        """Add streamed text; it is shown within FLUSH_MS (or at `flush()`)."""
        if self._tail is None:
            self.start_stream()
        self._text += piece
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Show what arrived since the last update. Costs O(new text + one block), not O(answer)."""
        if self._timer.isActive():
            self._timer.stop()
        if self._tail is None:
            return
        text = self._text
        safe = self._splitter.feed(text)
        if safe > self._done:
            block = MessageBody()
            block.anchorClicked.connect(self._on_link)
            block.set_markdown(link_citations(text[self._done:safe], self._valid()))
            self._stream_layout.insertWidget(self._stream_layout.count() - 1, block)
            self._done = safe
            self._tail_plain_upto = None
        tail = text[self._done:]
        if len(tail) <= TAIL_MARKDOWN_MAX:
            self._tail.set_markdown(link_citations(tail, self._valid()))
        elif self._tail_plain_upto is None:
            self._tail.setPlainText(tail)
            self._tail_plain_upto = len(text)
        else:
            self._tail.append_plain(text[self._tail_plain_upto:])
            self._tail_plain_upto = len(text)
        shown = bool(tail.strip())
        if self._tail.isHidden() == shown:
            self._tail.setVisible(shown)

    def finish(self, answer: Answer | None = None) -> None:
        """The answer is complete or stopped: render it once, whole, with its citations."""
        self._timer.stop()
        if answer is not None:
            self._text = answer.text
            self.set_model(answer.model, answer.adapter)
            self.set_meta(answer.stats, datetime.now())
            self.set_citations(answer.sources, answer.citations, answer.inferred)
            self.set_notices(answer.notices)
        self._end_stream()
        self.body.set_markdown(link_citations(self._text, self._valid()))
        self.set_status(answer.status if answer is not None else "stopped")
        self.set_busy(False)

    def set_notices(self, notices) -> None:
        """The engine's notes on this answer (see engine.types.Answer.notices), in the app's language."""
        lines = [self._notice_text(n) for n in notices or ()]
        self.notice_label.setText("\n".join(lines))
        self.notice_label.setVisible(bool(lines))

    def _notice_text(self, notice: dict) -> str:
        kind = notice.get("kind")
        if kind == "repetition":
            return self.tr("The model began repeating itself, so the answer was stopped there.")
        if kind == "left_out":
            why = notice.get("reason")
            if why == "refused":
                return self.tr("The model's own text was left out: it said the sources do not answer this, "
                               "yet the quoted sentence comes from them; check the quote against the question.")
            if why in ("chinese", "english", "japanese"):
                return self.tr("The model's own text was left out: it was not written in the question's language.")
            if why == "repeats":
                return self.tr("The model's own text was left out: it only repeated the quoted sentence.")
            return self.tr("The model's own text was left out: it added nothing to the quoted sentence, "
                           "or did not agree with it.")
        if kind == "foreign":
            return self.tr("Parts of this answer are not in the question's language; the model may have "
                           "misread the sources. A larger model answers better (see the Models page).")
        if kind == "language":
            text = self.tr("The model {model} cannot write Japanese, so it was not asked.").format(
                model=notice.get("model", ""))
            if notice.get("suggest"):
                return text + " " + self.tr("Choose {model} as the chat model above.").format(model=notice["suggest"])
            return text + " " + self.tr("Install a Japanese-capable model: {command}").format(
                command=notice.get("install") or "")
        if kind == "crashed":
            return self.tr("The model {model} stopped unexpectedly; what it had written is kept, and Bunko "
                           "starts it again for your next question. The app itself is unaffected.").format(
                model=notice.get("model", "")) + "\n" + str(notice.get("text", ""))
        if kind == "interrupted":
            return self.tr("The connection to the model's server dropped during the answer; what came is "
                           "kept. Ask again: Bunko reconnects.")
        return str(notice.get("text", ""))

    def mark_error(self, reason: str) -> None:
        """The engine failed: keep what came, and say so."""
        self._timer.stop()
        self._end_stream()
        self.body.set_markdown(link_citations(self._text, self._valid()))
        self.set_status("error", reason)
        self.set_busy(False)

    def _end_stream(self) -> None:
        while self._stream_layout.count():
            item = self._stream_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._tail = None
        self._stream.hide()
        self.body.show()

    @property
    def streaming(self) -> bool:
        return self._tail is not None

    # -- actions -------------------------------------------------------------------
    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self._text)

    def start_edit(self) -> None:
        self.editor.setPlainText(self._text)
        self.editor_box.show()
        self.body.hide()
        self.editor.setFocus()

    def cancel_edit(self) -> None:
        self.editor_box.hide()
        self.body.show()

    def _resend(self) -> None:
        text = self.editor.toPlainText().strip()
        if not text:
            return
        self.cancel_edit()
        self.set_text(text)
        self.edit_submitted.emit(self, text)

    def _on_link(self, url: QUrl) -> None:
        """A citation opens its preview; a web address opens after the person agrees (the model may
        have been steered into writing it); anything else (file:, javascript:, …) never opens."""
        if url.scheme() == CITE_SCHEME:
            try:
                self.open_citation(int(url.path()))
            except ValueError:
                log.debug("not a citation link: %s", url.toString())
        elif url.scheme() in ("http", "https") and url.host():
            answer = QMessageBox.question(
                self, self.tr("Open a web page?"),
                self.tr("The answer links to this address. Open it in your web browser?\n\n{url}").format(
                    url=url.toDisplayString()),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer == QMessageBox.StandardButton.Yes:
                QDesktopServices.openUrl(url)
        else:
            log.info("a link with the scheme %r in an answer was not opened", url.scheme())

    def open_citation(self, number: int) -> CitationPreview | None:
        source = next((s for s in self.sources if s.number == number), None)
        if source is None:
            return None
        self.preview = CitationPreview(source, self._text, self.window())
        self.preview.setWindowFlag(Qt.WindowType.Window, True)
        self.preview.show()
        self.citation_opened.emit(self.preview)
        return self.preview
