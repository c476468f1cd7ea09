"""Where the embedder runs and which graph it runs: the choices and a report of them.

Device: onnxruntime's CUDA provider when the installed onnxruntime has it (the
`onnxruntime-gpu` wheel) and a GPU answers, else the CPU. onnxruntime lists CUDA
whenever the GPU wheel is installed, GPU or not; a session that cannot start CUDA
runs on the CPU, so the report reads the providers the session actually got.

Graph: "exact" (float32, the reference) or "fast" (int8 matrices and fused attention,
made for CPUs; see e5_onnx.build_graph). Their vectors differ slightly, so a library
records which one made its vectors (the embedder's model id) and "auto" follows it.
On CUDA the exact graph is the fast one: the int8 kernels exist only for CPUs.

Settings: BUNKO_EMBED_DEVICE (auto, cpu, cuda) and BUNKO_EMBED_GRAPH (auto, exact,
fast), or `set_defaults` (the command line's --embed-device / --embed-graph).
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
GRAPHS = ("auto", "exact", "fast")
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
FAST_TAG = "+fast"  # in a model id: vectors made by the fast graph

_defaults: dict[str, str | None] = {"device": None, "graph": None}


def set_defaults(device: str | None = None, graph: str | None = None) -> None:
    """Process-wide choices (the command line's flags); None leaves one as it is."""
    if device is not None:
        _defaults["device"] = _checked(device, DEVICES, "device")
    if graph is not None:
        _defaults["graph"] = _checked(graph, GRAPHS, "graph")


def wanted_device() -> str:
    return _defaults["device"] or _checked(os.environ.get("BUNKO_EMBED_DEVICE", "auto"), DEVICES, "device")


def wanted_graph() -> str:
    return _defaults["graph"] or _checked(os.environ.get("BUNKO_EMBED_GRAPH", "auto"), GRAPHS, "graph")


def _checked(value: str, allowed: tuple[str, ...], what: str) -> str:
    value = (value or "auto").strip().lower()
    if value not in allowed:
        from engine.errors import EmbedderError

        raise EmbedderError(f"Unknown embedding {what} {value!r}; use one of {', '.join(allowed)}.")
    return value


def available_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def choose_providers(available: list[str], device: str = "auto") -> list[str]:
    """The providers to ask a session for, best first; the CPU is always the fallback.

    "auto" takes CUDA when onnxruntime offers it; "cuda" asks for it and fails in words
    if this onnxruntime cannot; "cpu" never uses it."""
    device = _checked(device, DEVICES, "device")
    if device == "cuda" and CUDA not in available:
        from engine.errors import EmbedderError

        raise EmbedderError("Embedding on the GPU needs onnxruntime with CUDA (pip install onnxruntime-gpu) "
                            "and an NVIDIA driver; this onnxruntime offers only "
                            f"{', '.join(available) or 'nothing'}.")
    if device != "cpu" and CUDA in available:
        return [CUDA, CPU]
    return [CPU]


def choose_graph(graph: str, providers: list[str], library_ids: list[str] | None = None) -> str:
    """"exact" or "fast". "auto": the graph the libraries' vectors came from (so nothing
    needs re-indexing); with no library, exact on CUDA and fast on a CPU."""
    graph = _checked(graph, GRAPHS, "graph")
    if graph != "auto":
        return graph
    made = {"fast" if FAST_TAG + "@" in i else "exact" for i in (library_ids or []) if i}
    if len(made) == 1:
        return made.pop()
    if made:  # libraries of both kinds: keep the exact ones valid
        return "exact"
    return "exact" if providers and providers[0] == CUDA else "fast"


def describe(embedder) -> dict:
    """What `bunko doctor` and Settings show about an embedder that is loaded."""
    providers = list(getattr(embedder, "providers", []) or [])
    return {
        "model": getattr(embedder, "name", None),
        "model_id": getattr(embedder, "model_id", None),
        "graph": getattr(embedder, "graph", "exact"),
        "device": "cuda" if providers[:1] == [CUDA] else "cpu",
        "providers": providers,
        "threads": getattr(embedder, "threads", None),
    }


def report(embedder=None) -> dict:
    """For `bunko doctor`: onnxruntime, what it offers, what would be chosen and, given a
    loaded embedder, what it runs on. Never loads a model itself."""
    try:
        import onnxruntime as ort

        version, available = ort.__version__, available_providers()
    except ImportError as exc:  # pragma: no cover - onnxruntime is a dependency
        return {"onnxruntime": None, "error": str(exc)}
    from engine.errors import EmbedderError

    try:
        chosen = choose_providers(available, wanted_device())
    except EmbedderError:  # "cuda" asked for where onnxruntime has none: nothing would start
        chosen = []
    out = {
        "onnxruntime": version,
        "available_providers": available,
        "wanted_device": wanted_device(),
        "wanted_graph": wanted_graph(),
        "chosen_providers": chosen,
        "cuda_measured": False,  # no GPU was at hand when this was written: the CUDA path is untested
    }
    if embedder is not None:
        out["embedder"] = describe(embedder)
    return out


def report_lines(info: dict) -> list[str]:
    """`report` as lines a person reads."""
    lines = [f"onnxruntime {info.get('onnxruntime')}: providers {', '.join(info.get('available_providers', []))}"]
    emb = info.get("embedder")
    if emb:
        lines.append(f"embedder {emb['model_id']}: {emb['graph']} graph on {emb['device'].upper()} "
                     f"({', '.join(emb['providers'])}; {emb['threads']} threads)")
    else:
        lines.append(f"embedder: device {info.get('wanted_device')}, graph {info.get('wanted_graph')} "
                     f"(would ask for {', '.join(info.get('chosen_providers', [])) or 'nothing'})")
    return lines
