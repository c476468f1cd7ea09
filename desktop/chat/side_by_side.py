"""Side by side: one question, two choices (model, adapter, with or without libraries), both
answers next to each other with their citations, first-token time and speed; the person
marks the better one and saves the pair into a question set the comparison lab runs.

The engine holds one local model at a time, so the answers come one after the other (the
note at the top says so); each streams into its own column as it is written.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QButtonGroup, QDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)

from engine.types import Side

from .. import theme
from ..common import while_alive
from ..i18n import Retranslating
from ..theme import metrics as m
from .chat_options import ChatOptions, OptionsBar
from .input_box import ChatInput
from .message_view import MessageView

log = logging.getLogger(__name__)


def side_of(options: ChatOptions) -> Side:
    return Side(model=options.model, adapter=options.adapter, libraries=tuple(options.libraries),
                adapter_scale=options.adapter_scale)


class SideColumn(Retranslating, QFrame):
    """One side: its choices, the answer as it streams, its times, and "this one is better"."""

    def __init__(self, letter: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.letter = letter
        self.setObjectName("sideColumn")
        self.answer = None          # the engine's Answer once done
        self._finished = None       # its "done" event, for the times in another language
        self.view: MessageView | None = None
        self.options = OptionsBar()
        self.options.prompt_button.hide()   # the question is the same on both sides; so is its framing
        self.title = QLabel()
        self.title.setObjectName("sideTitle")
        self.timing = QLabel()
        self.timing.setWordWrap(True)
        theme.set_role(self.timing, "muted")
        self.better = QPushButton()
        self.better.setCheckable(True)
        self.better.setEnabled(False)
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.area.setFrameShape(QFrame.Shape.NoFrame)
        self.holder = QWidget()
        self.holder_layout = QVBoxLayout(self.holder)
        self.holder_layout.setContentsMargins(0, 0, 0, 0)
        self.holder_layout.addStretch(1)
        self.area.setWidget(self.holder)

        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.timing, 1)
        head.addWidget(self.better)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(m.S, m.S, m.S, m.S)
        layout.setSpacing(m.S)
        layout.addWidget(self.options)
        layout.addLayout(head)
        layout.addWidget(self.area, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr("Answer {letter}").format(letter=self.letter))
        self.better.setText(self.tr("{letter} is better").format(letter=self.letter))
        self.better.setToolTip(self.tr("Mark answer {letter} as the better one").format(letter=self.letter))
        if self._finished is not None:
            self.timing.setText(self._times(self._finished))

    def side(self) -> Side:
        return side_of(self.options.options())

    def begin(self) -> None:
        """A new question: a fresh answer view, waiting for its turn."""
        if self.view is not None:
            self.view.deleteLater()
        self.answer = self._finished = None
        self.view = MessageView("assistant")
        self.view.set_last(False)
        self.holder_layout.insertWidget(0, self.view)
        self.view.start_stream()
        self.view.set_status("streaming")
        self.timing.setText(self.tr("Waiting for the other answer to finish…"))
        self.better.setChecked(False)
        self.better.setEnabled(False)

    def on_event(self, event) -> None:
        view = self.view
        if view is None:
            return
        if event.kind == "start":
            self.timing.setText(self.tr("Loading the model and reading the libraries…"))
        elif event.kind == "sources":
            view.set_sources(event.sources)
        elif event.kind == "token":
            view.append_text(event.text)
            if event.first_token_s is not None:
                self.timing.setText(self.tr("First token after {s} s · writing…").format(
                    s=f"{event.first_token_s:.1f}"))
        elif event.kind == "done":
            self.answer, self._finished = event.answer, event
            view.finish(event.answer)
            self.timing.setText(self._times(event))
            self.better.setEnabled(event.answer is not None and bool(event.answer.text.strip()))
        elif event.kind == "error":
            view.mark_error(event.error or "")
            self.timing.setText(self.tr("No answer."))

    def _times(self, event) -> str:
        parts = []
        if event.first_token_s is not None:
            parts.append(self.tr("first token {s} s").format(s=f"{event.first_token_s:.1f}"))
        speed = (event.answer.stats or {}).get("tokens_per_second") if event.answer else None
        if speed:
            parts.append(self.tr("{rate} tokens/s").format(rate=f"{float(speed):.1f}"))
        parts.append(self.tr("{s} s in all").format(s=f"{event.elapsed_s:.1f}"))
        return " · ".join(parts)

    def stopped(self) -> None:
        if self.view is not None and self.view.streaming:
            self.view.finish(None)
            self.timing.setText(self.tr("Stopped."))


class SideBySideDialog(Retranslating, QDialog):
    """Opened from the chat (Side by side…): side A starts with the chat's own choices."""

    def __init__(self, ctx, question: str = "", first: ChatOptions | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._task = None
        self._question = ""
        self._first = first
        self.saved_path = None
        self.setObjectName("sideBySide")
        self.resize(1240, 780)

        self.note = QLabel()
        self.note.setWordWrap(True)
        theme.set_role(self.note, "muted")
        self.columns = [SideColumn("A"), SideColumn("B")]
        self.marks = QButtonGroup(self)
        self.marks.setExclusive(True)
        for i, column in enumerate(self.columns):
            self.marks.addButton(column.better, i)
        self.marks.idToggled.connect(self._on_mark)
        self.input = ChatInput()
        self.input.setPlainText(question)
        self.ask_button = QPushButton()
        self.ask_button.setProperty("kind", "primary")
        self.save_button = QPushButton()
        self.save_button.setEnabled(False)
        self.saved_label = QLabel()
        self.saved_label.setWordWrap(True)
        self.saved_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.saved_label.hide()
        self.close_button = QPushButton()

        sides = QHBoxLayout()
        sides.setSpacing(m.M)
        for column in self.columns:
            sides.addWidget(column, 1)
        ask_row = QHBoxLayout()
        ask_row.addWidget(self.input, 1)
        ask_row.addWidget(self.ask_button, 0, Qt.AlignmentFlag.AlignBottom)
        bottom = QHBoxLayout()
        bottom.addWidget(self.saved_label, 1)
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(m.L, m.M, m.L, m.M)
        layout.setSpacing(m.S)
        layout.addWidget(self.note)
        layout.addLayout(sides, 1)
        layout.addLayout(ask_row)
        layout.addLayout(bottom)
        self.setTabOrder(self.input, self.ask_button)

        self.input.submitted.connect(self.ask)
        self.ask_button.clicked.connect(self._ask_or_stop)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.close)
        QShortcut(QKeySequence("Alt+1"), self, activated=lambda: self._mark_key(0))
        QShortcut(QKeySequence("Alt+2"), self, activated=lambda: self._mark_key(1))
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.save)
        self.retranslate()
        self._load_choices()
        self.input.setFocus()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Side by side"))
        self.note.setText(self.tr(
            "Ask one question two ways and compare. Bunko holds one local model in memory at a time, so the two "
            "answers are written one after the other (A, then B); a second model's loading time counts in B's "
            "first-token time. Mark the better answer (Alt+1, Alt+2) and save the pair (Ctrl+S): the comparison "
            "lab can run the saved questions."))
        self.save_button.setText(self.tr("Save pair to question set"))
        self.save_button.setToolTip(self.tr("Adds the question with the better answer as its reference to a "
                                            "question set for the comparison lab"))
        self.close_button.setText(self.tr("Close"))
        self._ask_texts()
        self._saved_text()

    def _saved_text(self) -> None:
        if self.saved_path is not None:
            self.saved_label.setText(self.tr("Saved to {path}. Use it in the comparison lab as a question file "
                                             "(bunko compare run --questions {path}).").format(path=str(self.saved_path)))

    def _ask_texts(self) -> None:
        self.ask_button.setText(self.tr("Stop") if self.is_streaming() else self.tr("Ask both"))

    # -- choices --------------------------------------------------------------------
    def _load_choices(self) -> None:
        engine = self.ctx.engine

        def read():
            state = engine.models.loaded()
            return engine.libraries.list(), engine.models.list(), state.model if state else None

        self.ctx.runner.run(read, key="side-by-side-options", on_done=while_alive(self, "_set_choices"))

    def _set_choices(self, loaded) -> None:
        libraries, models, current = loaded
        for column in self.columns:
            column.options.set_choices(libraries, models, current)
        a, b = self.columns[0].options, self.columns[1].options
        first = self._first or a.defaults()
        a.set_options(first)
        # B starts as the other way of answering the same question: without the libraries when A
        # reads them, with every library when A does not.
        b.set_options(ChatOptions(libraries=() if first.libraries else tuple(a.library_names),
                                  model=first.model))

    # -- asking ---------------------------------------------------------------------
    def is_streaming(self) -> bool:
        return self._task is not None

    def _ask_or_stop(self) -> None:
        if self.is_streaming():
            self.stop()
        else:
            self.ask()

    def ask(self) -> None:
        text = self.input.toPlainText().strip()
        if self.is_streaming() or not text:
            return
        self._question = text
        sides = [column.side() for column in self.columns]
        for column in self.columns:
            column.begin()
        self.saved_label.hide()
        self._update_save()
        pairs, settings = self.ctx.engine.lab.side_by_side(), self.ctx.settings.generation()

        def make(cancel):   # on a worker thread
            yield from pairs.stream(text, sides, settings, cancel)

        self._task = self.ctx.runner.stream(make, key="side-by-side", on_item=while_alive(self, "_on_item"),
                                            on_done=while_alive(self, "_on_done"),
                                            on_error=while_alive(self, "_on_error"))
        self._ask_texts()

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel(drop=False)

    def _on_item(self, event) -> None:
        self.columns[event.side].on_event(event)
        if event.kind == "token":
            self.columns[event.side].area.ensureVisible(0, 10**6)
        self._update_save()

    def _on_done(self, _result) -> None:
        for column in self.columns:
            column.stopped()
        self._task = None
        self._ask_texts()
        self._update_save()

    def _on_error(self, exc: BaseException) -> None:
        self._on_done(None)
        self.ctx.show_error(exc, self)

    # -- marking and saving -------------------------------------------------------------
    def _mark_key(self, side: int) -> None:
        button = self.columns[side].better
        if button.isEnabled():
            button.setChecked(True)

    def _on_mark(self, _id: int, _checked: bool) -> None:
        for column in self.columns:   # the chosen one looks chosen, not only focused
            theme.set_role(column.better, "primary" if column.better.isChecked() else None, name="kind")
        self._update_save()

    def better(self) -> int | None:
        chosen = self.marks.checkedId()
        return chosen if chosen in (0, 1) else None

    def _update_save(self) -> None:
        done = all(c.answer is not None for c in self.columns)
        self.save_button.setEnabled(done and self.better() is not None and not self.is_streaming())

    def save(self) -> None:
        if not self.save_button.isEnabled():
            return
        answers = [c.answer for c in self.columns]
        sides = [c.side() for c in self.columns]
        pairs, question, better = self.ctx.engine.lab.side_by_side(), self._question, self.better()
        self.save_button.setEnabled(False)
        self.ctx.runner.run(lambda: pairs.save(question, answers, better, sides), key="side-by-side-save",
                            on_done=while_alive(self, "_saved"), on_error=while_alive(self, "_save_failed"))

    def _saved(self, path) -> None:
        self.saved_path = path
        self._saved_text()
        self.saved_label.show()
        self.ctx.status.emit(self.tr("Saved the marked pair."))

    def _save_failed(self, exc: BaseException) -> None:
        self._update_save()
        self.ctx.show_error(exc, self)

    def done(self, result: int) -> None:
        if self._task is not None:   # closing while answering: stop, and let nothing arrive later
            self._task.cancel(drop=True)
            self._task = None
        super().done(result)

    def closeEvent(self, event) -> None:
        if self._task is not None:
            self._task.cancel(drop=True)
            self._task = None
        super().closeEvent(event)
