"""`bunko bench embed`: passages per second of today's embedder path against the old one, same run.

Old (the reference): the exact float32 graph with onnxruntime's default spinning threads,
as Bunko ran before. New: the embedder Bunko loads now (device.choose_graph: the fast
graph on a CPU), with its session options. Between them, the exact graph with the new
session options, so the table shows which change pays. Every configuration is called as
the indexer calls it (pools sorted by length, groups of EMBED_GROUP), on two sets:
short Japanese passages and English abstract-length paragraphs (generated, or the first
texts of a BEIR corpus.jsonl given with --ja / --en).

On a shared machine a single timing says little, so the configurations take turns in
rounds; each round gives each configuration's speed ÷ the old one's in that same round,
and the table reports the median ratio and its range over the rounds. Vectors are
compared with the old ones (cosine), and CPU use is process CPU time ÷ (wall × cores).
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import numpy as np

from ..embed import OnnxEmbedder
from ..embed.onnx_embedder import EMBED_GROUP
from ..library.indexer import POOL_CHUNKS
from . import common

GOAL_SPEEDUP = 3.0


def generated_texts(lang: str, count: int, seed: int = 5) -> list[str]:
    """Short Japanese passages (2-4 handbook sentences) or English paragraphs of ~1,000 characters."""
    rng = random.Random(seed)
    pool = common.pool_sentences()
    ja, en = pool[:200], pool[200:]
    out = []
    for _ in range(count):
        if lang == "ja":
            out.append(common.join_sentences(rng.sample(ja, rng.randint(2, 4))))
        else:
            sentences: list[str] = []
            while sum(len(s) + 1 for s in sentences) < rng.randint(700, 1300):
                sentences.append(rng.choice(en))
            out.append(" ".join(sentences))
    return out


def corpus_texts(path: Path, count: int) -> list[str]:
    """The first `count` texts (title + text) of a BEIR corpus.jsonl."""
    out = []
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                obj = json.loads(line)
                out.append(((obj.get("title") or "") + " " + (obj.get("text") or "")).strip())
            if len(out) >= count:
                break
    return out


def embed_like_indexer(embedder, texts: list[str]) -> np.ndarray:
    """Vectors in input order, computed as IndexRun._embed calls the embedder."""
    out = np.zeros((len(texts), embedder.dim), np.float32)
    lengths = embedder.count_tokens(texts)
    size = getattr(embedder, "group", EMBED_GROUP)  # one on a server takes more per round trip
    for start in range(0, len(texts), POOL_CHUNKS):
        pool = sorted(range(start, min(start + POOL_CHUNKS, len(texts))), key=lambda i: lengths[i], reverse=True)
        for g in range(0, len(pool), size):
            group = pool[g:g + size]
            out[group] = embedder.embed_passages([texts[i] for i in group], background=True)
    return out


def configurations(model_dir: Path | None) -> list[tuple[str, OnnxEmbedder]]:
    """(label, embedder): old first, new last."""
    from ..embed import OnnxEmbedder, load_embedder

    new = load_embedder(model_dir)
    old = OnnxEmbedder(new.model_dir, threads=new.threads, graph="exact", spinning=True)
    configs = [("old: exact graph, spinning threads", old)]
    exact = OnnxEmbedder(new.model_dir, threads=new.threads, graph="exact",
                         providers=new.providers)
    configs.append(("exact graph, new session options", exact))
    configs.append((f"new: {new.graph} graph on {'GPU' if new.providers[0].startswith('CUDA') else 'CPU'}", new))
    return configs


def run_embed_bench(args) -> int:
    rounds = max(1, getattr(args, "rounds", 3) or 3)
    count = getattr(args, "texts", 0) or 0
    sets = dict(_texts(lang, getattr(args, lang, None), count or default, generated)
                for lang, default, generated in (("ja", 256, "short passages"), ("en", 48, "abstracts")))
    common.say("bench embed: loading the embedders")
    configs = configurations(getattr(args, "embedder", None))
    labels = [label for label, _ in configs]
    cores = configs[-1][1].threads
    result: dict = {"bench": "embed", "machine": common.machine(), "rounds": rounds,
                    "embedders": {label: {"model_id": e.model_id, "graph": e.graph, "providers": e.providers,
                                          "threads": e.threads} for label, e in configs},
                    "sets": {}}
    for name, texts in sets.items():
        tokens = configs[0][1].count_tokens(texts)
        for _, emb in configs:  # warm-up: first calls allocate
            emb.embed_passages(texts[:8])
        speeds: dict[str, list[float]] = {label: [] for label in labels}
        cpu: dict[str, list[float]] = {label: [] for label in labels}
        vectors: dict[str, np.ndarray] = {}
        for r in range(rounds):
            common.say(f"bench embed: {name}, round {r + 1} of {rounds}")
            for label, emb in configs:
                t0, c0 = time.perf_counter(), _cpu_seconds()
                vecs = embed_like_indexer(emb, texts)
                wall = time.perf_counter() - t0
                speeds[label].append(len(texts) / wall)
                cpu[label].append((_cpu_seconds() - c0) / (wall * cores))
                vectors.setdefault(label, vecs)
        ref = vectors[labels[0]]
        rows = {}
        for label in labels:
            ratios = [s / o for s, o in zip(speeds[label], speeds[labels[0]])]
            cos = (vectors[label] * ref).sum(axis=1)
            rows[label] = {
                "texts_per_s": round(float(np.median(speeds[label])), 2),
                "ratio_median": round(float(np.median(ratios)), 3),
                "ratio_min": round(min(ratios), 3), "ratio_max": round(max(ratios), 3),
                "cpu_use": round(float(np.median(cpu[label])), 2),
                "cosine_min": round(float(cos.min()), 5), "cosine_mean": round(float(cos.mean()), 5),
            }
        result["sets"][name] = {"texts": len(texts), "tokens_mean": round(float(np.mean(tokens)), 1),
                                "configs": rows}
    new = labels[-1]
    speedups = [s["configs"][new]["ratio_median"] for s in result["sets"].values()]
    result["goal"] = {"speedup": GOAL_SPEEDUP, "value": min(speedups), "pass": min(speedups) >= GOAL_SPEEDUP}
    result["cuda_measured"] = any(e.providers[0].startswith("CUDA") for _, e in configs)
    common.emit(result, getattr(args, "json", False), _report(result, labels))
    return 0


def _texts(lang: str, corpus: Path | None, count: int, generated: str) -> tuple[str, list[str]]:
    """(set name, texts): a corpus given is named by its folder, its texts not being the generated ones."""
    if corpus:
        return f"{lang} {Path(corpus).parent.name or Path(corpus).name}", corpus_texts(corpus, count)
    return f"{lang} {generated}", generated_texts(lang, count)


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def _report(r: dict, labels: list[str]) -> str:
    rows = []
    for name, s in r["sets"].items():
        for label in labels:
            c = s["configs"][label]
            rows.append([name, label, c["texts_per_s"], c["ratio_median"], f"{c['ratio_min']:.2f}-{c['ratio_max']:.2f}",
                         c["cpu_use"], f"{c['cosine_min']:.4f}"])
    head = (f"bunko bench embed: {r['rounds']} rounds; load average {r['machine'].get('loadavg_1m')} on "
            f"{r['machine'].get('cpus')} cores")
    sizes = "; ".join(f"{n}: {s['texts']} texts, {s['tokens_mean']} tokens on average" for n, s in r["sets"].items())
    g = r["goal"]
    notes = [
        sizes,
        "ratio = texts/s ÷ the old path's texts/s in the same round (median, then the range over rounds)",
        f"goal: new ≥ {g['speedup']:g}× the old path on both sets: {g['value']}× -> {'PASS' if g['pass'] else 'FAIL'}",
        "cpu = process CPU time ÷ (wall clock × threads); cosine = against the old path's vectors",
    ]
    if not r["cuda_measured"]:
        notes.append("no CUDA provider in this run: the GPU path is not measured here")
    return "\n".join([head, "", common.table(
        ["texts", "path", "texts/s", "ratio", "range", "cpu", "cos min"], rows), "", *notes])
