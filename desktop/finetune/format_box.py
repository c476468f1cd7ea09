"""The wizard's choice of training format: plain question→answer pairs, RAG-style examples
(RAFT: the chat's own prompt with passages of a library, the one holding the answer in a chosen
share) or both, with a preview of real examples built by the engine."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QComboBox, QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSpinBox,
                               QVBoxLayout)

import engine.api as api

from ..common import while_alive
from ..i18n import Retranslating

PREVIEW_EXAMPLES = 3


class FormatBox(Retranslating, QGroupBox):
    changed = Signal()

    def __init__(self, ctx, pairs, parent=None) -> None:
        """`pairs()` gives (train, held out) as the data step splits them now."""
        super().__init__(parent)
        self.ctx, self.pairs = ctx, pairs
        self.built: tuple | None = None      # (key, Dataset) of the last build, reused by the training step
        self.format = QComboBox()
        self.format_label = QLabel()
        self.format_label.setBuddy(self.format)
        self.library = QComboBox()
        self.library_label = QLabel()
        self.library_label.setBuddy(self.library)
        self.gold = QSpinBox()
        self.gold.setRange(0, 100)
        self.gold.setValue(80)
        self.gold.setSuffix(" %")
        self.gold_label = QLabel()
        self.gold_label.setBuddy(self.gold)
        self.preview_button = QPushButton()
        self.preview_button.clicked.connect(self.preview)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.view.setMinimumHeight(140)
        self.view.hide()
        row = QHBoxLayout()
        for w in (self.format_label, self.format, self.library_label, self.library, self.gold_label, self.gold,
                  self.preview_button):
            row.addWidget(w)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)
        for signal in (self.format.currentIndexChanged, self.library.currentIndexChanged, self.gold.valueChanged):
            signal.connect(self._choice_changed)
        self.retranslate()
        self.fill_libraries()
        self._choice_changed()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Training format"))
        self.format_label.setText(self.tr("&Format:"))
        current = self.format.currentIndex()
        self.format.blockSignals(True)
        self.format.clear()
        self.format.addItem(self.tr("Plain question → answer"), "plain")
        self.format.addItem(self.tr("RAG-style with passages (RAFT)"), "raft")
        self.format.addItem(self.tr("Both"), "both")
        self.format.setCurrentIndex(max(0, current))
        self.format.blockSignals(False)
        self.format.setToolTip(self.tr(
            "RAG-style examples put each question in the prompt the chat uses with your documents: passages "
            "found in the library, the one with the answer among them in the share you choose, and an answer "
            "that cites it [n] and quotes its sentence. The adapter then learns to read passages, which helps "
            "answers with documents."))
        self.library_label.setText(self.tr("&Library:"))
        self.gold_label.setText(self.tr("Answer passage &present in:"))
        self.preview_button.setText(self.tr("Pre&view"))

    def fill_libraries(self) -> None:
        names = [lib.name for lib in self.ctx.engine.libraries.list()]
        current = self.library.currentText()
        self.library.clear()
        self.library.addItems(names)
        if current in names:
            self.library.setCurrentText(current)

    # -- the choice ------------------------------------------------------------------------------
    def choice(self) -> str:
        return self.format.currentData() or "plain"

    def _choice_changed(self, *_args) -> None:
        rag = self.choice() != "plain"
        for w in (self.library_label, self.library, self.gold_label, self.gold, self.preview_button):
            w.setEnabled(rag)
        if rag and not self.library.count():
            self.status.setText(self.tr("RAG-style examples need a library: add a folder on the Libraries page."))
        else:
            self.status.setText("")
        self.view.setVisible(rag and bool(self.view.toPlainText()))
        self.changed.emit()

    def isComplete(self) -> bool:
        return self.choice() == "plain" or bool(self.library.currentText())

    def request(self, train: list[dict], held: list[dict]) -> tuple:
        """What to build, read here on the UI thread and handed to `build` on the pool."""
        def text(rows):
            return tuple(tuple((m["role"], m["content"]) for m in e["messages"]) for e in rows)

        return (self.choice(), self.library.currentText(), self.gold.value(), text(train), text(held))

    def build(self, train: list[dict], held: list[dict], request: tuple, progress=None, cancel=None):
        """The training examples in the chosen format (a plain Dataset when plain); runs on the pool.
        The last build is kept, so the training step reuses what the preview built."""
        fmt, library, gold = request[:3]
        if fmt == "plain":
            return api.Dataset(list(train))
        cached = self.built
        if cached is not None and cached[0] == request:
            return cached[1]
        built = self.ctx.engine.jobs.raft_examples(library, train, api.RaftOptions(format=fmt, gold_share=gold / 100),
                                              held_out=held, progress=progress, cancel=cancel)
        if not (cancel is not None and cancel.cancelled):
            self.built = (request, built)
        return built

    # -- the preview -------------------------------------------------------------------------------
    def preview(self) -> None:
        train, held = self.pairs()
        if not train or not self.library.currentText():
            self.status.setText(self.tr("Add examples and choose a library first."))
            return
        self.preview_button.setEnabled(False)
        self.status.setText(self.tr("Finding passages for {n} questions…").format(n=len(train)))
        self.ctx.runner.run(self.build, train, held, self.request(train, held), key="finetune:raft-preview",
                            on_progress=while_alive(self, "_building"), on_done=while_alive(self, "_built"),
                            on_error=while_alive(self, "_failed"))

    def _building(self, progress) -> None:
        self.status.setText(self.tr("Finding passages: {done} of {total} questions…").format(
            done=int(progress.done), total=int(progress.total or 0)))

    def _built(self, dataset) -> None:
        self.preview_button.setEnabled(True)
        raft = [e for e in dataset.examples if e.get("_kind") == "raft"]
        gold = sum(1 for e in raft if e["_raft"]["gold_number"])
        text = self.tr("{n} training examples, {raft} RAG-style ({gold} with the passage that holds the answer); "
                       "{problems} questions got none.").format(n=len(dataset.examples), raft=len(raft), gold=gold,
                                                              problems=len(dataset.problems))
        self.status.setText(text)
        shown = [e for e in raft if e["_raft"]["gold_number"]][:PREVIEW_EXAMPLES - 1] + \
            [e for e in raft if not e["_raft"]["gold_number"]][:1]
        self.view.setPlainText("\n\n".join(self._render(e) for e in shown))
        self.view.setVisible(bool(shown))

    def _render(self, example: dict) -> str:
        names = {"system": self.tr("System"), "user": self.tr("Prompt"), "assistant": self.tr("Answer to learn")}
        return "\n".join(f"── {names.get(m['role'], m['role'])} ──\n{m['content']}" for m in example["messages"])

    def _failed(self, exc: BaseException) -> None:
        self.preview_button.setEnabled(True)
        self.status.setText(str(exc) if isinstance(exc, api.BunkoError) else f"{type(exc).__name__}: {exc}")
