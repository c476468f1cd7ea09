"""The lower half of the Fine-tune page: the selected job's progress, loss curve, log,
error, and for a finished job its before/after answers and training record."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .. import theme

from ..common import local_time
from .jobs_model import host_text, status_text
from .results import CompareTable, TrainingRecord
from .training_view import ERROR, TrainingView
from ..i18n import Retranslating


class JobDetail(Retranslating, QWidget):
    compare_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = None
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.note = QLabel()        # why the job is not followed now (a host question left unanswered…)
        self.note.setWordWrap(True)
        theme.set_role(self.note, ERROR)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.hide()
        self.view = TrainingView()
        self.compare_table = CompareTable()
        self.compare_button = QPushButton()
        self.compare_button.clicked.connect(self.compare_requested)
        self.compare_label = QLabel()
        self.compare_label.setWordWrap(True)
        compare = QWidget()
        column = QVBoxLayout(compare)
        row = QHBoxLayout()
        row.addWidget(self.compare_button)
        row.addWidget(self.compare_label, 1)
        column.addLayout(row)
        column.addWidget(self.compare_table, 1)
        self.compare_tab = compare
        self.record = TrainingRecord()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.info)
        layout.addWidget(self.note)
        layout.addWidget(self.view, 1)
        self.retranslate()
        self.show_job(None, [])

    def retranslate(self) -> None:
        self.compare_button.setText(self.tr("Compare before and after"))
        self.compare_button.setToolTip(self.tr("Answer a few held-out questions with the base model alone and "
                                               "with the adapter"))
        self._name_tabs()
        self._show_info()

    def _name_tabs(self) -> None:
        tabs = self.view.tabs
        for widget, text in ((self.compare_tab, self.tr("Before / after")), (self.record, self.tr("Training record"))):
            index = tabs.indexOf(widget)
            if index >= 0:
                tabs.setTabText(index, text)

    def show_job(self, job, events: list[dict], note: str | None = None) -> None:
        """Draw a stored job (None: nothing selected)."""
        same = self.job is not None and job is not None and job.id == self.job.id
        self.job = job
        self.setEnabled(job is not None)
        if job is None:
            self.view.reset()
        else:
            self.view.show_job(job, events)
        self.set_note(note)
        self._show_info()
        tabs = self.view.tabs
        done = job is not None and job.status == "done"
        for widget in (self.compare_tab, self.record):
            index = tabs.indexOf(widget)
            if done and index < 0:
                tabs.addTab(widget, "")
            elif not done and index >= 0:
                tabs.removeTab(index)
        self._name_tabs()
        if done:
            self.record.show_job(job)
        if not same:
            self.compare_table.set_rows([])
            self.compare_label.clear()

    def set_note(self, note: str | None) -> None:
        self.note.setText(note or "")
        self.note.setVisible(bool(note))

    def _show_info(self) -> None:
        job = self.job
        if job is None:
            self.title.setText(self.tr("No job selected"))
            self.info.setText(self.tr("Select a job above, or start one with New fine-tune…"))
            return
        self.title.setText(job.name)
        self.info.setText(self.tr("{base} on {where} · {status} · created {created}").format(
            base=job.base_model, where=host_text(job.host.label), status=status_text(job.status),
            created=local_time(job.created_at)))

    def take(self, event: dict) -> None:
        self.view.take(event)

    def set_comparing(self, busy: bool) -> None:
        self.compare_button.setEnabled(not busy)
        self.compare_label.setText(self.tr("Answering the questions with and without the adapter…") if busy else "")

    def set_compare_rows(self, rows: list) -> None:
        self.set_comparing(False)
        self.compare_table.set_rows(rows)
        if not rows:
            self.compare_label.setText(self.tr("This job has no questions to compare."))
