"""The table of fine-tuning jobs, and the words for a job's status."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, Qt

from engine.api import clock

from ..common import local_time
from ..widgets import DETAIL_ROLE, PROGRESS_ROLE, TONE_ROLE

JOB_ID = Qt.ItemDataRole.UserRole


def status_text(status: str) -> str:
    """A job status in the UI language."""
    words = {"created": QCoreApplication.translate("JobStatus", "not started"),
             "setup": QCoreApplication.translate("JobStatus", "setting up"),
             "uploading": QCoreApplication.translate("JobStatus", "uploading"),
             "running": QCoreApplication.translate("JobStatus", "training"),
             "converting": QCoreApplication.translate("JobStatus", "converting"),
             "done": QCoreApplication.translate("JobStatus", "done"),
             "failed": QCoreApplication.translate("JobStatus", "failed"),
             "cancelled": QCoreApplication.translate("JobStatus", "cancelled")}
    return words.get(status, status)


TONES = {"created": "neutral", "setup": "accent", "uploading": "accent", "running": "accent",
         "converting": "accent", "done": "success", "failed": "danger", "cancelled": "neutral"}


def host_text(label: str) -> str:
    """The engine calls the local host "this computer"; say it in the UI language."""
    return QCoreApplication.translate("JobStatus", "this computer") if label == "this computer" else label


class JobsModel(QAbstractTableModel):
    NAME, BASE, WHERE, STATUS, PROGRESS, LOSS, CREATED = range(7)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.jobs: list = []          # engine Job values, newest first
        self.live: dict[int, dict] = {}   # job id -> step/total/loss from events newer than the list

    def headers(self) -> list[str]:
        return [self.tr("Name"), self.tr("Base model"), self.tr("Where"), self.tr("Status"), self.tr("Steps"),
                self.tr("Loss"), self.tr("Created")]

    def set_jobs(self, jobs: list) -> None:
        self.beginResetModel()
        self.jobs = list(jobs)
        self.live = {job.id: self.live[job.id] for job in self.jobs
                     if job.id in self.live and job.active and self.live[job.id].get("step", 0) > job.step}
        self.endResetModel()

    def job_at(self, row: int):
        return self.jobs[row] if 0 <= row < len(self.jobs) else None

    def row_of(self, job_id: int) -> int:
        return next((i for i, job in enumerate(self.jobs) if job.id == job_id), -1)

    def take_event(self, job_id: int, event) -> None:
        """A step event (JobEvent) from a follower: the row shows it before the next listing."""
        if event.kind != "step":
            return
        row = self.row_of(job_id)
        if row < 0:
            return
        self.live[job_id] = {"step": event.step, "total": event.total, "loss": event.loss, "eta_s": event.eta_s}
        self.dataChanged.emit(self.index(row, self.PROGRESS), self.index(row, self.LOSS))

    def retranslate(self) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.columnCount() - 1)
        if self.jobs:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.jobs) - 1, self.columnCount() - 1))

    # -- QAbstractTableModel -----------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.jobs)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else 7

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers()[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        job = self.job_at(index.row()) if index.isValid() else None
        if job is None:
            return None
        if role == JOB_ID:
            return job.id
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == self.STATUS and job.error:
            return job.error
        live = self.live.get(job.id, {})
        step, total = live.get("step", job.step), live.get("total") or job.total_steps
        if role in (TONE_ROLE, PROGRESS_ROLE, DETAIL_ROLE):
            return self._status_role(job, index.column(), role, step, total, live.get("eta_s", job.eta_s))
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        loss = live.get("loss", job.loss)
        column = index.column()
        if column == self.NAME:
            return job.name
        if column == self.BASE:
            return job.base_model
        if column == self.WHERE:
            return host_text(job.host.label)
        if column == self.STATUS:
            return status_text(job.status)
        if column == self.PROGRESS:
            return f"{step} / {total}" if total else (str(step) if step else "")
        if column == self.LOSS:
            return f"{loss:.4f}" if loss is not None else ""
        if column == self.CREATED:
            return local_time(job.created_at)
        return None

    def _status_role(self, job, column: int, role, step: int, total: int | None, eta_s: float | None):
        """The status as a badge; the steps with a slim bar, and the time left while it trains."""
        if column == self.STATUS and role == TONE_ROLE:
            return TONES.get(job.status, "neutral")
        if column == self.PROGRESS and total and (job.active or step):
            if role == PROGRESS_ROLE:
                return step / total
            if role == DETAIL_ROLE and job.active and eta_s is not None and eta_s >= 1:
                return QCoreApplication.translate("JobStatus", "{time} left").format(time=clock(eta_s))
        return None
