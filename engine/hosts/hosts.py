"""Where a trainer runs: this computer, or a GPU server reached over SSH.

Both hosts offer the same few operations (files in and out, start a detached
trainer, is it alive, stop its process group, run a short command), so a job
does not care where it runs. Remote hosts are Linux; paths there are POSIX.
Secrets (passphrase, password) are passed in and kept in memory only.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Callable

from ..budget import lower_priority

_HOST_TEXT = re.compile(r"(?:(?P<user>[^@\s]+)@)?(?P<host>[^:@\s]+)(?::(?P<port>\d+))?")

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]   # bytes done, bytes in all


@dataclass(frozen=True)
class HostSpec:
    """How to reach a training host. Stored with the job; never holds a secret."""
    kind: str = "local"               # local | ssh
    alias: str | None = None          # a Host from ~/.ssh/config
    hostname: str | None = None
    user: str | None = None
    port: int | None = None
    key_file: str | None = None
    python: str = "python3"           # makes the trainer's environment
    env_python: str | None = None     # an environment the user already has: no setup
    root: str | None = None           # Bunko's folder there (default ~/.bunko, or the data folder)
    ssh_config: str | None = None     # another ssh_config than ~/.ssh/config
    known_hosts: str | None = None    # Bunko's own known_hosts (accepted keys are added here)

    @property
    def label(self) -> str:
        if self.kind == "local":
            return "this computer"
        who = f"{self.user}@" if self.user else ""
        where = self.alias or self.hostname or "?"
        return f"{who}{where}" + (f":{self.port}" if self.port and not self.alias else "")

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None})

    @classmethod
    def from_json(cls, text: str) -> HostSpec:
        data = json.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @classmethod
    def parse(cls, text: str, **extra) -> HostSpec | None:
        """An SSH host from what a person types: an alias from ~/.ssh/config, or
        user@host[:port]; None when it is neither. `extra`: further HostSpec fields."""
        m = _HOST_TEXT.fullmatch(text.strip())
        if not m:
            return None
        if m["user"] or m["port"]:
            return cls(kind="ssh", hostname=m["host"], user=m["user"], port=int(m["port"]) if m["port"] else None,
                       **extra)
        return cls(kind="ssh", alias=m["host"], **extra)


@dataclass
class Secrets:
    """Typed by the user, asked again next session; never stored."""
    passphrase: str | None = None
    password: str | None = None
    accept_fingerprint: str | None = None   # the fingerprint the user compared and accepted


@dataclass
class RunResult:
    code: int
    out: str
    err: str


@dataclass
class HostReport:
    """What Test connection found."""
    label: str
    python: str | None = None          # its version, None = no usable Python
    gpus: list[dict] = field(default_factory=list)   # name, memory_mib, free_mib
    driver: str | None = None
    disk_free_bytes: int | None = None
    env_ready: bool = False
    system: str = ""
    problems: list[str] = field(default_factory=list)   # stop the job
    warnings: list[str] = field(default_factory=list)   # the user should know

    @property
    def ok(self) -> bool:
        return not self.problems


TRAINER_MARK = "bunko_train"   # in the trainer's command line: tells our process from a reused pid


class LocalHost:
    """This computer. Paths are local; 'uploading' is a copy unless already in place."""

    is_local = True  # job files already sit in the job folder; nothing to fetch or close

    def __init__(self, spec: HostSpec, root: Path) -> None:
        self.spec = spec
        self.root = str(Path(spec.root or root))
        self._children: dict[int, subprocess.Popen] = {}

    def join(self, *parts: str) -> str:
        return str(Path(*parts))

    def close(self) -> None:
        pass

    def mkdir(self, path: str) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)

    def exists(self, path: str) -> bool:
        return Path(path).exists()

    def size(self, path: str) -> int | None:
        p = Path(path)
        return p.stat().st_size if p.is_file() else None

    def put(self, local: Path, remote: str, progress: Progress | None = None) -> None:
        if Path(local).resolve() == Path(remote).resolve():
            return
        tmp = Path(remote + ".part")
        shutil.copyfile(local, tmp)
        tmp.replace(remote)
        if progress:
            size = Path(local).stat().st_size
            progress(size, size)

    def write_text(self, remote: str, text: str) -> None:
        tmp = Path(remote + ".part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(remote)

    def get_adapter(self, job_dir: str, local: Path) -> Path:
        """The job's adapter where the trainer left it, after the checks a download gets."""
        from .adapter_files import check_local

        return check_local(Path(job_dir))

    def read_from(self, path: str, offset: int, limit: int = -1) -> bytes:
        """Bytes from `offset` on (at most `limit`): a host's files are read in bounded pieces."""
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                return f.read(limit)
        except FileNotFoundError:
            return b""

    def remove_tree(self, path: str) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def run(self, argv: list[str], timeout: float | None = 60) -> RunResult:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError as exc:
            return RunResult(127, "", str(exc))
        return RunResult(done.returncode, done.stdout, done.stderr)

    def start(self, argv: list[str], cwd: str, log_name: str) -> int:
        """Start detached in its own process group (session), output to cwd/log_name."""
        with open(Path(cwd) / log_name, "ab") as out:
            kwargs: dict = {"cwd": cwd, "stdout": out, "stderr": subprocess.STDOUT, "stdin": subprocess.DEVNULL}
            if sys.platform == "win32":
                kwargs["creationflags"] = (subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
                                           | subprocess.BELOW_NORMAL_PRIORITY_CLASS)
            else:
                kwargs["start_new_session"] = True
            proc = subprocess.Popen(argv, **kwargs)
        lower_priority(proc.pid)  # an answer in the app gets the cores first (engine/budget.py)
        self._children[proc.pid] = proc
        return proc.pid

    def alive(self, pid: int) -> bool:
        child = self._children.get(pid)
        if child is not None:  # ours: poll() also reaps it, so it does not linger as a zombie
            return child.poll() is None
        if os.name == "nt":
            out = self.run(["tasklist", "/FI", f"PID eq {pid}", "/NH"]).out
            return str(pid) in out
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if not cmdline:   # a trainer still inside exec, a zombie, or a kernel thread: see below
                return _session_leader_running(pid)
            return TRAINER_MARK.encode() in cmdline
        except OSError:
            try:
                os.kill(pid, 0)
                return True
            except OSError:
                return False

    def stop(self, pid: int, grace: float = 20.0) -> None:
        """Ask the process group to stop (the trainer saves), then kill what is left."""
        if os.name == "nt":
            self.run(["taskkill", "/T", "/PID", str(pid)])
            _wait(lambda: not self.alive(pid), grace)
            self.run(["taskkill", "/T", "/F", "/PID", str(pid)])
            return
        _signal_group(pid, signal.SIGTERM)
        if not _wait(lambda: not self.alive(pid), grace):
            log.warning("trainer %d did not stop in %.0f s; killing its process group", pid, grace)
        _signal_group(pid, signal.SIGKILL)  # also anything it started that is still there
        _wait(lambda: not self.alive(pid), 5)


def _session_leader_running(pid: int) -> bool:
    """Whether `pid` runs (not a zombie) and leads its own session, as a trainer that `start`
    began does; a kernel thread that took a reused pid has session 0 (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return len(fields) > 3 and fields[0] not in ("Z", "X") and fields[3] == str(pid)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _wait(done: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if done():
            return True
        time.sleep(0.2)
    return done()


def quote(path: str) -> str:
    """A remote path for the shell; a leading ~/ stays expandable."""
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    return shlex.quote(path)

