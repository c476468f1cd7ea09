"""How much of a model goes on the GPU.

llama.cpp offloads the *last* n_gpu_layers blocks of a model; a number above
the block count also puts the output layer there (llama-cpp-python's -1 means
"everything"). Offloading too many layers fails at load time with an
out-of-memory error, too few wastes the GPU, so Bunko estimates what fits from
the file's own tensor sizes and the GPU's free memory, and says why in words.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass

from ..timefmt import size as size_text
from ..models.gguf_file import GGUFInfo

log = logging.getLogger(__name__)

MB = 1024 * 1024
# The CUDA context, cuBLAS workspace and llama.cpp's small buffers take a few
# hundred MB of the free memory before any weight arrives; 400 MB leaves room.
FIXED_RESERVE = 400 * MB
# llama.cpp's default micro-batch: the compute buffer grows with it.
N_UBATCH = 512


@dataclass(frozen=True)
class GpuInfo:
    name: str
    total_bytes: int
    free_bytes: int
    driver: str
    count: int = 1          # llama.cpp spreads layers over every GPU by default


@dataclass(frozen=True)
class OffloadPlan:
    n_gpu_layers: int       # for Llama(n_gpu_layers=...): 0 = CPU, -1 = everything
    total_layers: int
    fits_all: bool          # the whole model (all blocks and the output layer) fits
    vram_needed_bytes: int  # estimate for the whole model at this context length
    reason: str             # for people

    @property
    def short(self) -> str:
        """"all 30 layers", "12/28 layers", "CPU" — for tables."""
        if self.n_gpu_layers < 0 or self.n_gpu_layers > self.total_layers:
            return f"all {self.total_layers} layers"
        if self.n_gpu_layers == 0:
            return "CPU"
        return f"{self.n_gpu_layers}/{self.total_layers} layers"


def cuda_build() -> bool:
    """Whether the installed llama-cpp-python can offload to a GPU at all (asked of a worker
    process once per machine and build, see probe.system_info)."""
    from .probe import system_info

    return bool(system_info().get("gpu_offload"))


def gpu_present() -> bool:
    """Whether nvidia-smi sees an NVIDIA GPU (a CPU build's About box then suggests CUDA)."""
    return gpu_info(timeout=3.0) is not None


def gpu_info(timeout: float = 5.0) -> GpuInfo | None:
    """The NVIDIA GPUs as nvidia-smi reports them; None when there is none or it fails."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.total,memory.free,driver_version",
             "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=timeout, check=True,
        ).stdout
        rows = [[c.strip() for c in line.split(",")] for line in out.splitlines() if line.strip()]
        if not rows:
            return None
        # Sums over all GPUs: llama.cpp's default split mode spreads layers over them.
        return GpuInfo(name=rows[0][0], total_bytes=sum(int(float(r[1])) for r in rows) * MB,
                       free_bytes=sum(int(float(r[2])) for r in rows) * MB,
                       driver=rows[0][3], count=len(rows))
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        log.info("nvidia-smi did not answer; assuming no usable GPU", exc_info=True)
        return None


def kv_bytes_per_layer(info: GGUFInfo, n_ctx: int) -> int:
    """The f16 K and V caches of one block: n_ctx × n_head_kv × (key + value head size) × 2 bytes."""
    n_head = info.n_head or 1
    head_dim = (info.n_embd or 0) // n_head
    k_len = int(info.arch_key("attention.key_length") or head_dim)
    v_len = int(info.arch_key("attention.value_length") or head_dim)
    return n_ctx * (info.n_head_kv or n_head) * (k_len + v_len) * 2


def compute_reserve(info: GGUFInfo, n_ctx: int) -> int:
    """Memory the GPU needs besides weights and KV cache.

    A fixed part (CUDA context, cuBLAS) plus llama.cpp's compute buffer, which
    is dominated by the larger of two f32 matrices of one micro-batch: the
    attention scores (n_ctx × 512 × n_head; flash attention is off by
    default in llama-cpp-python) and the logits (512 × vocabulary). For
    Llama-3-8B at 8k context this gives ~512 MB, close to the ~560 MB compute
    buffer llama.cpp reports for it.
    """
    n_vocab = info.arch_key("vocab_size") or info.metadata.get("tokenizer.ggml.tokens") or 0
    attention = n_ctx * N_UBATCH * (info.n_head or 1) * 4
    logits = N_UBATCH * int(n_vocab) * 4
    return FIXED_RESERVE + max(attention, logits)


def _output_bytes(info: GGUFInfo) -> int:
    """What goes on the GPU with the output layer. The token embeddings stay
    on the CPU, unless the model ties them to the output (no output.weight),
    in which case llama.cpp copies them to the output layer's device."""
    embd = info.tensors.get("token_embd.weight")
    embd_bytes = embd[2] if embd else 0
    tied = "output.weight" not in info.tensors
    return info.other_bytes - embd_bytes + (embd_bytes if tied else 0)


def plan_offload(info: GGUFInfo, n_ctx: int, free_bytes: int | None, cuda: bool,
                 requested: int | None = None) -> OffloadPlan:
    """How many layers to offload for `info` at context `n_ctx`.

    `requested` (the user's own choice; -1 = all) wins over the estimate, but
    only a CUDA build can offload anything.
    """
    total = len(info.layer_bytes)
    kv = kv_bytes_per_layer(info, n_ctx)
    per_layer = [b + kv for b in info.layer_bytes]
    reserve = compute_reserve(info, n_ctx)
    needed = sum(per_layer) + _output_bytes(info) + reserve
    fits_all = free_bytes is not None and needed <= free_bytes

    def plan(n: int, reason: str) -> OffloadPlan:
        return OffloadPlan(n_gpu_layers=n, total_layers=total, fits_all=fits_all,
                           vram_needed_bytes=needed, reason=reason)

    if not cuda:
        return plan(0, "llama-cpp-python was built without CUDA, so the model runs on the CPU: "
                       "see docs/models.md for installing the CUDA build")
    if requested is not None:
        n = -1 if requested < 0 or requested > total else requested
        return plan(n, f"{'all' if n < 0 else n} of {total} layers on the GPU, as you asked"
                       f" (the whole model needs about {size_text(needed)})")
    if free_bytes is None:
        return plan(0, "No NVIDIA GPU was found (nvidia-smi is missing or did not answer), "
                       "so the model runs on the CPU")
    if fits_all:
        return plan(-1, f"All {total} layers fit on the GPU: about {size_text(needed)} of "
                        f"{size_text(free_bytes)} free")
    budget = free_bytes - reserve
    n, used = 0, 0
    for size in reversed(per_layer):  # llama.cpp offloads the last layers first
        if used + size > budget:
            break
        used += size
        n += 1
    if n == 0:
        return plan(0, f"The GPU has {size_text(free_bytes)} free, too little for even one layer "
                       f"at context {n_ctx}; the model runs on the CPU (it needs about {size_text(needed)})")
    return plan(n, f"{n} of {total} layers fit in {size_text(free_bytes)} free GPU memory; the rest "
                   f"run on the CPU (all would need about {size_text(needed)}; a shorter context needs less)")
