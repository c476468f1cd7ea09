"""`bunko doctor`: one block of text about this computer that a user can paste into a bug report.

What decides how models run here: the CPU's features, the llama.cpp build and its backends,
the probe's verdict, the buffer types of the loaded model, the GPU and its driver, and the
versions of the native parts. Nothing private: the home folder is written as ~, and no
document, question, key or host name appears.
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from pathlib import Path

from .. import __version__, paths
from . import gpu
from .probe import SafetyBook, cpu_info, machine_key, system_info

PACKAGES = ("llama-cpp-python", "onnxruntime", "onnxruntime-gpu", "duckdb", "tokenizers", "numpy",
            "PySide6-Essentials", "paramiko", "huggingface_hub")


def _private(text: str) -> str:
    home = str(Path.home())
    return text.replace(home, "~") if home not in ("/", "") else text


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def report(state=None, buffers: tuple[str, ...] = (), memory: int | None = None) -> dict:
    """The facts, as a dict (`bunko doctor --json`). `state`: the loaded model's ModelState;
    `memory`: its worker's resident bytes."""
    book = SafetyBook(paths.machine_dir())
    cpu = cpu_info()
    native = system_info(book)
    verdict = book.verdict()
    card = gpu.gpu_info()
    safe_models = [{"model": key.split(":", 1)[1][:16], **{k: v for k, v in entry.items() if k != "last"}}
                   for key, entry in book._read().get("models", {}).items()
                   if key.startswith(machine_key() + ":") and isinstance(entry, dict) and entry.get("safe")]
    return {
        "bunko": __version__,
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version() + (" (packaged)" if getattr(sys, "frozen", False) else ""),
        "cpu": {**cpu, "amx": any(f.startswith("amx") for f in cpu["features"])},
        "llama_cpp": {"build": native.get("llama_cpp_python") or _version("llama-cpp-python"),
                      "gpu_offload": bool(native.get("gpu_offload")), "system_info": native.get("system_info", ""),
                      **({"error": native["error"]} if native.get("error") else {})},
        "probe": ({"settings": "default" if verdict.extra_bufts else "safe", "ok": verdict.ok,
                   "seconds": round(verdict.seconds, 2), "when": verdict.when, "detail": _private(verdict.detail)}
                  if verdict else None),
        "loaded_model": ({"name": state.model, "where": state.where, "offload": state.offload,
                          "threads": state.n_threads, "context": state.n_ctx,
                          "safe_settings": state.safe_settings or None, "buffers": list(buffers),
                          "worker_memory_mib": round(memory / 2 ** 20) if memory else None}
                         if state is not None else None),
        "models_on_safe_settings": safe_models,
        "gpu": ({"name": card.name, "driver": card.driver, "memory_mib": card.total_bytes // 2 ** 20,
                 "free_mib": card.free_bytes // 2 ** 20} if card else None),
        "data_folder": _private(str(paths.data_dir())),
        "versions": {name: v for name in PACKAGES if (v := _version(name))},
    }


def as_text(r: dict) -> str:
    cpu, lc, probe = r["cpu"], r["llama_cpp"], r["probe"]
    lines = [f"Bunko {r['bunko']} — system report (no documents, keys or host names in it)",
             f"OS:          {r['os']}, Python {r['python']}",
             f"CPU:         {cpu['name']} ({cpu['arch']}, {cpu['logical_cpus']} logical CPUs)",
             f"  features:  {' '.join(cpu['features']) or 'none of note'}; AMX: {'yes' if cpu['amx'] else 'no'}",
             f"llama.cpp:   llama-cpp-python {lc['build']}, GPU offload {'built in' if lc['gpu_offload'] else 'not built'}"]
    if lc.get("error"):
        lines.append(f"             could not ask it: {lc['error']}")
    if lc["system_info"]:
        lines.append(f"  backends:  {lc['system_info']}")
    if probe is None:
        lines.append("Probe:       not run yet (it runs before the first answer; `bunko doctor --probe` runs it now)")
    else:
        verdict = ("failed even with safe settings" if not probe["ok"] else
                   "default settings work" if probe["settings"] == "default" else
                   "safe settings (the default settings crashed llama.cpp here)")
        lines.append(f"Probe:       {verdict}; {probe['seconds']} s on {probe['when']}")
        if probe["settings"] != "default":
            lines.append(f"  detail:    {probe['detail']}")
    m = r["loaded_model"]
    if m:
        lines.append(f"Model:       {m['name']} on {m['where']}, {m['offload']}, {m['threads']} threads, "
                     f"context {m['context']}" + (f", worker {m['worker_memory_mib']} MiB" if m["worker_memory_mib"] else "")
                     + (f"; safe settings: {m['safe_settings']}" if m["safe_settings"] else ""))
        for b in m["buffers"]:
            lines.append(f"  buffer:    {b}")
    for s in r["models_on_safe_settings"]:
        lines.append(f"Safe model:  {s['model']}…: {s.get('reason', '')}")
    if r.get("embedding"):
        from ..embed.device import report_lines

        lines += [f"Embedding:   {line}" for line in report_lines(r["embedding"])]
    g = r["gpu"]
    lines.append(f"GPU:         {g['name']}, driver {g['driver']}, {g['memory_mib']} MiB ({g['free_mib']} free)"
                 if g else "GPU:         none found (nvidia-smi)")
    lines.append(f"Data folder: {r['data_folder']}")
    lines.append("Versions:    " + ", ".join(f"{k} {v}" for k, v in r["versions"].items()))
    return "\n".join(lines)
