"""The trainer's own Python environment on a host, and Test connection.

The trainer needs torch, transformers and peft (and Unsloth on a GPU), which the
app never carries. `setup` makes a venv on the host from the pinned requirements
next to the trainer script; a marker file records which requirements it holds, so
a changed pin sets it up again. On an SSH host setup runs detached (a dropped
connection does not kill pip) and is polled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from collections.abc import Callable

from .. import paths
from ..cancel import CancelToken
from ..errors import Cancelled, HostError
from ..hosts.hosts import HostReport, LocalHost, quote

log = logging.getLogger(__name__)

TRAINER_DIR = Path(__file__).resolve().parent / "trainer"
TRAINER_SCRIPT = TRAINER_DIR / "bunko_train.py"
MIN_PYTHON = (3, 10)
MIN_DISK = 8 * 1024 ** 3          # a venv with torch and one dequantised base
MIN_DISK_CPU = 3 * 1024 ** 3
MARKER = "bunko-env.json"

Line = Callable[[str], None]


def requirements(kind: str) -> Path:
    return TRAINER_DIR / f"requirements-{kind}.txt"


def requirements_id(kind: str) -> str:
    return hashlib.sha256(requirements(kind).read_bytes()).hexdigest()[:16]


def local_env_dir() -> Path:
    override = os.environ.get("BUNKO_TRAINER_ENV")
    return Path(override) if override else paths.data_dir() / "trainer-env"


def env_dir(host) -> str:
    return str(local_env_dir()) if host.is_local else host.join(host.root, "env")


def env_python(host) -> str:
    if host.spec.env_python:
        return host.spec.env_python
    if host.is_local and os.name == "nt":
        return str(Path(env_dir(host)) / "Scripts" / "python.exe")
    return host.join(env_dir(host), "bin", "python")


# -- Test connection ------------------------------------------------------------------

def probe(host) -> HostReport:
    """Python, GPUs, driver, free disk and the environment on `host`, with what stops or warns."""
    report = _probe_local(host) if host.is_local else _probe_remote(host)
    if report.python is None:
        report.problems.append(f"No Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]}+ found as {host.spec.python!r} on "
                               f"{report.label}; install python3 and python3-venv there.")
    elif tuple(int(x) for x in report.python.split(".")[:2]) < MIN_PYTHON:
        report.problems.append(f"Python {report.python} on {report.label} is too old; the trainer needs "
                               f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer.")
    if not report.gpus:
        report.warnings.append("No NVIDIA GPU found: training runs on the CPU, which is only practical for "
                               "tiny models such as the embedded SmolLM2.")
    need = MIN_DISK if report.gpus else MIN_DISK_CPU
    if report.disk_free_bytes is not None and report.disk_free_bytes < need and not report.env_ready:
        report.problems.append(f"Only {report.disk_free_bytes / 1024 ** 3:.1f} GiB free on {report.label}; "
                               f"the trainer's environment needs about {need / 1024 ** 3:.0f} GiB.")
    return report


def _probe_local(host: LocalHost) -> HostReport:
    from ..llm.gpu import gpu_info

    report = HostReport(label="this computer", system=f"{sys.platform}")
    found = shutil.which(host.spec.python) if not os.path.isabs(host.spec.python) else host.spec.python
    if found:
        done = host.run([found, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], timeout=30)
        report.python = done.out.strip() or None if done.code == 0 else None
    gpu = gpu_info()
    if gpu is not None:
        report.gpus = [{"name": gpu.name, "memory_mib": gpu.total_bytes // 2 ** 20,
                        "free_mib": gpu.free_bytes // 2 ** 20}]
        report.driver = gpu.driver
    probe_dir = Path(env_dir(host)).parent
    probe_dir.mkdir(parents=True, exist_ok=True)
    report.disk_free_bytes = shutil.disk_usage(probe_dir).free
    report.env_ready = env_ready(host)
    return report


_PROBE = r"""
PY={py}; ROOT={root}
if command -v "$PY" >/dev/null 2>&1; then "$PY" -c 'import sys; print("python=%d.%d.%d" % sys.version_info[:3])'; fi
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,memory.total,memory.free,driver_version --format=csv,noheader,nounits | sed 's/^/gpu=/'
fi
mkdir -p "$ROOT" && df -Pk "$ROOT" | awk 'NR==2 {{print "disk_kb=" $4}}'
echo "system=$(uname -sm)"
"""


def _probe_remote(host) -> HostReport:
    done = host.run(_PROBE.format(py=shlex.quote(host.spec.python), root=quote(host.root)), timeout=60)
    report = HostReport(label=host.spec.label)
    for line in done.out.splitlines():
        key, _, value = line.partition("=")
        if key == "python":
            report.python = value.strip()
        elif key == "gpu":
            cells = [c.strip() for c in value.split(",")]
            if len(cells) >= 4:
                report.gpus.append({"name": cells[0], "memory_mib": int(float(cells[1])),
                                    "free_mib": int(float(cells[2]))})
                report.driver = cells[3]
        elif key == "disk_kb":
            report.disk_free_bytes = int(value) * 1024
        elif key == "system":
            report.system = value.strip()
    report.env_ready = env_ready(host)
    return report


# -- setup ------------------------------------------------------------------------------

def env_kind(report: HostReport) -> str:
    return "cuda" if report.gpus else "cpu"


def env_ready(host, kind: str | None = None) -> bool:
    """The environment exists and holds the current pins (any kind when `kind` is None)."""
    if host.spec.env_python:  # the user's own environment: a missing package shows as the trainer's error
        return host.run([host.spec.env_python, "-c", "import sys"], timeout=60).code == 0
    marker = host.read_from(host.join(env_dir(host), MARKER), 0)
    if not marker:
        return False
    try:
        held = json.loads(marker)
    except ValueError:
        return False
    kinds = [kind] if kind else ["cuda", "cpu"]
    return any(held.get("kind") == k and held.get("requirements") == requirements_id(k) for k in kinds)


def setup(host, kind: str, on_line: Line | None = None, cancel: CancelToken | None = None,
          timeout: float = 3 * 3600) -> None:
    """Make the venv and install the pinned requirements (minutes; GBs on a GPU host)."""
    if host.spec.env_python:
        return
    say = on_line or (lambda _line: None)
    target = env_dir(host)
    marker = json.dumps({"kind": kind, "requirements": requirements_id(kind), "made": time.time()})
    if host.is_local:
        _setup_local(host, Path(target), kind, marker, say, cancel)
    else:
        _setup_remote(host, target, kind, marker, say, cancel, timeout)
    log.info("trainer environment ready on %s (%s)", host.spec.label, kind)


def _setup_local(host: LocalHost, target: Path, kind: str, marker: str, say: Line, cancel) -> None:
    python = shutil.which(host.spec.python) or host.spec.python
    py = target / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    steps = [[python, "-m", "venv", str(target)],
             [str(py), "-m", "pip", "install", "--upgrade", "pip"],
             [str(py), "-m", "pip", "install", "-r", str(requirements(kind))]]
    for argv in steps:
        say("$ " + " ".join(argv))
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace")
        tail: list[str] = []
        assert proc.stdout is not None   # a pipe
        for line in proc.stdout:
            say(line.rstrip())
            tail = (tail + [line.rstrip()])[-15:]
            if cancel is not None and cancel.cancelled:
                proc.terminate()
                proc.wait()
                raise Cancelled("Setting up the trainer's environment was cancelled.")
        if proc.wait() != 0:
            raise HostError(f"Setting up the trainer's environment failed at: {' '.join(argv)}\n" + "\n".join(tail))
    (target / MARKER).write_text(marker, encoding="utf-8")


def _setup_remote(host, target: str, kind: str, marker: str, say: Line, cancel, timeout: float) -> None:
    trainer_dir = host.join(host.root, "trainer")
    host.mkdir(trainer_dir)
    req = host.join(trainer_dir, requirements(kind).name)
    host.put(requirements(kind), req)
    logfile, exitfile = host.join(host.root, "setup.log"), host.join(host.root, "setup.exit")
    host.run(f"rm -f {quote(exitfile)} {quote(logfile)}")
    script = (f"{shlex.quote(host.spec.python)} -m venv {quote(target)} && {quote(target)}/bin/pip install -q "
              f"--upgrade pip && {quote(target)}/bin/pip install -r {quote(req)} && "
              f"printf %s {shlex.quote(marker)} > {quote(host.join(target, MARKER))}; echo $? > {quote(exitfile)}")
    host.run(f"setsid nohup sh -c {shlex.quote(script)} > {quote(logfile)} 2>&1 < /dev/null &")
    offset, end = 0, time.monotonic() + timeout
    while True:
        chunk = host.read_from(logfile, offset)
        offset += len(chunk)
        for line in chunk.decode("utf-8", "replace").splitlines():
            say(line)
        code = host.read_from(exitfile, 0).strip()
        if code:
            if code != b"0":
                tail = host.run(f"tail -n 15 {quote(logfile)}").out
                raise HostError(f"Setting up the trainer's environment on {host.spec.label} failed "
                                f"(see {logfile} there):\n{tail}")
            return
        if cancel is not None and cancel.cancelled:
            raise Cancelled("Stopped following the setup; it goes on on the host.")
        if time.monotonic() > end:
            raise HostError(f"Setting up the environment on {host.spec.label} took over {timeout / 3600:.0f} h.")
        time.sleep(2)
