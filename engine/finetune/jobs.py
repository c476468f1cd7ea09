"""Fine-tuning jobs: from examples to a registered GGUF LoRA adapter.

A job's state is a row in the DuckDB file; the trainer's own lines are copied into
`job_events`. Any process (the app after a restart, `bunko finetune status`) can
pick a job up: connect to its host, read what the trainer wrote since last time,
and when it has ended, fetch, convert and register the adapter. The statuses and what
each allows are in job.py.
"""

from __future__ import annotations

import builtins
import json
import logging
import re
import threading
import time
from datetime import datetime
from pathlib import Path
from collections.abc import Callable

from .. import paths
from ..budget import BUDGET
from ..cancel import CancelToken
from ..types import JobEvent, Progress
from ..errors import (AuthError, Cancelled, ConnectionLostError, FinetuneError, HostError, HostKeyChangedError,
                      HostKeyUnknownError, JobNotFoundError, ModelError, UnsafeAdapterError)
from . import dataset, trainer_env
from ..hosts.connect import connect
from ..hosts.hosts import HostSpec, LocalHost, Secrets
from .job import JOB_COLUMNS, Job, row_to_job, describe_error
from .presets import TrainSettings, spec_train

log = logging.getLogger(__name__)

EventSink = Callable[[dict], None]
ProgressSink = Callable[[Progress], None]
READ_LIMIT = 8 * 1024 ** 2      # of a trainer's log or progress lines per look: the rest comes next time
RESULT_LIMIT = 1024 ** 2


class Jobs:
    def __init__(self, store, models, root: Path | None = None, trainer_script: Path | None = None) -> None:
        self.store, self.models = store, models
        self.trainer_script = trainer_script or trainer_env.TRAINER_SCRIPT  # tests swap in a quick fake
        self.root = Path(root) if root else paths.data_dir() / "finetune"
        self._local = LocalHost(HostSpec(), self.root)   # one, so its children are reaped
        self._lock = threading.Lock()
        self._reading = threading.Lock()   # one reader of a trainer's lines at a time: none taken twice

    # -- reading ------------------------------------------------------------------------
    def list(self) -> list[Job]:
        """Every job, newest first."""
        rows = self.store.cursor().execute(f"SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC").fetchall()
        return [row_to_job(r) for r in rows]

    def get(self, key: int | str) -> Job:
        """A job by id or name (JobNotFoundError if there is none)."""
        column = "id" if isinstance(key, int) or str(key).isdigit() else "name"
        row = self.store.cursor().execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE {column} = ?",
                                          [int(key) if column == "id" else key]).fetchone()
        if row is None:
            raise JobNotFoundError(f"There is no fine-tuning job {key!r}; `bunko finetune list` shows them.")
        return row_to_job(row)

    def events(self, key: int | str, kind: str | None = None) -> builtins.list[JobEvent]:
        """The job's events as stored, oldest first (only those of `kind` if given)."""
        events = [JobEvent.from_dict(e) for e in self._stored_events(self.get(key).id)]
        return [e for e in events if e.kind == kind] if kind else events

    def _stored_events(self, job_id: int) -> builtins.list[dict]:
        """The job's events as the trainer and runner wrote them, oldest first."""
        rows = self.store.cursor().execute("SELECT event FROM job_events WHERE job_id = ? ORDER BY seq",
                                           [job_id]).fetchall()
        return [json.loads(r[0]) for r in rows]

    def log_text(self, key: int | str, lines: int = 200) -> str:
        """The end of the trainer's output as last copied here (works with the host unreachable)."""
        path = self.get(key).local_dir / "trainer.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    # -- making ---------------------------------------------------------------------------
    def create(self, name: str, base_model: str, train: builtins.list[dict], settings: TrainSettings,
               host: HostSpec | None = None, held_out: builtins.list[dict] | None = None,
               data_info: dict | None = None) -> Job:
        """A job with its dataset written out; nothing starts yet."""
        name = (name or "").strip()
        if not re.fullmatch(r"[\w.\-]{1,64}", name):
            raise FinetuneError("A job name uses letters, digits, '.', '-' or '_' (at most 64); it also names "
                                "the adapter.")
        if not train:
            raise FinetuneError("There are no training examples.")
        base = self.models.get(base_model)
        if base.kind != "model":
            raise FinetuneError(f"{base_model!r} is an adapter; train on a model.")
        if any(m.name == name for m in self.models.list()):
            raise FinetuneError(f"A model or adapter named {name!r} exists already; choose another job name.")
        host = host or HostSpec()
        with self._lock, self.store.transaction() as cur:
            if cur.execute("SELECT 1 FROM jobs WHERE name = ?", [name]).fetchone():
                raise FinetuneError(f"A job named {name!r} exists already.")
            job_id = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM jobs").fetchone()[0]
            local = self.root / f"{job_id}-{name}"
            local.mkdir(parents=True, exist_ok=True)
            dataset.write_jsonl(train, local / "train.jsonl")
            dataset.write_jsonl(held_out or [], local / "eval.jsonl")
            info = dict(data_info or {}, train=len(train), held_out=len(held_out or []))
            cur.execute("INSERT INTO jobs (id, name, base_model, host, settings, data, local_dir, status) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 'created')",
                        [job_id, name, base.name, host.to_json(), json.dumps(settings.to_dict()),
                         json.dumps(info, ensure_ascii=False), str(local)])
        log.info("job %d %s created: %d examples on %s", job_id, name, len(train), base.name)
        return self.get(job_id)

    def _update(self, job_id: int, **fields) -> None:
        fields["updated_at"] = datetime.now()
        if "result" in fields:
            fields["result"] = json.dumps(fields["result"])
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self.store.transaction() as cur:
            cur.execute(f"UPDATE jobs SET {cols} WHERE id = ?", [*fields.values(), job_id])

    def _fail(self, job: Job, kind: str, message: str) -> None:
        log.warning("job %s failed (%s): %s", job.name, kind, message)
        self._update(job.id, status="failed", error=message, error_kind=kind, finished_at=datetime.now())

    def _connect(self, job: Job, secrets: Secrets | None):
        if job.host.kind == "local":
            self._local.spec = job.host
            return self._local
        return connect(job.host, self.root, secrets)

    # -- starting ---------------------------------------------------------------------------
    def start(self, key: int | str, secrets: Secrets | None = None, progress: ProgressSink | None = None,
              cancel: CancelToken | None = None) -> Job:
        """Connect, set up the environment if needed, upload, start the trainer detached.
        Also resumes a failed or cancelled job (the trainer continues from its checkpoint)."""
        job = self.get(key)
        if not job.can_start:
            raise FinetuneError(f"Job {job.name} is {job.status}; only a new, failed or cancelled job starts "
                                "(or one whose start was cut off).")
        say = _events_as_progress(progress)
        self._update(job.id, error=None, error_kind=None, finished_at=None)
        try:
            host = self._connect(job, secrets)
        except HostError as exc:
            self._fail(job, _kind(exc), str(exc))
            raise
        try:
            report = trainer_env.probe(host)
            say({"event": "probe", "report": report.__dict__})
            if not report.ok:
                raise HostError(" ".join(report.problems))
            if not trainer_env.env_ready(host):
                self._update(job.id, status="setup")
                say({"event": "status", "status": "setup"})
                trainer_env.setup(host, trainer_env.env_kind(report),
                                  lambda line: say({"event": "setup", "line": line}), cancel)
            self._update(job.id, status="uploading")
            say({"event": "status", "status": "uploading"})
            spec_path = self._upload(job, host, say)
            argv = [trainer_env.env_python(host), host.join(self._job_dir(job, host), "bunko_train.py"),
                    "--spec", spec_path]
            pid = host.start(argv, self._job_dir(job, host), "trainer.log")
            self._update(job.id, status="running", pid=pid, remote_dir=self._job_dir(job, host))
            say({"event": "status", "status": "running", "pid": pid})
            log.info("job %s: trainer started on %s, pid %d", job.name, job.host.label, pid)
        except (HostError, Cancelled, OSError) as exc:
            self._fail(job, _kind(exc), str(exc))
            raise
        finally:
            host.close()
        return self.get(job.id)

    def _job_dir(self, job: Job, host) -> str:
        if host.is_local:
            return str(job.local_dir)
        return job.remote_dir or host.join(host.root, "jobs", f"{job.id}-{job.name}")

    def _upload(self, job: Job, host, say: EventSink) -> str:
        where = self._job_dir(job, host)
        host.mkdir(where)
        host.put(self.trainer_script, host.join(where, "bunko_train.py"))
        host.put(trainer_env.TRAINER_DIR / "bunko_data.py", host.join(where, "bunko_data.py"))  # its data module
        for name in ("train.jsonl", "eval.jsonl"):
            host.put(job.local_dir / name, host.join(where, name))
        base = self.models.get(job.base_model)
        if host.is_local:
            base_path = str(base.path)
        else:
            bases = host.join(host.root, "bases")
            host.mkdir(bases)
            base_path = host.join(bases, f"{Path(base.path).stem}-{(base.fingerprint or '')[:12]}.gguf")
            size = Path(base.path).stat().st_size
            if host.size(base_path) != size:  # a dropped upload left only a .part: sent again
                started = time.monotonic()

                def progress(done: int, total: int) -> None:
                    say({"event": "upload", "done": done, "total": total,
                         "eta_s": _eta(started, done, total)})
                host.put(Path(base.path), base_path, progress)
        held = (job.local_dir / "eval.jsonl").stat().st_size > 0
        spec = {"base": {"gguf": base_path}, "out": host.join(where, "output"),
                "cache": host.join(host.root, "cache"),
                "data": {"train": host.join(where, "train.jsonl"),
                         "eval": host.join(where, "eval.jsonl") if held else None},
                **spec_train(job.settings)}
        if host.is_local:  # the trainer waits while an answer is generated here (engine/budget.py)
            spec["yield_dir"] = str(BUDGET.signal_dir())
        spec_path = host.join(where, "spec.json")
        host.write_text(spec_path, json.dumps(spec, indent=1))
        return spec_path

    # -- following --------------------------------------------------------------------------
    def sync(self, key: int | str, host=None, secrets: Secrets | None = None,
             progress: ProgressSink | None = None) -> Job:
        """Take what the trainer wrote since last time; finish the job when it has ended."""
        job = self.get(key)
        if not job.can_follow:
            return job
        own = host is None
        host = host or self._connect(job, secrets)
        try:
            return self._sync(job, host, _events_as_progress(progress))
        finally:
            if own:
                host.close()

    def _sync(self, job: Job, host, say: EventSink) -> Job:
        where = job.remote_dir or self._job_dir(job, host)
        if job.status == "running":
            alive = bool(job.pid) and host.alive(job.pid)   # asked before reading: no line is missed
            self._copy_log(job, host, where)
            events = self._take_events(job, host, where, say)
            if alive:
                return self.get(job.id)
            job = self.get(job.id)
            last: dict = next((e for e in reversed(events or self._stored_events(job.id))
                         if e.get("event") in ("done", "error", "stopped", "start")), {})
            if last.get("event") == "error":
                kind, message = describe_error(last, bool(self._gpu_seen(job.id)))
                self._fail(job, kind, message)
                return self.get(job.id)
            if last.get("event") == "stopped":
                self._update(job.id, status="cancelled", finished_at=datetime.now())
                return self.get(job.id)
            if last.get("event") != "done":
                tail = self.log_text(job.id, 12)
                self._fail(job, "killed", "The trainer ended without finishing (killed, or out of memory). "
                           f"The job can be resumed from its last checkpoint. Its last output:\n{tail}")
                return self.get(job.id)
            self._update(job.id, status="converting")
            say({"event": "status", "status": "converting"})
        return self._finish(self.get(job.id), host, where, say)

    def _gpu_seen(self, job_id: int) -> bool:
        starts = self.events(job_id, "start")
        return bool(starts and starts[-1].cuda)

    def _copy_log(self, job: Job, host, where: str) -> None:
        mirror = job.local_dir / "trainer.log"
        if host.is_local and Path(where) == job.local_dir:
            return
        have = mirror.stat().st_size if mirror.exists() else 0
        chunk = host.read_from(host.join(where, "trainer.log"), have, READ_LIMIT)
        if chunk:
            with mirror.open("ab") as f:
                f.write(chunk)

    def _take_events(self, job: Job, host, where: str, say: EventSink) -> builtins.list[dict]:
        with self._reading:
            return self._take_events_locked(self.get(job.id), host, where, say)

    def _take_events_locked(self, job: Job, host, where: str, say: EventSink) -> builtins.list[dict]:
        chunk = host.read_from(host.join(where, "output", "progress.jsonl"), job.events_read or 0, READ_LIMIT)
        end = chunk.rfind(b"\n") + 1          # a line still being written waits for next time
        if end <= 0 and len(chunk) >= READ_LIMIT:   # no trainer writes such a line: skip it
            log.warning("job %s: skipped %d bytes of progress without a line end", job.name, len(chunk))
            self._update(job.id, events_read=(job.events_read or 0) + len(chunk))
            return []
        if end <= 0:
            return []
        events = []
        for line in chunk[:end].decode("utf-8", "replace").splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                log.warning("job %s: unreadable trainer line %r", job.name, line[:200])
        fields: dict = {"events_read": (job.events_read or 0) + end}
        for e in events:
            if e.get("event") == "step":
                fields.update(step=e.get("step"), total_steps=e.get("total"), loss=e.get("loss"), eta_s=e.get("eta_s"))
            elif e.get("event") == "start":
                fields.update(total_steps=e.get("total_steps"), step=e.get("resumed_from") or 0)
        with self.store.transaction() as cur:
            seq = cur.execute("SELECT coalesce(max(seq), 0) FROM job_events WHERE job_id = ?", [job.id]).fetchone()[0]
            cur.executemany("INSERT INTO job_events VALUES (?, ?, ?)",
                            [[job.id, seq + i + 1, json.dumps(e, ensure_ascii=False)] for i, e in enumerate(events)])
            fields["updated_at"] = datetime.now()
            cur.execute(f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                        [*fields.values(), job.id])
        for e in events:
            say(e)
        return events

    def _finish(self, job: Job, host, where: str, say: EventSink) -> Job:
        """Fetch the adapter, convert it to GGUF, check it on its base, register it."""
        from ..models.gguf_file import read_gguf_info
        from . import to_gguf

        try:
            local_adapter = host.get_adapter(where, job.local_dir / "adapter")
        except UnsafeAdapterError as exc:
            self._fail(job, "unsafe_adapter", str(exc))
            return self.get(job.id)
        result_raw = host.read_from(host.join(where, "output", "result.json"), 0, RESULT_LIMIT)
        try:
            result = json.loads(result_raw) if result_raw else {}
        except ValueError:
            result = {}
        result = result if isinstance(result, dict) else {}
        base = self.models.get(job.base_model)
        try:
            out = to_gguf.convert(local_adapter, read_gguf_info(base.path), job.local_dir / f"{job.name}.gguf")
            record = {"job": job.id, "host": job.host.label, "data": job.data, "settings": job.settings.to_dict(),
                      "final_loss": result.get("final_loss"), "eval_loss": result.get("eval_loss"),
                      "steps": result.get("step"), "backend": result.get("backend"),
                      "seconds": result.get("seconds"), "peak_rss_bytes": result.get("peak_rss_bytes")}
            existing = next((m for m in self.models.list() if m.name == job.name), None)
            if existing is None:
                self.models.add_adapter(out, base=base.name, name=job.name, training=record)
        except Exception as exc:  # noqa: BLE001 - whatever the adapter files hold, the job must not stay "converting"
            if not isinstance(exc, (ModelError, OSError)):
                log.exception("job %s: converting the adapter failed", job.name)
            self._fail(job, "convert", f"The adapter was trained but could not be converted for llama.cpp: {exc}")
            return self.get(job.id)
        self._update(job.id, status="done", adapter=job.name, result=result, finished_at=datetime.now(),
                     error=None, error_kind=None)
        say({"event": "status", "status": "done", "adapter": job.name})
        log.info("job %s done: adapter %s registered (final loss %s)", job.name, job.name, result.get("final_loss"))
        return self.get(job.id)

    def follow(self, key: int | str, secrets: Secrets | None = None, progress: ProgressSink | None = None,
               cancel: CancelToken | None = None, interval: float = 1.0,
               give_up_after: float | None = None) -> Job:
        """Sync until the job ends. A lost connection is retried with growing pauses (the
        trainer goes on meanwhile); `give_up_after` seconds of failures stop following only."""
        say = _events_as_progress(progress)
        host, failing_since, pause = None, None, 2.0
        job = self.get(key)
        try:
            while job.status in ("running", "converting"):
                if cancel is not None and cancel.cancelled:
                    break
                try:
                    if host is None:
                        host = self._connect(job, secrets)
                        if failing_since is not None:
                            say({"event": "status", "status": "reconnected"})
                        failing_since, pause = None, 2.0
                    job = self._sync(job, host, say)
                except (AuthError, HostKeyUnknownError, HostKeyChangedError):
                    raise   # waiting will not fix these: the user must answer
                except (ConnectionLostError, HostError) as exc:
                    if host is not None:
                        host.close()
                    host = None
                    now = time.monotonic()
                    failing_since = failing_since or now
                    if give_up_after is not None and now - failing_since > give_up_after:
                        raise
                    say({"event": "status", "status": "connection_lost", "message": str(exc), "retry_s": pause})
                    _sleep(cancel, pause)
                    pause = min(pause * 2, 60.0)
                    job = self.get(job.id)
                    continue
                if job.status in ("running", "converting"):
                    _sleep(cancel, interval)
                job = self.get(job.id)
        finally:
            if host is not None:
                host.close()
        return job

    # -- stopping and cleaning ----------------------------------------------------------------
    def cancel(self, key: int | str, secrets: Secrets | None = None) -> Job:
        """Stop the trainer's whole process group (it saves a checkpoint first when it can)."""
        job = self.get(key)
        if job.status in ("done", "cancelled"):
            return job
        host = self._connect(job, secrets)
        try:
            if job.pid and host.alive(job.pid):
                host.stop(job.pid)
            if job.status == "running":
                where = job.remote_dir or self._job_dir(job, host)
                self._copy_log(job, host, where)
                self._take_events(job, host, where, lambda _e: None)
        finally:
            host.close()
        self._update(job.id, status="cancelled", finished_at=datetime.now())
        log.info("job %s cancelled", job.name)
        return self.get(job.id)

    def clean(self, key: int | str, secrets: Secrets | None = None, forget: bool = False) -> Job | None:
        """Remove the job's folder on the host (checkpoints, copies); with `forget`, the job
        and its files here too. The registered adapter stays."""
        job = self.get(key)
        if not job.can_clean:
            raise FinetuneError(f"Job {job.name} is {job.status}; cancel it before cleaning up.")
        if job.host.kind != "local" and job.remote_dir:
            host = self._connect(job, secrets)
            try:
                host.remove_tree(job.remote_dir)
            finally:
                host.close()
        else:
            for sub in ("output",):
                self._local.remove_tree(str(job.local_dir / sub))
        if not forget:
            self._update(job.id, remote_dir=None)
            return self.get(job.id)
        keep = job.local_dir / f"{job.name}.gguf"
        with self.store.transaction() as cur:
            cur.execute("DELETE FROM job_events WHERE job_id = ?", [job.id])
            cur.execute("DELETE FROM jobs WHERE id = ?", [job.id])
        for f in job.local_dir.glob("*"):
            if f != keep:
                self._local.remove_tree(str(f)) if f.is_dir() else f.unlink()
        return None


def _kind(exc: Exception) -> str:
    name = type(exc).__name__
    return {"HostKeyUnknownError": "host_key_unknown", "HostKeyChangedError": "host_key_changed",
            "PassphraseNeededError": "passphrase", "AuthError": "auth", "ConnectionLostError": "connection",
            "Cancelled": "cancelled"}.get(name, "host")


def _eta(started: float, done: int, total: int) -> float | None:
    elapsed = time.monotonic() - started
    return round((total - done) * elapsed / done, 1) if done and elapsed > 0.5 else None


def _events_as_progress(progress: ProgressSink | None) -> EventSink:
    """The trainer's and the runner's events reach callers as Progress values with the
    JobEvent in `item`: steps count `steps`, an upload counts `bytes`."""
    if progress is None:
        return lambda _event: None

    def say(event: dict) -> None:
        kind = event.get("event")
        done, unit = (event.get("step", 0), "steps") if kind == "step" else (event.get("done", 0), "bytes") \
            if kind == "upload" else (0, "")
        progress(Progress(done=done or 0, total=event.get("total") if unit else None, unit=unit,
                          eta_s=event.get("eta_s"), message=event.get("line") or event.get("message") or "",
                          item=JobEvent.from_dict(event)))
    return say


def _sleep(cancel: CancelToken | None, seconds: float) -> None:
    if cancel is not None:
        cancel.wait(seconds)
    else:
        time.sleep(seconds)
