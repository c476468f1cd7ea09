"""What GPU a server has, and how many of a model's layers llama-server puts on it."""

from __future__ import annotations

from ...errors import ModelLoadError
from .. import gpu


def plan_layers(card, gguf_info, n_ctx: int, name: str, label: str) -> tuple[int, str]:
    """GPU layers for llama-server, and words for where the model runs; too big says so."""
    if card is None:
        return 0, "CPU (no NVIDIA GPU found)"
    plan = gpu.plan_offload(gguf_info, n_ctx, card.free_bytes, True)
    if plan.n_gpu_layers == 0:
        raise ModelLoadError(
            f"{name} needs about {plan.vram_needed_bytes / 1e9:.1f} GB of GPU memory at a "
            f"context of {n_ctx}; the GPU on {label} ({card.name}) has "
            f"{card.free_bytes / 1e9:.1f} GB free. Choose a smaller quantisation or context, or free the GPU.")
    return (999 if plan.fits_all else plan.n_gpu_layers), f"{card.name}: {plan.short}"


def probe_gpu(host) -> gpu.GpuInfo | None:
    """The host's first NVIDIA GPU (and how many), from nvidia-smi; None without one."""
    done = host.run("nvidia-smi --query-gpu=name,memory.total,memory.free,driver_version "
                    "--format=csv,noheader,nounits", timeout=20)
    rows = [r.split(",") for r in done.out.strip().splitlines() if r.count(",") == 3] if done.code == 0 else []
    if not rows:
        return None
    name, total, free, driver = (x.strip() for x in rows[0])
    return gpu.GpuInfo(name, int(float(total)) * 1024 * 1024, int(float(free)) * 1024 * 1024, driver, len(rows))
