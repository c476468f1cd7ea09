"""The first-run guide on the Chat page: what Bunko needs before it can answer, in
three steps that tick themselves off (a library, a model that writes Japanese, a
first question), and the line that says which model will answer and why.

Not a modal wizard: the chat works underneath, and the guide can be hidden. Hiding
it, or finishing all three steps, is remembered in the settings."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.types import CatalogRow, ModelAdvice

from . import theme
from .common import human_size, while_alive
from .i18n import Retranslating
from .theme import metrics as m

log = logging.getLogger(__name__)

DISMISSED_KEY = "first_run/dismissed"
DONE_KEY = "first_run/done"


def answerer_text(advice: ModelAdvice | None) -> str:
    """One sentence: the model that answers a question when none is chosen, and why."""
    if not advice or not advice.model:
        return QCoreApplication.translate("ModelAdvice", "No chat model is ready yet: get one on the Models page.")
    model, reason, other = advice.model, advice.reason, advice.japanese_model
    if reason == "routed":
        return QCoreApplication.translate(
            "ModelAdvice", "{model} will answer English questions (the default); Japanese questions go to {other}, "
            "because {model} cannot write Japanese.").format(model=model, other=other)
    if reason == "loaded" and other:
        why = QCoreApplication.translate(
            "ModelAdvice", "it is loaded now; Japanese questions go to {other}, because it cannot write Japanese"
        ).format(other=other)
    elif reason == "loaded":
        why = (QCoreApplication.translate("ModelAdvice", "it is loaded now") if advice.japanese else
               QCoreApplication.translate("ModelAdvice", "it is loaded now, but it cannot write Japanese"))
    elif reason == "default":
        why = (QCoreApplication.translate("ModelAdvice", "the default, writes Japanese and English")
               if "en" in advice.languages else
               QCoreApplication.translate("ModelAdvice", "the default, writes Japanese"))
    else:
        why = QCoreApplication.translate("ModelAdvice", "the default, but it cannot write Japanese")
    return QCoreApplication.translate("ModelAdvice", "{model} will answer: {why}.").format(model=model, why=why)


def answerer_with_fix(advice: ModelAdvice | None) -> str:
    """answerer_text, and where no installed model writes Japanese, what to do about it."""
    text = answerer_text(advice)
    if advice and not advice.japanese_ready:
        text += " " + QCoreApplication.translate(
            "ModelAdvice", "For Japanese questions, get a Japanese-capable model (Models → Get models…).")
    return text


def recommendation_text(row: CatalogRow | None) -> str:
    """The catalog model suggested for this computer, in one sentence."""
    if not row:
        return QCoreApplication.translate(
            "ModelAdvice", "No catalog model fits this computer's memory; a small GGUF model can be added from a file.")
    speed = row.tokens_per_s
    return QCoreApplication.translate(
        "ModelAdvice", "Recommended for this computer: {name} ({quant}, {size}, about {speed} tokens/s on {where})."
    ).format(name=row.name, quant=row.quant, size=human_size(row.size),
             speed=f"{speed:.0f}" if speed else "?", where=row.where or "CPU")


class _Step(QWidget):
    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.done = False
        self.mark = QLabel()
        self.mark.setFixedWidth(self.fontMetrics().horizontalAdvance("✓") * 3)
        self.mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.button = QPushButton()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(m.S)
        row.addWidget(self.mark, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.text, 1, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)
        self.set_done(False)

    def set_done(self, done: bool) -> None:
        self.done = done
        self.mark.setText("✓" if done else str(self.number))
        self.mark.setAccessibleName("done" if done else f"step {self.number}")
        theme.set_role(self.mark, "success" if done else "muted")


class FirstRunGuide(Retranslating, QFrame):
    add_folder = Signal()
    get_models = Signal()
    sample_question = Signal(str)    # put this text in the question box

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("banner")
        self.state: dict = {}
        self.title = QLabel()
        theme.set_role(self.title, "subtitle")
        self.hide_button = QPushButton()
        self.hide_button.clicked.connect(self.dismiss)
        self.library, self.model, self.question = _Step(1), _Step(2), _Step(3)
        self.library.button.setProperty("kind", "primary")
        self.library.button.clicked.connect(self.add_folder)
        self.model.button.clicked.connect(self.get_models)
        self.question.button.clicked.connect(lambda: self.sample_question.emit(self.sample()))
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.hide_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(m.M, m.S, m.M, m.S)
        column.setSpacing(m.S)
        column.addLayout(head)
        for step in (self.library, self.model, self.question):
            column.addWidget(step)
        # Shown once what exists is known, and only if something is missing: a user who already
        # has it all (an update from an older Bunko) never sees it flash by.
        self._incomplete_seen = False
        self.hide()
        self.retranslate()
        ctx.listen(("libraries", "models", "conversations", "model"), self.refresh)

    def wanted(self) -> bool:
        settings = self.ctx.settings
        return not (settings.get(DISMISSED_KEY, False, bool) or settings.get(DONE_KEY, False, bool))

    def sample(self) -> str:
        return self.tr("What are the main points of these documents?")

    def dismiss(self) -> None:
        self.ctx.settings.set(DISMISSED_KEY, True)
        self.hide()

    # -- state -------------------------------------------------------------------------
    def refresh(self, *_args) -> None:
        """Read what exists (libraries, models, conversations) in the background."""
        if not self.wanted():
            self.hide()
            return
        engine = self.ctx.engine

        def read():
            return {"libraries": [lib.name for lib in engine.libraries.list()], "advice": engine.chat.model_advice(),
                    "asked": bool(engine.conversations.list(limit=1))}

        self.ctx.runner.run(read, key="first-run", on_done=while_alive(self, "show_state"),
                            on_error=lambda exc: log.warning("first-run guide: %s", exc))

    def show_state(self, state: dict) -> None:
        self.state = state
        self.retranslate()
        if all(step.done for step in (self.library, self.model, self.question)):
            self.ctx.settings.set(DONE_KEY, True)  # the next start goes straight to the chat
        else:
            self._incomplete_seen = True
        # Finished in this session: it stays, all ticked, until hidden.
        self.setVisible(self._incomplete_seen and not self.ctx.settings.get(DISMISSED_KEY, False, bool))

    def retranslate(self) -> None:
        state = self.state
        self.title.setText(self.tr("Getting started"))
        self.hide_button.setText(self.tr("Hide guide"))
        libraries = state.get("libraries") or []
        self.library.set_done(bool(libraries))
        self.library.text.setText(
            self.tr("A library is ready: {name}.").format(name=libraries[0]) if libraries else
            self.tr("Add a folder of documents. Bunko reads and indexes it on this computer."))
        self.library.button.setText(self.tr("Add folder…"))
        self.library.button.setVisible(not libraries)

        advice = state.get("advice")
        ready = bool(advice and advice.japanese_ready)
        self.model.set_done(ready)
        if advice is None:
            self.model.text.setText(self.tr("Checking the models…"))
        elif ready:
            self.model.text.setText(answerer_text(advice))
        else:
            self.model.text.setText(self.tr("Get a model that writes Japanese. {answerer} {recommended}").format(
                answerer=answerer_text(advice), recommended=recommendation_text(advice.recommended if advice else None)))
        self.model.button.setText(self.tr("Get models…"))
        self.model.button.setVisible(advice is not None and not ready)
        self.model.button.setProperty("kind", "primary" if libraries and not ready else "")

        asked = bool(state.get("asked"))
        self.question.set_done(asked)
        self.question.text.setText(self.tr("You asked your first question.") if asked else
                                   self.tr("Ask a question, for example: {sample}").format(sample=self.sample()))
        self.question.button.setText(self.tr("Try it"))
        self.question.button.setVisible(not asked)
