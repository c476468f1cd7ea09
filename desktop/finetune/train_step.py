"""Wizard steps 5 and 6: the training run (created, started and followed live), and the
result: the final loss, answers before and after, and Use in chat."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWizardPage

from engine.types import JobEvent

from .. import theme

from ..common import rough_duration, while_alive
from .host_dialogs import error_text
from .jobs_model import host_text
from .results import CompareTable
from .training_view import ERROR, TrainingView
from ..i18n import Retranslating

LOG_REFRESH_MS = 3000


class TrainStep(Retranslating, QWizardPage):
    def __init__(self, ctx, followers, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.followers = followers
        self.job = None           # the engine Job, once created
        self._creating = False

        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.view = TrainingView()
        self.error = QLabel()
        self.error.setWordWrap(True)
        theme.set_role(self.error, ERROR)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.cancel_button = QPushButton()
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.estimate = QLabel()
        self.estimate.setTextFormat(Qt.TextFormat.PlainText)
        self.estimate.setWordWrap(True)
        self.estimate.hide()
        self.note = QLabel()
        self.note.setTextFormat(Qt.TextFormat.PlainText)   # server errors and document names: never markup
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.note, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.estimate)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.error)
        layout.addLayout(row)

        followers.event.connect(self._on_event)
        followers.ended.connect(self._on_ended)
        followers.failed.connect(self._on_failed)
        self.log_timer = QTimer(self)
        self.log_timer.timeout.connect(self._refresh_log)
        self.retranslate()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Training"))
        self.cancel_button.setText(self.tr("Cancel training"))
        self.note.setText(self.tr("You can close Bunko; training continues and is followed again on the next start."))
        self._show_heading()

    def _show_heading(self) -> None:
        wizard = self.wizard()
        if wizard is None:
            return
        self.heading.setText(self.tr("Training {name} on {where}.").format(
            name=wizard.settings_step.job_name(), where=host_text(wizard.host_step.spec().label)))

    # -- starting ---------------------------------------------------------------------------------
    def initializePage(self) -> None:
        self._show_heading()
        if self.job is None and not self._creating:
            self.start()

    def start(self) -> None:
        """Create the job (its data written out), then start and follow it."""
        w = self.wizard()
        train, held = w.data_step.split()
        name, base, settings, host = w.settings_step.job_name(), w.base_step.base(), w.settings_step.settings(), \
            w.host_step.spec()
        box = w.data_step.format_box
        request = box.request(train, held)
        info = {"sources": list(w.data_step.sources), "bad_rows": len(w.data_step.problems), "format": request[0]}
        if request[0] != "plain":
            info.update(library=request[1], gold_share=request[2] / 100)
        engine = self.ctx.engine

        def create():   # RAG-style examples are built from the training split first (or taken from the preview)
            examples = box.build(train, held, request).examples
            return engine.jobs.create(name, base, examples, settings, host, held_out=held, data_info=info)

        self._creating = True
        self.error.hide()
        self.view.reset()
        self.view.take(JobEvent.from_dict({"event": "status", "status": "created"}))
        self.ctx.runner.run(create, key="finetune:create", on_done=while_alive(self, "_created"),
                            on_error=while_alive(self, "_create_failed"))

    def _created(self, job) -> None:
        self._creating = False
        self.job = job
        wizard = self.wizard()
        wizard.job_created.emit(job.id)
        self.cancel_button.setEnabled(True)
        report = wizard.host_step.report
        if job.host.kind == "local" and not (report and report.gpus):
            # on a CPU the rough estimate can be off several times: time the job's own first steps
            self.estimate.setText(self.tr("Timing the first steps on this computer for an estimate…"))
            self.estimate.show()
            self.ctx.runner.run(self.ctx.engine.jobs.measure, job.id, key="finetune:measure",
                                on_done=while_alive(self, "_measured"), on_error=while_alive(self, "_not_measured"))
            return
        self._follow()

    def _follow(self) -> None:
        self.log_timer.start(LOG_REFRESH_MS)
        self.followers.start(self.job)

    def _measured(self, m: dict) -> None:
        steps = m["step_s"][1:] or m["step_s"]
        self.estimate.setText(self.tr("Measured before the start: {load} to load the model, {step} a step; "
                                      "{steps} steps take about {time} in all.").format(
            load=rough_duration(m["load_s"]), step=rough_duration(sum(steps) / len(steps)), steps=m["total_steps"],
            time=rough_duration(m["estimate_s"])))
        self._follow()

    def _not_measured(self, exc: BaseException) -> None:
        self.estimate.setText(self.tr("No measured estimate: {error}").format(error=error_text(exc) or exc))
        self._follow()

    def _create_failed(self, exc: BaseException) -> None:
        self._creating = False
        self._show_error(exc)

    def _show_error(self, exc: BaseException) -> None:
        self.error.setText(error_text(exc) or type(exc).__name__)
        self.error.show()

    # -- following ---------------------------------------------------------------------------------
    def _mine(self, job_id: int) -> bool:
        return self.job is not None and job_id == self.job.id

    def _on_event(self, job_id: int, event: dict) -> None:
        if self._mine(job_id):
            self.view.take(event)

    def _on_ended(self, job_id: int, job) -> None:
        if not self._mine(job_id):
            return
        self.job = job
        self.log_timer.stop()
        self._refresh_log()
        self.cancel_button.setEnabled(False)
        if job.status == "done":
            self.view.take(JobEvent.from_dict({"event": "status", "status": "done"}))
            self.completeChanged.emit()
            wizard = self.wizard()
            if wizard is not None and wizard.currentPage() is self:
                wizard.next()
        else:
            self.view.show_job(job, [])
            if job.error:
                self.error.setText(job.error + "\n\n" + self.tr("The job is kept: resume it from the Fine-tune "
                                                                 "page when the problem is solved."))
                self.error.show()

    def _on_failed(self, job_id: int, exc: BaseException) -> None:
        if not self._mine(job_id):
            return
        self.log_timer.stop()
        self.cancel_button.setEnabled(False)
        self.error.setText(error_text(exc) + "\n\n" + self.tr("The job is kept: resume it from the Fine-tune page "
                                                              "when the problem is solved."))
        self.error.show()
        self.view.take(JobEvent.from_dict({"event": "status", "status": "failed", "error": str(exc)}))

    def _refresh_log(self) -> None:
        if self.job is not None:
            self.ctx.runner.run(self.ctx.engine.jobs.log_text, self.job.id, key="finetune:wizard-log",
                                on_done=while_alive(self.view, "set_log"))

    def cancel(self) -> None:
        if self.job is None:
            return
        self.cancel_button.setEnabled(False)
        self.view.status_label.setText(self.tr("Stopping the trainer; it saves a checkpoint first…"))
        self.followers.cancel(self.job)

    def isComplete(self) -> bool:
        return self.job is not None and self.job.status == "done"


class DoneStep(Retranslating, QWizardPage):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rows: list[dict] | None = None
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.compare_label = QLabel()
        self.compare_label.setTextFormat(Qt.TextFormat.PlainText)   # server errors and document names: never markup
        self.compare_label.setWordWrap(True)
        self.table = CompareTable()
        self.chat_button = QPushButton()
        self.chat_button.clicked.connect(self.use_in_chat)
        row = QHBoxLayout()
        row.addWidget(self.compare_label, 1)
        row.addWidget(self.chat_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Done"))
        self.chat_button.setText(self.tr("&Use in chat"))
        self._show_summary()

    def job(self):
        wizard = self.wizard()
        return wizard.train_step.job if wizard is not None else None

    def _show_summary(self) -> None:
        job = self.job()
        if job is None:
            return
        loss = (job.result or {}).get("final_loss", job.loss)
        self.summary.setText(self.tr("The adapter {name} is trained and registered for {base}. Final loss: "
                                     "{loss}.").format(name=job.adapter or job.name, base=job.base_model,
                                                       loss=f"{loss:.4f}" if isinstance(loss, (int, float)) else "?"))

    def initializePage(self) -> None:
        self._show_summary()
        job = self.job()
        if self.rows is not None or job is None:
            return
        self.compare_label.setText(self.tr("Answering held-out questions with and without the adapter…"))
        self.ctx.runner.run(self.ctx.engine.jobs.before_after, job.id, 4, key="finetune:wizard-compare",
                            on_done=while_alive(self, "_compared"), on_error=while_alive(self, "_compare_failed"))

    def _compared(self, rows: list) -> None:
        self.rows = rows
        self.table.set_rows(rows)
        self.compare_label.setText(self.tr("Before and after training:") if rows else
                                   self.tr("There were no questions to compare."))

    def _compare_failed(self, exc: BaseException) -> None:
        self.compare_label.setText(self.tr("The comparison failed: {error}").format(error=error_text(exc)))

    def use_in_chat(self) -> None:
        job = self.job()
        if job is not None and job.adapter:
            self.ctx.chat_with_adapter.emit(job.base_model, job.adapter)
            self.wizard().accept()
