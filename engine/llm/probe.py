"""Which llama.cpp settings are safe on this machine, found out where a crash does no harm.

Some CPUs crash llama.cpp's fastest kernels (seen: AMX on cloud Xeons, SIGSEGV in the
first matrix multiply). So, once per machine and llama.cpp build, a short real load +
prefill + decode runs in a worker process with the default settings, and again with
safe settings (no extra buffer types, so no repacked weights for those kernels) if the
first one dies. The verdict is kept in the data folder, keyed by the CPU and the build,
and decides the settings of every local model. Crashes of one model are counted here
too: two in a row, and that model runs with safe settings on this machine from then on.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import BunkoError, ModelCrashedError
from ..types import GenerationSettings

log = logging.getLogger(__name__)

FILE = "llm-safety.json"
CRASHES_BEFORE_SAFE = 2
_CPU_FLAGS = ("avx", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "amx_tile",
              "amx_int8", "amx_bf16", "fma", "f16c", "sse4_2")
_lock = threading.Lock()


def cpu_info() -> dict:
    """The CPU's name and the features llama.cpp chooses kernels by (Linux: /proc/cpuinfo)."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and value.strip():
                    name = value.strip()
                elif key in ("flags", "Features"):
                    flags = set(value.split())
                    break
    except OSError:
        pass
    return {"name": name, "arch": platform.machine(), "logical_cpus": os.cpu_count(),
            "features": [f for f in _CPU_FLAGS if f in flags]}


def build_id() -> str:
    """The installed llama.cpp: the package version and its library file's size and time."""
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.origin:
        return "none"
    lib = Path(spec.origin).parent / "lib"
    parts = []
    for f in sorted(lib.glob("*")) if lib.is_dir() else []:
        st = f.stat()
        parts.append(f"{f.name}:{st.st_size}:{int(st.st_mtime)}")
    version = "?"
    try:
        from importlib.metadata import version as dist_version

        version = dist_version("llama-cpp-python")
    except Exception:  # noqa: BLE001 - an unusual install still gets a key
        pass
    return f"{version}/" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def machine_key() -> str:
    cpu = cpu_info()
    text = json.dumps([cpu["name"], cpu["arch"], cpu["features"], build_id()])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Verdict:
    """What the probe found on this machine and build."""
    key: str
    extra_bufts: bool          # the default settings work; False: safe settings are needed
    ok: bool                   # a model ran at all (with one of the two)
    seconds: float
    detail: str                # what happened, in words
    when: str = ""

    @property
    def summary(self) -> str:
        if not self.ok:
            return f"llama.cpp failed even with safe settings: {self.detail}"
        return ("default settings" if self.extra_bufts else
                "safe settings (no extra buffer types): the defaults crashed") + f", probed in {self.seconds:.1f} s"


class SafetyBook:
    """The probe's verdict and each model's crashes, in one small JSON file."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)

    def verdict(self, key: str | None = None) -> Verdict | None:
        found = self._read().get("machine")
        if not isinstance(found, dict) or found.get("key") != (key or machine_key()):
            return None
        try:
            return Verdict(**found)
        except TypeError:
            return None

    def keep_verdict(self, verdict: Verdict) -> None:
        self.keep("machine", asdict(verdict))

    def keep(self, section: str, value) -> None:
        with _lock:
            data = self._read()
            data[section] = value
            self._write(data)

    # -- crashes of one model on this machine -------------------------------------------
    def model(self, model_id: str) -> dict:
        entry = self._read().get("models", {}).get(f"{machine_key()}:{model_id}")
        return entry if isinstance(entry, dict) else {"crashes": 0, "safe": False}

    def _update(self, model_id: str, change) -> dict:
        with _lock:
            data = self._read()
            models = data.setdefault("models", {})
            key = f"{machine_key()}:{model_id}"
            entry = models.get(key) if isinstance(models.get(key), dict) else {"crashes": 0, "safe": False}
            change(entry)
            models[key] = entry
            self._write(data)
            return entry

    def crashed(self, model_id: str, how: str) -> dict:
        """Count a crash; the second in a row turns safe settings on for this model."""
        def change(entry):
            entry["crashes"] = int(entry.get("crashes", 0)) + 1
            entry["last"] = how[:300]
            if entry["crashes"] >= CRASHES_BEFORE_SAFE and not entry.get("safe"):
                entry["safe"] = True
                entry["reason"] = f"crashed {entry['crashes']} times in a row with the default settings"
        return self._update(model_id, change)

    def ran(self, model_id: str) -> None:
        """An answer finished: the crash count starts again (the safe choice stays)."""
        if self.model(model_id).get("crashes"):
            self._update(model_id, lambda entry: entry.update(crashes=0))


def system_info(book: SafetyBook | None = None) -> dict:
    """llama.cpp's own account of this machine (features, backends, GPU offload), asked of a
    worker once per machine and build: even loading the CUDA backend can fault."""
    from .. import paths
    from .supervised import WorkerProcess

    book = book or SafetyBook(paths.machine_dir())
    key = machine_key()
    found = book._read().get("system")
    if isinstance(found, dict) and found.get("key") == key and isinstance(found.get("info"), dict):
        return found["info"]
    worker = WorkerProcess("llama.cpp")
    try:
        info = worker.call("system")
    except ModelCrashedError as exc:
        info = {"error": str(exc), "gpu_offload": False, "system_info": ""}
    except BunkoError as exc:   # llama-cpp-python missing or broken
        return {"error": str(exc), "gpu_offload": False, "system_info": ""}
    finally:
        worker.close()
    book.keep("system", {"key": key, "info": info})
    return info


def run_probe(model_path: Path, n_threads: int, n_gpu_layers: int = 0) -> Verdict:
    """Load `model_path` in a worker and make it prefill and decode a few tokens: first with the
    default settings, then, if that worker dies, with safe settings. An error that is not a crash
    (the file cannot be loaded at all) is raised: it says nothing about the machine."""
    from .supervised import LocalModel

    t0 = time.perf_counter()
    notes: list[str] = []
    for extra in (True, False):
        try:
            model = LocalModel(model_path, 256, n_threads, 64, n_gpu_layers, None, extra, label=Path(model_path).name)
            try:
                tokens = model.tokenize("The capital of Japan is Tokyo. Count to five: one, two,")
                pieces = list(model.generate(tokens, 4, GenerationSettings(temperature=0.0, repeat_penalty=1.0)))
                if model.crashed:
                    raise ModelCrashedError(model.crashed)
            finally:
                model.close()
            detail = "default settings ran" if extra else f"safe settings ran; {notes[0]}"
            log.info("llama.cpp probe: %s (%d pieces)", detail, len(pieces))
            return Verdict(machine_key(), extra, True, time.perf_counter() - t0, detail,
                           time.strftime("%Y-%m-%d %H:%M:%S"))
        except ModelCrashedError as exc:
            notes.append(f"with {'default' if extra else 'safe'} settings: {exc}")
            log.warning("llama.cpp probe, %s settings: %s", "default" if extra else "safe", exc)
    return Verdict(machine_key(), False, False, time.perf_counter() - t0, "; ".join(notes),
                   time.strftime("%Y-%m-%d %H:%M:%S"))


def ensure_verdict(book: SafetyBook, model_path: Path, n_threads: int) -> Verdict:
    """The cached verdict for this machine and build, probing first when there is none."""
    key = machine_key()
    found = book.verdict(key)
    if found is not None:
        return found
    log.info("probing llama.cpp on this machine with %s", Path(model_path).name)
    verdict = run_probe(model_path, n_threads)
    book.keep_verdict(verdict)
    return verdict
