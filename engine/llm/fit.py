"""Whether a catalog model suits this machine, and how fast it would run.

Whether a model fits is judged the way loading it would be: the GPU part by the offload planner
(engine.llm.gpu.plan_offload) on a header built from the catalog's numbers, the rest against the
computer's memory. The speed is a rough rule, labelled so: generating one token reads every
weight once, so tokens/s is about memory bandwidth divided by the bytes of the model in that memory.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..models.catalog import CatalogFile, CatalogModel, load_catalog
from ..models.gguf_file import GGUFInfo
from ..timefmt import size as size_text
from ..types import CatalogRow
from .gpu import cuda_build, gpu_info, kv_bytes_per_layer, plan_offload

log = logging.getLogger(__name__)

GB = 1e9
# The program, llama.cpp's buffers and the rest of the system want some room beside the weights.
RAM_RESERVE = int(1.5 * GB)
# A guess for GPUs: nvidia-smi does not report memory bandwidth. Mid-range cards have 250–1000 GB/s.
GPU_BANDWIDTH = 400 * GB
# llama.cpp reaches about this share of the bandwidth when generating.
EFFICIENCY = 0.6
# With few cores the CPU, not memory, is the limit: one token costs ~2 operations per weight, and
# a core does roughly this many per second on quantised weights (Qwen2.5-0.5B Q4_K_M: 20 tokens/s
# on 2 cores here, STACK.md).
CPU_OPS_PER_CORE = 10e9


@dataclass(frozen=True)
class Machine:
    """What the computer offers a model: memory, GPU and a rough memory bandwidth."""
    ram_total: int | None
    ram_available: int | None
    cpu_bandwidth: float             # bytes/s, measured roughly
    gpu_free: int | None = None      # bytes free on the NVIDIA GPU(s), None without one
    gpu_name: str | None = None
    cuda: bool = False               # llama-cpp-python can offload to it
    cores: int = 4                   # CPU cores llama.cpp would use


@dataclass(frozen=True)
class Fit:
    fits: bool
    where: str                # "GPU", "GPU+CPU", "CPU" or "-" when it does not fit
    reason: str               # for people
    tokens_per_s: float | None  # rough
    gpu_layers: int = 0
    extra: dict = field(default_factory=dict, compare=False)


# -- this machine ---------------------------------------------------------------
def _meminfo() -> tuple[int | None, int | None]:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            values = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f if line.split()[1:2]}
        return values.get("MemTotal"), values.get("MemAvailable")
    except (OSError, ValueError, IndexError):
        pass
    try:  # other Unix systems
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        return total, None
    except (ValueError, OSError, AttributeError):
        pass
    try:  # Windows
        import ctypes

        class _Status(ctypes.Structure):
            _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong), ("total", ctypes.c_ulonglong),
                        ("avail", ctypes.c_ulonglong), ("tp", ctypes.c_ulonglong), ("ap", ctypes.c_ulonglong),
                        ("tv", ctypes.c_ulonglong), ("av", ctypes.c_ulonglong), ("ev", ctypes.c_ulonglong)]

        status = _Status()
        status.length = ctypes.sizeof(_Status)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
            return int(status.total), int(status.avail)
    except Exception:  # noqa: BLE001 - no way to know: the fit column says "unknown"
        log.debug("memory size unknown", exc_info=True)
    return None, None


@lru_cache(maxsize=1)
def cpu_bandwidth() -> float:
    """Bytes/s of a large memory copy (best of three, ~64 MB): a rough stand-in for
    the read bandwidth that bounds generation on the CPU."""
    import numpy as np

    src = np.ones(64 * 1024 * 1024 // 8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.nbytes / max(best, 1e-6)  # a copy reads and writes every byte


def this_machine(gpu: bool = True) -> Machine:
    """Memory, GPU and bandwidth of this computer (nvidia-smi is asked only when `gpu`)."""
    total, available = _meminfo()
    cuda = cuda_build() if gpu else False
    card = gpu_info(timeout=3.0) if gpu else None
    return Machine(ram_total=total, ram_available=available, cpu_bandwidth=cpu_bandwidth(),
                   gpu_free=card.free_bytes if card else None, gpu_name=card.name if card else None, cuda=cuda,
                   cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 4)


# -- fit and speed ---------------------------------------------------------------
def header_for(model: CatalogModel, f: CatalogFile) -> GGUFInfo:
    """A GGUF header made from the catalog's numbers, for the offload planner.

    The embedding and output matrices hold about 2 × vocab × embd weights at the
    file's average bytes per weight; the blocks share the rest equally."""
    per_weight = f.size / (model.params_b * 1e9)
    other = min(int(2 * model.vocab * model.embd * per_weight), f.size // 3)
    per_layer = (f.size - other) // model.layers
    meta = {f"{model.arch}.vocab_size": model.vocab}
    if model.head_dim:
        meta[f"{model.arch}.attention.key_length"] = model.head_dim
        meta[f"{model.arch}.attention.value_length"] = model.head_dim
    return GGUFInfo(path=Path(f.file), size=f.size, version=3, kind="model", architecture=model.arch,
                    name=model.name, quantization=f.quant, context_length=model.context, n_layers=model.layers,
                    n_embd=model.embd, n_head=model.heads, n_head_kv=model.kv_heads, chat_template=None,
                    lora_alpha=None, tensors={}, layer_bytes=(per_layer,) * model.layers, other_bytes=other,
                    metadata=meta)


def assess(model: CatalogModel, f: CatalogFile, machine: Machine, n_ctx: int = 4096) -> Fit:
    """Whether `f` of `model` runs here at context `n_ctx`, where, and a rough tokens/s."""
    info = header_for(model, f)
    n_ctx = min(n_ctx, model.context)
    kv = kv_bytes_per_layer(info, n_ctx) * model.layers
    plan = plan_offload(info, n_ctx, machine.gpu_free, machine.cuda) if machine.cuda else None
    on_gpu_layers = model.layers if plan and plan.fits_all else max(plan.n_gpu_layers, 0) if plan else 0
    share = on_gpu_layers / model.layers
    gpu_bytes = int((f.size - info.other_bytes) * share) + (info.other_bytes if plan and plan.fits_all else 0)
    cpu_bytes = f.size - gpu_bytes
    ram_needed = cpu_bytes + int(kv * (1 - share)) + RAM_RESERVE
    cpu_ops = 2 * model.params_b * 1e9 * (1 - share)
    seconds = max(cpu_bytes / (machine.cpu_bandwidth * EFFICIENCY), cpu_ops / (CPU_OPS_PER_CORE * machine.cores)) \
        + gpu_bytes / (GPU_BANDWIDTH * EFFICIENCY)
    speed = 1 / seconds if seconds > 0 else None
    where = "GPU" if share == 1 else "GPU+CPU" if share > 0 else "CPU"
    need = size_text(ram_needed)
    if machine.ram_total is None:
        return Fit(True, where, f"The computer's memory size is unknown; this needs about {need}.", speed,
                   on_gpu_layers)
    if ram_needed > machine.ram_total:
        return Fit(False, "-", f"Too big: needs about {need} of memory, the computer has "
                               f"{size_text(machine.ram_total)}. Choose a smaller model or quantisation.",
                   None, on_gpu_layers)
    if where == "GPU":
        reason = plan.reason if plan else ""
    elif where == "GPU+CPU":
        reason = f"{plan.reason}. The CPU part needs about {need} of memory." if plan else ""
    else:
        why = ("this llama.cpp build has no GPU support" if not machine.cuda else
               "no NVIDIA GPU was found" if machine.gpu_free is None else "the GPU has too little free memory")
        reason = f"Runs on the CPU ({why}): needs about {need} of {size_text(machine.ram_total)} memory."
    if machine.ram_available is not None and ram_needed > machine.ram_available:
        reason += f" Only {size_text(machine.ram_available)} is free now: close other programs first."
    return Fit(True, where, reason, speed, on_gpu_layers)


def catalog_rows(machine, n_ctx: int = 4096) -> list[CatalogRow]:
    """One row per model and quantisation, with whether it fits `machine` and a rough speed."""
    rows = []
    for m in load_catalog():
        for f in m.files:
            fit = assess(m, f, machine, n_ctx)
            rows.append(CatalogRow(id=m.id, name=m.name, repo=m.repo, revision=m.revision, pinned=m.pinned,
                             verified=m.trusted(f.quant),
                             licence=m.licence, licence_url=m.licence_url, languages=tuple(m.languages),
                             params_b=m.params_b, context=m.context, notes=m.notes, quant=f.quant, file=f.file,
                             size=f.size, size_exact=f.size_exact, sha256=f.sha256, fits=fit.fits, where=fit.where,
                             reason=fit.reason, tokens_per_s=fit.tokens_per_s, default=f.quant == m.default_quant))
    return rows


USABLE_TOKENS_PER_S = 5.0   # about as fast as one reads: slower feels broken to a first user


def recommend(rows: list[CatalogRow]) -> CatalogRow | None:
    """The catalog row to suggest first on this machine: a Japanese-capable model at its
    default quantisation that fits, the largest of those fast enough to read along
    (larger answers better); if none is, the fastest that fits; None if nothing fits."""
    fitting = [r for r in rows if r.fits and r.default and "ja" in r.languages]
    fitting = [r for r in fitting if r.verified] or fitting   # pinned ones first
    if not fitting:
        return None
    usable = [r for r in fitting if (r.tokens_per_s or 0) >= USABLE_TOKENS_PER_S]
    if usable:
        return max(usable, key=lambda r: (r.params_b or 0, r.tokens_per_s or 0))
    return max(fitting, key=lambda r: r.tokens_per_s or 0)
