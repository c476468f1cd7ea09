"""How long a job will take, measured: the trainer loads the job's base, times a few of the job's
own steps on its host (after one to warm up) and adds them up (`bunko_train.py --calibrate`).

A constant throughput guess (presets.estimate) is off by several times on a CPU shared with
other work or on a GPU nobody measured; a measured step is not. The result is kept in the
job's data, so that when the job ends its real time can be set against it (`estimate_error`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from ..cancel import CancelToken
from ..errors import FinetuneError, HostError
from ..types import Progress
from . import trainer_env

log = logging.getLogger(__name__)

CALIBRATE_TIMEOUT_S = 3600.0   # a 0.5B base dequantised for the first time on two busy cores


def measure(jobs, key, secrets=None, steps: int = 2, progress: Callable[[Progress], None] | None = None,
            cancel: CancelToken | None = None, timeout: float = CALIBRATE_TIMEOUT_S) -> dict:
    """The trainer's calibration line for job `key` (a created job, not started): load_s, step_s,
    total_steps, estimate_s. Sets up the trainer's environment on the host first when needed."""
    job = jobs.get(key)
    if not job.can_start:
        raise FinetuneError(f"Job {job.name} is {job.status}; only a job that has not run is measured.")
    say = (lambda text: progress(Progress(done=0, total=None, unit="", message=text))) if progress else \
        (lambda text: None)
    host = jobs._connect(job, secrets)
    try:
        report = trainer_env.probe(host)
        if not report.ok:
            raise HostError(" ".join(report.problems))
        if not trainer_env.env_ready(host):
            say("setting up the trainer's environment")
            trainer_env.setup(host, trainer_env.env_kind(report), say, cancel)
        spec_path = jobs._upload(job, host, lambda _event: None)
        say("timing the first steps")
        where = jobs._job_dir(job, host)
        done = host.run([trainer_env.env_python(host), host.join(where, "bunko_train.py"), "--spec", spec_path,
                         "--calibrate", str(steps)], timeout=timeout)
    finally:
        host.close()
    found = None
    for line in reversed(done.out.splitlines()):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") in ("calibration", "error"):
            found = event
            break
    if found is None or found.get("event") == "error":
        why = (found or {}).get("message") or done.err.strip().splitlines()[-1:] or ["no output"]
        raise FinetuneError(f"Timing the first steps failed: {why if isinstance(why, str) else why[0]}")
    found.pop("time", None)
    jobs._update(job.id, data=json.dumps(dict(job.data, estimate=found), ensure_ascii=False))
    log.info("job %s: measured %.1f s per step, %.0f s to load: about %.0f s in all",
             job.name, sum(found["step_s"][1:] or found["step_s"]) / max(1, len(found["step_s"][1:] or [0])),
             found["load_s"], found["estimate_s"])
    return found


def estimate_error(job) -> float | None:
    """(estimate − real) / real for a finished job that was measured before it started."""
    estimate = (job.data or {}).get("estimate", {}).get("estimate_s")
    real = (job.result or {}).get("wall_s")
    if not estimate or not real:
        return None
    return (estimate - real) / real
