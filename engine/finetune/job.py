"""A fine-tuning job as a value, and what each status allows.

    created -> setup -> uploading -> running -> converting -> done
                                          \\-> failed | cancelled  (both can be resumed)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..hosts.hosts import HostSpec
from .presets import TrainSettings

ACTIVE = ("setup", "uploading", "running", "converting")
# setup/uploading are resumable too: a start cut off by a closed app or a dropped link stops there
RESUMABLE = ("created", "failed", "cancelled", "setup", "uploading")

_OOM_HINT = ("The trainer ran out of {where} memory. Choose a smaller preset, a shorter sequence length or a "
             "smaller batch (or 4-bit loading on a GPU), then resume: it continues from its last checkpoint.")


@dataclass(frozen=True)
class Job:
    id: int
    name: str
    base_model: str
    host: HostSpec
    settings: TrainSettings
    data: dict
    local_dir: Path
    remote_dir: str | None
    status: str
    pid: int | None
    step: int
    total_steps: int | None
    loss: float | None
    eta_s: float | None
    error: str | None
    error_kind: str | None
    adapter: str | None
    result: dict
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    events_read: int = 0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    # What each status allows: callers (the app's buttons, the CLI) ask these, not the status.
    @property
    def can_start(self) -> bool:
        """`start` accepts it: new, failed, cancelled, or a start that was cut off."""
        return self.status in RESUMABLE

    @property
    def can_follow(self) -> bool:
        """The trainer (or the conversion) runs: `follow` picks it up."""
        return self.status in ("running", "converting")

    @property
    def can_clean(self) -> bool:
        return not self.active

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0


JOB_COLUMNS = ("id, name, base_model, host, settings, data, local_dir, remote_dir, status, pid, step, total_steps, "
            "loss, eta_s, error, error_kind, adapter, result, created_at, updated_at, finished_at, events_read")


def row_to_job(r) -> Job:
    return Job(r[0], r[1], r[2], HostSpec.from_json(r[3]), TrainSettings.from_dict(json.loads(r[4])),
               json.loads(r[5] or "{}"), Path(r[6]), r[7], r[8], r[9], r[10] or 0, r[11], r[12], r[13], r[14],
               r[15], r[16], json.loads(r[17] or "{}"), r[18], r[19], r[20], r[21] or 0)


def describe_error(event: dict, gpu: bool) -> tuple[str, str]:
    """(kind, message for people) from the trainer's error line."""
    kind = event.get("kind") or "error"
    if kind == "out_of_memory":
        return kind, _OOM_HINT.format(where="GPU" if gpu else "")
    return kind, f"The trainer failed: {event.get('message') or kind}"
