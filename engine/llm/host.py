"""The one chat model in memory: loaded on request, switched on request, with its adapter.

Everything that runs the model goes through `use()`, which holds a lock: the
app, the CLI and the HTTP server share one model and take turns. A local model
lives in a worker process (engine/llm/supervised.py); when that dies, `use()`
notes the crash, drops the model, and the next request starts a fresh worker,
with safe settings after two crashes in a row (engine/llm/probe.py).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from collections.abc import Iterator

from .. import paths
from ..budget import BUDGET
from ..errors import ModelCrashedError, ModelLoadError
from ..models.registry import check_file
from ..types import DoctorReport, LoadSettings, ModelState
from . import gpu
from ..models.gguf_file import read_gguf_info
from .probe import SafetyBook, ensure_verdict
from .runtime import default_threads
from .supervised import LocalModel

log = logging.getLogger(__name__)

MAX_DEFAULT_CTX = 8192


def available_memory() -> int | None:
    """Bytes of RAM the system can still give, where the system says (Linux)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class ModelHost:
    def __init__(self, registry) -> None:
        self.registry = registry
        self._lock = threading.RLock()
        self._model: Any = None     # a supervised.LocalModel or a remote.model.RemoteModel (one interface)
        self._info: Any = None      # the registry's ModelInfo of the loaded model
        self._adapter: Any = None   # and of its adapter
        self._scale = 1.0
        self._settings = LoadSettings()
        self._state: ModelState | None = None
        self._crashes = 0           # the loaded local model's crashes in a row, as recorded
        self._crashes = 0           # the loaded local model's crashes in a row, as recorded
        self._servers: dict = {}    # name -> RemoteServer, for models on the user's GPU servers
        self.secrets: dict = {}     # name -> hosts.Secrets typed by the user this session

    @property
    def state(self) -> ModelState | None:
        return self._state

    def load(self, name: str | None = None, settings: LoadSettings | None = None) -> ModelState:
        """Load a model by name (None: the default), replacing the one in memory."""
        with self._lock:
            info = self.registry.get(name) if name else self.registry.default()
            if info.kind != "model":
                raise ModelLoadError(f"{info.name} is a LoRA adapter; load its base model "
                                     f"{info.base_model} and attach the adapter to it.")
            settings = settings or self._settings
            if info.location != "local":
                return self._load_remote(info, settings)
            check_file(info)
            gguf = read_gguf_info(info.path)
            n_ctx = settings.n_ctx or min(gguf.context_length or 4096, MAX_DEFAULT_CTX)
            threads = settings.n_threads or default_threads()
            cuda = gpu.cuda_build()
            card = gpu.gpu_info() if cuda else None
            plan = gpu.plan_offload(gguf, n_ctx, card.free_bytes if card else None, cuda,
                                    requested=settings.n_gpu_layers)
            self._check_memory(info, gguf, n_ctx, plan)
            self.unload()
            self._model, safe = self._start_local(info, n_ctx, threads, settings, plan)
            self._info, self._settings = info, settings
            layers = self._model.n_gpu_layers
            offload = plan.short if layers == plan.n_gpu_layers else gpu.OffloadPlan(
                layers, plan.total_layers, False, plan.vram_needed_bytes, "").short
            self._state = ModelState(info.name, str(info.path), None, 1.0, self._model.n_ctx, threads,
                                     layers, offload, plan.reason, gguf.chat_template,
                                     tuple(self._model.special_texts().items()), safe_settings=safe,
                                     worker_pid=self._model.pid)
            return self._state

    @staticmethod
    def _model_id(info) -> str:
        return info.fingerprint or f"{info.name}:{info.size}"

    def _start_local(self, info, n_ctx, threads, settings, plan, retry: bool = True):
        """A worker holding `info`'s GGUF, with the settings this machine and model need."""
        book = SafetyBook(paths.machine_dir())
        verdict = ensure_verdict(book, Path(info.path), threads)
        record = book.model(self._model_id(info))
        self._crashes = int(record.get("crashes", 0))   # a finished answer sets it back to 0 (use())
        extra = verdict.extra_bufts and not record.get("safe")
        layers = plan.n_gpu_layers
        why = ""
        if not verdict.extra_bufts:
            why = "this computer's CPU crashed llama.cpp's default settings (the probe)"
        if record.get("safe"):
            why = f"{info.name} {record.get('reason', 'crashed before')}"
            if layers:  # fewer layers on the GPU: a driver or memory fault is less likely
                layers = max(0, (layers if layers > 0 else plan.total_layers) // 2)
        log.info("loading %s: context %d, %d threads, GPU %s%s", info.name, n_ctx, threads, plan.short,
                 f", safe settings ({why})" if why else "")
        try:
            model = LocalModel(Path(info.path), n_ctx, threads, settings.n_batch, layers,
                               settings.flash_attn, extra, label=info.name)
        except ModelCrashedError as exc:
            record = book.crashed(self._model_id(info), str(exc))
            if record.get("safe") and extra and retry:
                log.warning("%s; trying once more with safe settings", exc)
                return self._start_local(info, n_ctx, threads, settings, plan, retry=False)
            raise ModelCrashedError(f"{exc}. {self._next_step(record, extra)}") from None
        return model, why

    @staticmethod
    def _next_step(record: dict, was_default: bool) -> str:
        if record.get("safe") and was_default:
            return "It crashed twice in a row, so Bunko will start it with safe settings next time."
        if record.get("safe") and record.get("crashes", 0) >= 2:
            return ("It crashed with safe settings too: the file may be damaged or made for another "
                    "llama.cpp. Try another model or quantisation.")
        return "Bunko starts it again for your next question."

    def crashed(self) -> str | None:
        """If the loaded model's worker died: count it, drop the model, and say in words what
        happened and what Bunko does next. None when nothing crashed."""
        with self._lock:
            how = getattr(self._model, "crashed", None)
            if not how:
                return None
            was_default = self._model.extra_bufts
            record = SafetyBook(paths.machine_dir()).crashed(self._model_id(self._info), how)
            self.unload()
            return f"{how}. What it had written is kept. {self._next_step(record, was_default)}"

    def doctor(self, probe: bool = False, embedding: dict | None = None) -> DoctorReport:
        """`bunko doctor`'s facts; `probe`: run the llama.cpp probe again now, on the default model;
        `embedding`: the embedder's report (embed.device.report), shown with them."""
        from . import doctor
        from .probe import run_probe

        if probe:
            info = self.registry.default()
            check_file(info)
            SafetyBook(paths.machine_dir()).keep_verdict(run_probe(Path(info.path), default_threads()))
        with self._lock:
            report = doctor.report(self._state, getattr(self._model, "buffers", ()), self.memory_bytes())
        report["embedding"] = embedding
        return DoctorReport(doctor.as_text(report), report)

    def memory_bytes(self) -> int | None:
        """Resident memory of the loaded model's worker process (None: none, or a remote model)."""
        with self._lock:
            measure = getattr(self._model, "memory_bytes", None)
            return measure() if measure else None

    def _load_remote(self, info, settings: LoadSettings) -> ModelState:
        """A model on an endpoint, or llama-server on the user's GPU server (started if needed)."""
        from .remote import open as remote_open

        self.unload()
        if info.location == "ssh":
            server = self.server(info.name)
            if not server.running:
                server.start()
            self._model = remote_open.open_ssh(info, server)
            offload = server.offload
        else:
            self._model = remote_open.open_endpoint(info)
            offload = "on the server"
        self._info, self._settings = info, settings
        self._state = ModelState(info.name, info.path, None, 1.0, self._model.n_ctx, 0, 0, offload,
                                 f"answers come from {self._model.where}", info.chat_template,
                                 where=self._model.where)
        log.info("using %s at %s", info.name, self._model.where)
        return self._state

    def server(self, name: str):
        """The llama-server of a registered `ssh` model (kept, so a dropped link reconnects)."""
        from .. import paths
        from .remote import open as remote_open

        with self._lock:
            if name not in self._servers:
                info = self.registry.get(name)
                self._servers[name] = remote_open.server_for(info, paths.data_dir(), self.secrets.get(name))
            return self._servers[name]

    def stop_server(self, name: str) -> None:
        """Stop a model's llama-server on its host (and forget it if it is the loaded one)."""
        with self._lock:
            if self._info is not None and self._info.name == name:
                self.unload()
            server = self._servers.pop(name, None) or self.server(name)
            self._servers.pop(name, None)
            server.stop()

    def close(self) -> None:
        """Unload, and close links to GPU servers (their llama-servers stop when idle)."""
        with self._lock:
            self.unload()
            for server in self._servers.values():
                server.close()
            self._servers.clear()

    def _check_memory(self, info, gguf, n_ctx, plan) -> None:
        free = available_memory()
        if free is None or plan.fits_all:
            return
        on_cpu = gguf.size if plan.n_gpu_layers == 0 else gguf.size * (1 - plan.n_gpu_layers / max(1, plan.total_layers))
        need = on_cpu + gpu.kv_bytes_per_layer(gguf, n_ctx) * len(gguf.layer_bytes)
        if need > free:
            raise ModelLoadError(
                f"{info.name} needs about {need / 1e9:.1f} GB of memory and {free / 1e9:.1f} GB is free. "
                "Close other programs, choose a smaller context size, or use a smaller quantisation.")

    def unload(self) -> None:
        with self._lock:
            if self._model is not None:
                self._model.close()  # a remote model's server keeps running: see close()/stop_server()
            self._model = self._info = self._adapter = self._state = None

    def ensure(self, name: str | None = None) -> None:
        """Make `name` (None: whatever is loaded, else the default) the loaded model."""
        with self._lock:
            if self._model is not None and not getattr(self._model, "alive", lambda: True)():
                # its worker died while idle (the OOM killer, a signal): a fresh one, as after a crash
                log.warning("the worker of %s had ended while idle; starting a new one", self._info.name)
                name = name or self._info.name
                self.unload()
            if self._model is None:
                self.load(name)
            elif name and name != self._info.name:
                self.load(name, self._settings)

    def attach(self, adapter_name: str | None, scale: float = 1.0) -> None:
        """Attach a registered adapter to the loaded model, or detach with None."""
        with self._lock:
            if self._model is None:
                raise ModelLoadError("No model is loaded to attach the adapter to.")
            if adapter_name is None:
                if self._adapter is not None:
                    self._model.set_adapter(None)
                self._adapter = None
            else:
                adapter = self.registry.get(adapter_name)
                if adapter.kind != "adapter":
                    raise ModelLoadError(f"{adapter.name} is a model, not a LoRA adapter.")
                self._model.check_adapter(adapter, self._info, self.registry)
                check_file(adapter)
                current = self._adapter.name if self._adapter is not None else None
                if current != adapter.name or scale != self._scale:
                    self._model.set_adapter(adapter, scale)
                self._adapter, self._scale = adapter, scale
            assert self._state is not None   # set with the model
            self._state = dataclasses.replace(self._state, adapter=adapter_name,
                                              adapter_scale=scale if adapter_name else 1.0)

    @contextmanager
    def use(self, model: str | None = None, adapter: str | None = None,
            scale: float = 1.0) -> Iterator[tuple[Any, ModelState]]:
        """Hold the model (loading or switching as needed) for one answer."""
        with self._lock:
            self.ensure(model)
            self.attach(adapter, scale)
            model, info, state = self._model, self._info, self._state
            assert state is not None   # ensure() has loaded one
            try:
                with BUDGET.foreground():  # indexing yields the cores while the answer is made
                    yield model, state
            finally:
                if getattr(model, "crashed", None):
                    self.crashed()
                elif self._crashes and info is not None:   # crashes in a row end with an answer
                    SafetyBook(paths.machine_dir()).ran(self._model_id(info))
                    self._crashes = 0
