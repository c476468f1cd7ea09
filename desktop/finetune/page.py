"""The Fine-tune page: every training job, the one selected in detail, and the buttons to
start, cancel, resume, clean up and chat with the result.

Jobs train on their host whether Bunko is open or not. When the page is built (at
start, right after the window shows) every job still training is followed again.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QItemSelectionModel, QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QMessageBox, QPushButton,
                               QSplitter, QStackedWidget, QTableView, QVBoxLayout, QWidget)

from .. import theme
from ..theme import metrics as m
from ..widgets import EmptyState, StatusDelegate, tidy_table

from ..common import while_alive
from .follow import Followers
from .host_dialogs import error_text
from .job_detail import JobDetail
from .jobs_model import JOB_ID, JobsModel, host_text
from ..i18n import Retranslating

log = logging.getLogger(__name__)

LOG_REFRESH_MS = 3000


class FinetunePage(Retranslating, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.followers = Followers(ctx, self)
        self.wizard = None
        self.notes: dict[int, str] = {}         # job id -> why it is not followed or did not start
        self.compared: dict[int, list] = {}     # job id -> before/after rows, this session
        self._auto_followed: set[int] = set()
        self._select: int | None = None

        self.hint = QLabel()
        self.hint.setWordWrap(True)
        theme.set_role(self.hint, "muted")
        self.empty = EmptyState("finetune")  # no job yet: no empty table, 0 % bar or blank chart
        self.empty.action.connect(self.new_finetune)
        self.new_button = QPushButton()
        self.new_button.setProperty("kind", "primary")
        self.cancel_button = QPushButton()
        self.resume_button = QPushButton()
        self.clean_button = QPushButton()
        self.chat_button = QPushButton()
        self.new_button.clicked.connect(self.new_finetune)
        self.cancel_button.clicked.connect(lambda: self.cancel())
        self.resume_button.clicked.connect(lambda: self.resume())
        self.clean_button.clicked.connect(lambda: self.clean())
        self.chat_button.clicked.connect(lambda: self.use_in_chat())
        self.model = JobsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        tidy_table(self.table)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.status_delegate = StatusDelegate(self.table)   # the same badges and bars as the Libraries page
        for column in (JobsModel.STATUS, JobsModel.PROGRESS):
            self.table.setItemDelegateForColumn(column, self.status_delegate)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selection_changed())
        self.detail = JobDetail()
        self.detail.compare_requested.connect(self.compare)

        buttons = QHBoxLayout()
        for button in (self.new_button, self.cancel_button, self.resume_button, self.clean_button, self.chat_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        self.body = QStackedWidget()
        self.body.addWidget(self.empty)
        self.body.addWidget(splitter)
        self.body.setCurrentWidget(self.empty)
        # With no job yet the empty state carries the one "New fine-tune…" button (as on the Libraries page).
        self.buttons = [self.new_button, self.cancel_button, self.resume_button, self.clean_button, self.chat_button]
        for button in self.buttons:
            button.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(m.L, m.M, m.L, m.M)
        layout.setSpacing(m.S)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        layout.addWidget(self.body, 1)

        self.followers.event.connect(self._on_event)
        self.followers.ended.connect(self._on_ended)
        self.followers.failed.connect(self._on_failed)
        self._refresh_soon = QTimer(self)
        self._refresh_soon.setSingleShot(True)
        self._refresh_soon.timeout.connect(self.refresh)
        self.log_timer = QTimer(self)
        self.log_timer.timeout.connect(self._refresh_log)
        self.log_timer.start(LOG_REFRESH_MS)
        self.retranslate()
        self._update_buttons()
        self.refresh()

    def retranslate(self) -> None:
        self.hint.setText(self.tr("Teach a model your own questions and answers with LoRA, on this computer or "
                                  "on your GPU server over SSH. Training goes on when Bunko is closed and is "
                                  "followed again when it starts."))
        self.new_button.setText(self.tr("New fine-tune…"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.resume_button.setText(self.tr("Resume"))
        self.clean_button.setText(self.tr("Clean up…"))
        self.chat_button.setText(self.tr("Use in chat"))
        self.empty.set_texts(self.tr("No fine-tuning yet"),
                             self.tr("Fine-tuning teaches a model your own questions and answers. Start with a "
                                     "few dozen examples from a file or drafted from a library; the wizard "
                                     "checks this computer or your GPU server first."),
                             self.tr("New fine-tune…"))
        self.model.retranslate()

    # -- the list ----------------------------------------------------------------------------
    def refresh(self) -> None:
        self.ctx.runner.run(self.ctx.engine.jobs.list, key="finetune:list", on_done=while_alive(self, "_fill"),
                            on_error=while_alive(self, "_list_failed"))

    def _list_failed(self, exc: BaseException) -> None:
        log.warning("fine-tuning jobs could not be listed: %s", exc)
        self.detail.set_note(str(exc))

    def _fill(self, jobs: list) -> None:
        selected = self._select if self._select is not None else self.selected_id()
        self._select = None
        old = {job.id: job for job in self.model.jobs}
        shown = getattr(self.detail.job, "id", None)
        self.body.setCurrentIndex(1 if jobs else 0)
        for button in self.buttons:
            button.setVisible(bool(jobs))
        with QSignalBlocker(self.table.selectionModel()):   # one redraw of the detail, below
            self.model.set_jobs(jobs)
            row = self.model.row_of(selected) if selected is not None else -1
            if row < 0 and jobs:
                row = 0
            if row >= 0:
                self.table.selectionModel().setCurrentIndex(
                    self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows)
        for job in jobs:   # the ones still training when Bunko last closed, once per session
            if job.status in ("running", "converting") and job.id not in self._auto_followed \
                    and not self.followers.busy(job.id):
                self._auto_followed.add(job.id)
                self.followers.follow(job)
        job = self.selected_job()
        if job is None:
            self.detail.show_job(None, [])
        elif job.id != shown or job != old.get(job.id):
            self._show_selected()   # another job, or its status or numbers changed since it was drawn
        self._update_buttons()

    def selected_id(self) -> int | None:
        index = self.table.selectionModel().currentIndex()
        return self.model.data(index, JOB_ID) if index.isValid() else None

    def selected_job(self):
        index = self.table.selectionModel().currentIndex()
        return self.model.job_at(index.row()) if index.isValid() else None

    def select(self, job_id: int) -> None:
        row = self.model.row_of(job_id)
        if row < 0:
            self._select = job_id
            self.refresh()
        else:
            self.table.selectRow(row)

    def job(self, job_id: int):
        row = self.model.row_of(job_id)
        return self.model.job_at(row)

    def _selection_changed(self) -> None:
        self._show_selected()
        self._update_buttons()

    def _show_selected(self) -> None:
        job = self.selected_job()
        if job is None:
            self.detail.show_job(None, [])
            return
        self.ctx.runner.run(self.ctx.engine.jobs.events, job.id, key="finetune:events",
                            on_done=while_alive(self, "_show_events", job))

    def _show_events(self, job, events: list) -> None:
        if self.selected_id() != job.id:
            return
        self.detail.show_job(self.selected_job() or job, events, self.notes.get(job.id))
        if job.id in self.compared:
            self.detail.set_compare_rows(self.compared[job.id])
        self._refresh_log(force=True)

    def _refresh_log(self, force: bool = False) -> None:
        job = self.selected_job()
        if job is None or getattr(self.detail.job, "id", None) != job.id:
            return
        if not force and not job.active and not self.followers.busy(job.id):
            return   # nothing new arrives for a job that is not running
        self.ctx.runner.run(self.ctx.engine.jobs.log_text, job.id, key="finetune:log",
                            on_done=while_alive(self, "_show_log", job.id))

    def _show_log(self, job_id: int, text: str) -> None:
        if self.selected_id() == job_id and getattr(self.detail.job, "id", None) == job_id:
            self.detail.view.set_log(text)

    def _update_buttons(self) -> None:
        job = self.selected_job()
        busy = job is not None and self.followers.busy(job.id)
        self.cancel_button.setEnabled(job is not None and (job.active or busy))
        self.resume_button.setEnabled(job is not None and not busy and (job.can_start or job.can_follow))
        self.resume_button.setToolTip(
            self.tr("Follow this job again") if job is not None and job.active
            else self.tr("Start the job, or continue it from its last checkpoint"))
        self.clean_button.setEnabled(job is not None and job.can_clean and not busy)
        self.chat_button.setEnabled(job is not None and job.status == "done" and bool(job.adapter))

    # -- following -------------------------------------------------------------------------------
    def _on_event(self, job_id: int, event) -> None:
        self.model.take_event(job_id, event)
        if self.selected_id() == job_id:
            self.detail.take(event)
        if event.kind == "status" and event.status not in ("connection_lost", "reconnected"):
            self._refresh_soon.start(300)

    def _on_ended(self, job_id: int, job) -> None:
        self.notes.pop(job_id, None)
        if job.status == "done":
            self.ctx.notify("models")
            self.ctx.status.emit(self.tr("Fine-tuning {name} is done: its adapter is ready.").format(name=job.name))
        elif job.status == "failed":
            self.ctx.status.emit(self.tr("Fine-tuning {name} failed.").format(name=job.name))
        self.refresh()

    def _on_failed(self, job_id: int, exc: BaseException) -> None:
        self.notes[job_id] = error_text(exc)
        if self.selected_id() == job_id:
            self.detail.set_note(self.notes[job_id])
        self.refresh()

    # -- buttons -------------------------------------------------------------------------------
    def new_finetune(self):
        """The wizard, window-modal; returns it (tests drive it)."""
        from .wizard import FinetuneWizard

        self.wizard = FinetuneWizard(self.ctx, followers=self.followers, parent=self)
        self.wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.wizard.job_created.connect(self.select)
        self.wizard.finished.connect(lambda _result: self.refresh())
        self.wizard.open()
        return self.wizard

    def cancel(self, job=None) -> None:
        job = job or self.selected_job()
        if job is None:
            return
        self.notes.pop(job.id, None)
        self.cancel_button.setEnabled(False)
        self.detail.set_note(self.tr("Stopping the trainer; it saves a checkpoint first…"))
        self.followers.cancel(job)

    def resume(self, job=None) -> None:
        job = job or self.selected_job()
        if job is None or self.followers.busy(job.id):
            return
        self.notes.pop(job.id, None)
        self.detail.set_note(None)
        if job.can_start:
            self.followers.start(job)
        else:
            self.followers.follow(job)
        self._update_buttons()

    def clean(self, job=None) -> None:
        job = job or self.selected_job()
        if job is None:
            return
        answer = QMessageBox.question(self, self.tr("Clean up"), self.tr(
            "Delete the working files of “{name}” on {where} (checkpoints and the copied data)? The adapter "
            "stays registered and usable; the job cannot be resumed afterwards.").format(
            name=job.name, where=host_text(job.host.label)))
        if answer != QMessageBox.StandardButton.Yes:
            return
        jobs, job_id = self.ctx.engine.jobs, job.id
        self.followers.on_host(job, lambda secrets: jobs.clean(job_id, secrets), while_alive(self, "_cleaned"))

    def _cleaned(self, job) -> None:
        self.ctx.status.emit(self.tr("The working files of {name} were deleted.").format(name=job.name))
        self.refresh()

    def use_in_chat(self, job=None) -> None:
        """A new chat that answers with the job's adapter on its base model."""
        job = job or self.selected_job()
        if job is None or not job.adapter:
            return
        self.ctx.chat_with_adapter.emit(job.base_model, job.adapter)

    def compare(self) -> None:
        job = self.selected_job()
        if job is None or job.status != "done":
            return
        self.detail.set_comparing(True)
        self.ctx.runner.run(self.ctx.engine.jobs.before_after, job.id, 4, key="finetune:compare",
                            on_done=while_alive(self, "_compared", job.id),
                            on_error=while_alive(self, "_compare_failed"))

    def _compared(self, job_id: int, rows: list) -> None:
        self.compared[job_id] = rows
        if self.selected_id() == job_id:
            self.detail.set_compare_rows(rows)

    def _compare_failed(self, exc: BaseException) -> None:
        self.detail.set_comparing(False)
        self.ctx.show_error(exc, self)

    # -- closing -----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """The window closes: stop following here; the trainers go on, followed next start."""
        for job in self.model.jobs:
            self.followers.stop(job.id)
