"""The Compare page's freshness panel: change or add a document with a new fact, re-index the
run's libraries (timed), ask the question again in every arm. RAG arms follow the change at
once; the fine-tuned arm does not until the adapter is retrained (the wizard's estimate is shown).
"""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton

from engine.api import make_question

from ..common import while_alive
from ..i18n import Retranslating
from .wording import retraining


class FreshnessBox(Retranslating, QGroupBox):
    def __init__(self, page) -> None:
        super().__init__()
        self.page = page  # the Compare page: its engine, runner, chosen run and progress
        self.question = QLineEdit()
        self.answer = QLineEdit()
        self.document = QLineEdit()
        self.text = QPlainTextEdit()
        self.text.setMaximumHeight(60)
        self.button = QPushButton()
        self.button.clicked.connect(self.start)
        self.result = QLabel()
        self.result.setWordWrap(True)
        form = QFormLayout(self)
        self.labels = [QLabel() for _ in range(4)]
        for label, field in zip(self.labels, (self.question, self.answer, self.document, self.text)):
            form.addRow(label, field)
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.result, 1)
        form.addRow(row)
        self.retranslate()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Freshness: change a fact, re-index, ask again"))
        for label, text in zip(self.labels, (self.tr("Question"), self.tr("New answer (| between)"),
                                             self.tr("Document (in the library's folder)"),
                                             self.tr("Its new text (leave empty if you edited it)"))):
            label.setText(text)
        self.document.setPlaceholderText(self.tr("e.g. mascot.md; empty: the documents are already changed"))
        self.button.setText(self.tr("Re-index and ask again"))

    def set_question(self, question) -> None:
        """Prefill with the question chosen in the per-question view."""
        self.question.setText(question.text)
        if question.source:
            self.document.setText(question.source)

    def start(self) -> None:
        """Write the new fact (if given), re-index the run's libraries, ask the question again everywhere."""
        page = self.page
        refs = [x.strip() for x in self.answer.text().split("|") if x.strip()]
        if page.run_id is None or not self.question.text().strip() or not refs:
            self.result.setText(self.tr("Choose a run, then give the question and its new answer."))
            return
        document = self.document.text().strip()
        text = self.text.toPlainText()
        if text.strip() and not document:
            self.result.setText(self.tr("Name the document the new text goes into."))
            return
        changed = [make_question(self.question.text(), refs, document or None)]
        documents = {document: text} if document and text.strip() else None
        self.button.setEnabled(False)
        page.run_button.setEnabled(False)
        self.result.setText(self.tr("Re-indexing and asking again…"))
        page.task = page.ctx.runner.run(page.ctx.engine.lab.refresh, page.run_id, changed,
                                        documents=documents, key="compare:run",
                                        on_progress=while_alive(page, "_show_progress"),
                                        on_done=while_alive(self, "_done"), on_error=while_alive(self, "_failed"))

    def _done(self, _info) -> None:
        self.button.setEnabled(True)
        self.page.run_button.setEnabled(True)
        self.page.task = None
        self.page.progress_label.setText(self.tr("Finished."))
        self.page.show_run(self.page.run_id)

    def _failed(self, exc) -> None:
        self.button.setEnabled(True)
        self.page.run_button.setEnabled(True)
        self.page.task = None
        self.result.setText("")
        self.page.ctx.show_error(exc, self.page)

    def line(self, f: dict) -> str:
        """What one freshness round showed: which arms follow the change, at what cost."""
        follows = [arm for arm, a in f["arms"].items() if a["n"] and a["accuracy"] > 0.5]
        stale = [arm for arm, a in f["arms"].items() if a["n"] and a["accuracy"] <= 0.5]
        line = self.tr("After the change (round {n}): re-indexed in {s:.1f} s. Follows: {yes}. Does not follow: "
                       "{no}.").format(n=f["round"], s=f["reindex_s"], yes=", ".join(follows) or "–",
                                       no=", ".join(stale) or "–")
        if f.get("retrain") or f.get("retrain_estimate"):
            line += " " + self.tr("Retraining the adapter (estimate): {e}").format(
                e=retraining(f.get("retrain"), f.get("retrain_estimate")))
        return line

    def show_summary(self, summary: dict) -> None:
        rounds = summary["freshness"]
        self.result.setText(self.line(rounds[-1]) if rounds else "")
