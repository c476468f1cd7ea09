"""One training run on screen: what it is doing, a progress bar with the time left, the
loss curve, and its log. The wizard's Train step and the Fine-tune page both show it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QProgressBar, QTabWidget, QVBoxLayout, QWidget

from .. import theme

from engine.api import JobEvent, clock

from ..common import human_size
from .jobs_model import host_text, status_text
from .loss_curve import LossCurve
from ..i18n import Retranslating

WARN, ERROR = "warning", "error"   # text roles of the stylesheet (desktop/theme)


class TrainingView(Retranslating, QWidget):
    """Feed it engine events with `take(event)`; `show_job(job, events)` draws a stored job."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = ""          # the job's status as last known
        self._status_event: JobEvent | None = None
        self._numbers: dict | None = None

        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.numbers = QLabel()
        self.curve = LossCurve()
        self.events_view = QPlainTextEdit()
        self.events_view.setReadOnly(True)
        self.events_view.setMaximumBlockCount(5000)
        self.trainer_log = QPlainTextEdit()
        self.trainer_log.setReadOnly(True)
        self.trainer_log.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.curve, "")
        self.tabs.addTab(self.events_view, "")
        self.tabs.addTab(self.trainer_log, "")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status_label)
        layout.addWidget(self.bar)
        layout.addWidget(self.numbers)
        layout.addWidget(self.tabs, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.tabs.setTabText(0, self.tr("Loss curve"))
        self.tabs.setTabText(1, self.tr("Events"))
        self.tabs.setTabText(2, self.tr("Trainer output"))
        if self._status_event is not None:
            self._show_status(self._status_event)
        if self._numbers is not None:
            self._show_numbers(**self._numbers)

    # -- a stored job ----------------------------------------------------------------------
    def reset(self) -> None:
        self.status, self._status_event, self._numbers = "", None, None
        self.status_label.clear()
        theme.set_role(self.status_label, None)
        self.numbers.clear()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.curve.clear()
        self.events_view.clear()
        self.trainer_log.clear()

    def show_job(self, job, events: list[JobEvent]) -> None:
        """A job as stored: its status, steps so far (from its step events) and error."""
        self.reset()
        self.curve.set_points([(e.step, e.loss) for e in events if e.kind == "step"],
                              job.total_steps)
        for e in events:
            line = self.event_line(e)
            if line:
                self.events_view.appendPlainText(line)
        self._show_status(JobEvent("status", status=job.status, error=job.error))
        if job.total_steps:
            self._show_numbers("step", job.step, job.total_steps, job.loss, job.eta_s if job.active else None)

    def set_log(self, text: str) -> None:
        """The trainer's output as last copied here; stays at the end if it was there."""
        bar = self.trainer_log.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        if text != self.trainer_log.toPlainText():
            self.trainer_log.setPlainText(text)
            if at_end:
                bar.setValue(bar.maximum())

    # -- live events ---------------------------------------------------------------------
    def take(self, event: JobEvent) -> None:
        kind = event.kind
        self.curve.add_event(event)
        line = self.event_line(event)
        if line:
            self.events_view.appendPlainText(line)
        if kind == "status":
            self._show_status(event)
        elif kind == "upload":
            self._show_numbers("upload", event.done, event.total or 0, None, event.eta_s)
        elif kind == "step":
            if self.status != "running":
                self._show_status(JobEvent("status", status="running"))
            self._show_numbers("step", event.step, event.total or 0, event.loss, event.eta_s, event.tokens_per_s)
        elif kind == "start" and event.total_steps:
            self._show_numbers("step", event.resumed_from, event.total_steps, None, None)
        elif kind == "error":
            self._show_status(JobEvent("status", status="failed", error=event.message))

    def _show_status(self, event: JobEvent) -> None:
        status = event.status
        self._status_event = event
        style = None
        if status == "connection_lost":
            text = self.tr("Connection lost — retrying in {n} s; training continues on the server").format(
                n=int(event.retry_s))
            style = WARN
        else:
            if status != "reconnected":
                self.status = status
            text = {"created": self.tr("Not started yet."),
                    "setup": self.tr("Setting up the trainer's environment (first run only; it needs internet "
                                     "on the training computer)…"),
                    "uploading": self.tr("Uploading the data and the base model…"),
                    "running": self.tr("Training…"),
                    "reconnected": self.tr("Reconnected; training…"),
                    "converting": self.tr("Converting the adapter for llama.cpp…"),
                    "done": self.tr("Done: the adapter is registered and can be used in chat."),
                    "cancelled": self.tr("Cancelled. Resume continues from the last checkpoint."),
                    "failed": self.tr("Failed: {error}").format(error=event.error or "")}.get(
                status, status_text(status))
            if status == "failed":
                style = ERROR
        self.status_label.setText(text)
        theme.set_role(self.status_label, style)
        if status in ("setup", "uploading", "converting"):
            self.bar.setRange(0, 0)     # busy: no count is known
        elif status == "done":
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
        elif self.bar.maximum() == 0:
            self.bar.setRange(0, 1)
            self.bar.setValue(0)

    def _show_numbers(self, what: str, done: int, total: int, loss=None, eta_s=None, rate=None) -> None:
        self._numbers = {"what": what, "done": done, "total": total, "loss": loss, "eta_s": eta_s, "rate": rate}
        if total:
            self.bar.setRange(0, max(1, int(total)))
            self.bar.setValue(min(int(done), int(total)))
        if what == "upload":
            parts = [self.tr("Uploaded {done} of {total}").format(done=human_size(done) or "0",
                                                                  total=human_size(total))]
        else:
            parts = [self.tr("Step {step} / {total}").format(step=done, total=total)]
            if loss is not None:
                parts.append(self.tr("loss {loss}").format(loss=f"{loss:.4f}"))
            if rate:
                parts.append(self.tr("{rate} tokens/s").format(rate=f"{rate:,.0f}"))
        if eta_s is not None:
            parts.append(self.tr("{time} left").format(time=clock(eta_s)))
        self.numbers.setText(" · ".join(parts))

    def event_line(self, e: JobEvent) -> str | None:
        """One line of the Events tab, or None for events that only move the bar."""
        kind = e.kind
        if kind == "probe":
            report = e.report
            gpus = ", ".join(g.get("name", "") for g in report.get("gpus") or []) or self.tr("no GPU")
            return self.tr("Connected to {host}: Python {python}, {gpus}").format(
                host=host_text(report.get("label", "")), python=report.get("python") or "?", gpus=gpus)
        if kind == "setup":
            return e.line
        if kind == "status":
            status = e.status
            if status == "connection_lost":
                return self.tr("Connection lost ({message}); retrying in {n} s.").format(
                    message=e.message, n=int(e.retry_s))
            if status == "reconnected":
                return self.tr("Reconnected.")
            return self.tr("Status: {status}").format(status=status_text(status or ""))
        if kind == "start":
            line = self.tr("The trainer started: {examples} examples, {steps} steps ({backend}).").format(
                examples=e.examples, steps=e.total_steps, backend=e.backend)
            if e.resumed_from:
                line += " " + self.tr("Resumed from step {step}.").format(step=e.resumed_from)
            return line
        if kind == "saved":
            return self.tr("Checkpoint saved at step {step}.").format(step=e.step)
        if kind == "stopped":
            return self.tr("Stopped at step {step}; a checkpoint was saved.").format(step=e.step)
        if kind == "done":
            loss = e.final_loss
            return self.tr("Training finished: final loss {loss}.").format(
                loss=f"{loss:.4f}" if isinstance(loss, (int, float)) else "?")
        if kind == "error":
            return self.tr("Error: {message}").format(message=e.message or e.error_kind or "")
        return None
