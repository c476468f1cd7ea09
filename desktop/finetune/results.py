"""What a finished job shows: answers before and after training, and its training record."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QTextBrowser, QWidget

from engine.types import BeforeAfter

from .jobs_model import host_text
from ..i18n import Retranslating


class CompareTable(Retranslating, QTableWidget):
    """Held-out questions: what the training data says, and the base model's answer
    without and with the adapter (BeforeAfter values from engine.jobs.before_after)."""

    QUESTION, EXPECTED, BEFORE, AFTER = range(4)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.rows: list[BeforeAfter] = []
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.retranslate()

    def retranslate(self) -> None:
        self.setHorizontalHeaderLabels([self.tr("Question"), self.tr("Expected"), self.tr("Before (base model)"),
                                        self.tr("After (with the adapter)")])

    def set_rows(self, rows: list[BeforeAfter]) -> None:
        self.rows = list(rows)
        self.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            for c, text in enumerate((row.question, row.expected, row.before, row.after)):
                item = QTableWidgetItem(text or "")
                item.setToolTip(text or "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
                self.setItem(r, c, item)

    def column_texts(self, column: int) -> list[str]:
        return [self.item(r, column).text() for r in range(self.rowCount())]


class TrainingRecord(QTextBrowser):
    """Data, settings, host and result of a job, for the record (and for a repeat run)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = None

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange and self.job is not None:
            self.show_job(self.job)
        super().changeEvent(event)

    def show_job(self, job) -> None:
        self.job = job
        if job is None:
            self.clear()
            return
        data, s, result = job.data or {}, job.settings, job.result or {}
        rows = [
            (self.tr("Base model"), job.base_model),
            (self.tr("Where"), host_text(job.host.label)),
            (self.tr("Data"), self.tr("{train} training examples, {held} held out, {bad} bad rows skipped").format(
                train=data.get("train", "?"), held=data.get("held_out", 0), bad=data.get("bad_rows", 0))),
            (self.tr("Sources"), ", ".join(data.get("sources") or []) or "—"),
            (self.tr("Preset"), s.preset),
            (self.tr("LoRA"), self.tr("rank {rank}, alpha {alpha}").format(rank=s.rank, alpha=f"{s.alpha:g}")),
            (self.tr("Training"), self.tr("learning rate {lr}, {epochs} epochs, sequence length {seq}, batch {batch}")
             .format(lr=f"{s.learning_rate:g}", epochs=s.epochs, seq=s.seq_len, batch=s.batch)),
        ]
        if result:
            loss = result.get("final_loss")
            eval_loss = result.get("eval_loss")
            rows += [(self.tr("Steps"), str(result.get("step", job.step))),
                     (self.tr("Final loss"), f"{loss:.4f}" if isinstance(loss, (int, float)) else "—"),
                     (self.tr("Held-out loss"), f"{eval_loss:.4f}" if isinstance(eval_loss, (int, float)) else "—"),
                     (self.tr("Trainer"), str(result.get("backend") or "")),
                     (self.tr("Time"), self.tr("{n} s").format(n=result.get("seconds", "?")))]
        if job.adapter:
            rows.append((self.tr("Adapter"), job.adapter))
        html = "".join(f"<tr><td><b>{_esc(k)}</b></td><td>{_esc(v)}</td></tr>" for k, v in rows)
        self.setHtml(f"<table cellspacing='4'>{html}</table>")


def _esc(text) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
