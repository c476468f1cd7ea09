"""`bunko bench embed --host NAME`: texts per second embedded on an SSH host against this computer.

Both embedders are called as the indexer calls them (pools of POOL_CHUNKS sorted by length,
each embedder's own group size) on the generated Japanese and English sets of `bench embed`;
only those generated texts go to the host. The two take turns in rounds, and each round
gives the host's speed ÷ this computer's in that round; the table shows the median ratio
and its range, and the lowest cosine between the two embedders' vectors.

On a loopback host (the tests) both run on the same CPU: the figure then measures only
the protocol's cost, not a GPU.
"""

from __future__ import annotations

import time

import numpy as np

from . import common
from .embed_bench import embed_like_indexer, generated_texts


def run_embed_host_bench(args, spec, with_secrets) -> int:
    from .. import paths
    from ..embed import load_embedder
    from ..embed.remote import open_on_host
    from ..hosts.connect import connect

    rounds = max(1, getattr(args, "rounds", 3) or 3)
    count = getattr(args, "texts", 0) or 0
    sets = {"ja short passages": generated_texts("ja", count or 256),
            "en abstracts": generated_texts("en", count or 48)}
    common.say("bench embed --host: loading the embedder here")
    local = load_embedder(getattr(args, "embedder", None))
    remote = with_secrets(lambda secrets: open_on_host(connect(spec, paths.data_dir(), secrets), local,
                                                       common.say), args)
    try:
        labels = ["this computer", f"host {spec.label}"]
        result: dict = {"bench": "embed-host", "machine": common.machine(), "rounds": rounds,
                        "host": spec.label, "model_id": local.model_id, "graph": local.graph,
                        "local_providers": local.providers, "host_providers": remote.providers,
                        "host_onnxruntime": remote.hello.get("onnxruntime"),
                        "cuda_measured": remote.providers[:1] == ["CUDAExecutionProvider"], "sets": {}}
        for name, texts in sets.items():
            for emb in (local, remote):   # warm-up: first calls allocate
                emb.embed_passages(texts[:8])
            speeds: dict[str, list[float]] = {label: [] for label in labels}
            vectors: dict[str, np.ndarray] = {}
            for r in range(rounds):
                common.say(f"bench embed --host: {name}, round {r + 1} of {rounds}")
                for label, emb in zip(labels, (local, remote)):
                    t0 = time.perf_counter()
                    vectors[label] = embed_like_indexer(emb, texts)
                    speeds[label].append(len(texts) / (time.perf_counter() - t0))
            ratios = [h / here for here, h in zip(*speeds.values())]
            cos = (vectors[labels[0]] * vectors[labels[1]]).sum(axis=1)
            result["sets"][name] = {
                "texts": len(texts),
                "texts_per_s": {label: round(float(np.median(v)), 2) for label, v in speeds.items()},
                "ratio_median": round(float(np.median(ratios)), 3),
                "ratio_min": round(min(ratios), 3), "ratio_max": round(max(ratios), 3),
                "cosine_min": round(float(cos.min()), 6)}
    finally:
        remote.close()
    common.emit(result, getattr(args, "json", False), _report(result, labels))
    return 0


def _report(r: dict, labels: list[str]) -> str:
    where = "its GPU (CUDA)" if r["cuda_measured"] else "its CPU (no CUDA there)"
    lines = [f"bench embed --host: {r['model_id']} ({r['graph']} graph) here and on {r['host']}, {where}; "
             f"{r['rounds']} rounds, the host's speed ÷ this computer's per round", ""]
    head = ["set", "texts", *(f"{label} texts/s" for label in labels), "ratio (median, range)", "cosine min"]
    rows = [[name, str(s["texts"]), *(f"{s['texts_per_s'][label]:.1f}" for label in labels),
             f"{s['ratio_median']:.2f}× ({s['ratio_min']:.2f}–{s['ratio_max']:.2f})", f"{s['cosine_min']:.6f}"]
            for name, s in r["sets"].items()]
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(x, widths)).rstrip() for x in [head, *rows]]
    if not r["cuda_measured"]:
        lines += ["", "No CUDA on the host: this measures the SSH path and the host's CPU, not a GPU."]
    return "\n".join(lines)
