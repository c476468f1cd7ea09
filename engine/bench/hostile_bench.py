"""`bunko bench index --hostile`: one-line text files of 1 MB up to 64 MB, indexed one at a time.

What a minified script or a log without line breaks does to the indexer: the
time per MB must stay flat as the file grows (the goal: the rate at the largest
size at most 1.5 times the rate at 1 MB), and the resident memory while one
file is indexed must stay within 500 MB of the run's baseline.

Each file goes through the real indexer (scan, read, decode, clean, chunk with
the real tokenizer counting every piece, the keyword postings and the writes to
a fresh DuckDB store). Embedding is left out: a stand-in embedder returns zero
vectors, because the model's time per chunk does not depend on the file and
64 MB of text would take it hours on a laptop CPU.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from ..embed import load_embedder
from ..library.indexer import index_library
from ..ingest.budget import rss_bytes
from ..store import open_store
from . import common

GOAL_RATE_GROWTH = 1.5
GOAL_PEAK_MB = 500
DEFAULT_MAX_MB = 64
_BLOCK_CHARS = 1 << 18


class CountingOnly:
    """The real tokenizer for chunking; zero vectors instead of the model."""

    def __init__(self, real) -> None:
        self.name, self.model_id, self.dim, self.max_tokens = real.name, real.model_id, real.dim, real.max_tokens
        self.count_tokens = real.count_tokens

    def embed_passages(self, texts: list[str], batch_size: int = 32, background: bool = False) -> np.ndarray:
        return np.zeros((len(texts), self.dim), np.float32)


def sizes_mb(max_mb: int) -> list[int]:
    """1, 2, 4, ... up to `max_mb` (which is included)."""
    out, mb = [], 1
    while mb < max_mb:
        out.append(mb)
        mb *= 2
    return out + [max(1, max_mb)]


def one_line_text(n_bytes: int, seed: int = 5) -> bytes:
    """Words of Japanese and English run together without a line break or a full stop."""
    rng = random.Random(seed)
    vocab = common.vocabulary(5000)
    parts, size = [], 0
    while size < _BLOCK_CHARS:
        word = rng.choice(vocab) + rng.choice((" ", " ", "、", ", ", "="))
        parts.append(word)
        size += len(word)
    block = "".join(parts).encode("utf-8")
    data = (block * (n_bytes // len(block) + 1))[:n_bytes]
    return data.decode("utf-8", "ignore").encode("utf-8")  # no character cut in half at the end


class _PeakSampler:
    """The highest resident size while a file is indexed.

    Sampled every 10 ms, and on Linux also the kernel's own high-water mark (VmHWM,
    reset through /proc/self/clear_refs before the file), which no spike between two
    samples escapes. The indexer starts no child processes, so this process is all of it.
    """

    def __init__(self) -> None:
        self.peak = rss_bytes() or 0
        self.kernel_peak: int | None = None  # VmHWM, where the kernel lets it be reset
        self._reset = common.reset_peak()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes() or 0)
        if self._reset:
            self.kernel_peak = common.peak_bytes()
            self.peak = max(self.peak, self.kernel_peak or 0)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_bytes() or 0)


def run_hostile_bench(args) -> int:
    max_mb = max(1, int(getattr(args, "max_mb", None) or DEFAULT_MAX_MB))
    embedder = CountingOnly(load_embedder(getattr(args, "embedder", None)))
    result: dict = {"bench": "index-hostile", "machine": common.machine(), "embedder": embedder.model_id,
                    "measured": "the indexer end to end (scan, read, decode, clean, chunk with the real "
                                "tokenizer, keyword postings, DuckDB writes); embedding replaced by zero vectors",
                    "sizes": []}
    with tempfile.TemporaryDirectory(prefix="bunko-bench-hostile-") as tmp_name:
        tmp = Path(tmp_name)
        store = open_store(tmp / "hostile.duckdb")
        try:
            baseline = rss_bytes()
            result["baseline_rss_mib"] = round(baseline / 2**20, 1) if baseline else None
            for n, mb in enumerate(sizes_mb(max_mb), start=1):
                folder = tmp / f"one-line-{mb}mb"
                folder.mkdir()
                (folder / "one-line.log").write_bytes(one_line_text(mb * 1_000_000))
                with store.transaction() as cur:
                    cur.execute("INSERT INTO libraries (id, name, root, embedder_id, embedder_name, dim) "
                                "VALUES (?, ?, ?, ?, ?, ?)",
                                [n, folder.name, str(folder), embedder.model_id, embedder.name, embedder.dim])
                common.say(f"bench index --hostile: {mb} MB on one line")
                with _PeakSampler() as sampler:
                    t0 = time.perf_counter()
                    run = index_library(store, n, folder.name, folder, embedder)
                    seconds = time.perf_counter() - t0
                (folder / "one-line.log").unlink()
                peak = (sampler.peak - baseline) / 2**20 if baseline else None
                kernel_peak = sampler.kernel_peak is not None
                result["sizes"].append({
                    "mb": mb, "seconds": round(seconds, 3), "seconds_per_mb": round(seconds / mb, 3),
                    "chunks": run.chunks, "indexed": run.added == 1, "failed": [list(e) for e in run.errors],
                    "peak_above_baseline_mib": round(peak, 1) if peak is not None else None,
                    "kernel_peak": kernel_peak,
                })
        finally:
            store.close()
    first, last = result["sizes"][0], result["sizes"][-1]
    growth = common.ratio(last["seconds_per_mb"], first["seconds_per_mb"])
    peaks = [s["peak_above_baseline_mib"] for s in result["sizes"] if s["peak_above_baseline_mib"] is not None]
    worst = max(peaks) if peaks else None
    all_indexed = all(s["indexed"] for s in result["sizes"])
    result["rate_growth"] = growth
    result["kernel_peak"] = all(s.get("kernel_peak") for s in result["sizes"])
    result["goals"] = {
        "rate_growth": {"goal": GOAL_RATE_GROWTH, "value": growth,
                        "pass": growth is not None and growth <= GOAL_RATE_GROWTH and all_indexed},
        "peak_above_baseline_mib": {"goal": GOAL_PEAK_MB, "value": worst,
                                    "pass": worst is not None and worst <= GOAL_PEAK_MB},
    }
    result["pass"] = all(g["pass"] for g in result["goals"].values())
    common.emit(result, getattr(args, "json", False), _report(result))
    return 0


def _report(r: dict) -> str:
    rows = [[f"{s['mb']} MB", s["seconds"], s["seconds_per_mb"], s["chunks"], s["peak_above_baseline_mib"],
             "yes" if s["indexed"] else "FAILED: " + "; ".join(reason for _, reason in s["failed"])]
            for s in r["sizes"]]
    g = r["goals"]
    return "\n".join([
        f"bunko bench index --hostile: one-line text files; tokenizer of {r['embedder']}",
        f"measured: {r['measured']}",
        "",
        common.table(["file", "seconds", "s/MB", "chunks", "peak MiB above baseline", "indexed"], rows),
        "peak: the resident size sampled every 10 ms"
        + (" and the kernel's high-water mark (VmHWM), reset before each file" if r.get("kernel_peak") else ""),
        "",
        f"s/MB at {r['sizes'][-1]['mb']} MB / s/MB at {r['sizes'][0]['mb']} MB = {common.fmt(r['rate_growth'])} "
        f"(goal <= {GOAL_RATE_GROWTH:g}): {common.fmt(g['rate_growth']['pass'])}",
        f"highest peak while indexing one file: {common.fmt(g['peak_above_baseline_mib']['value'], 1)} MiB above the "
        f"baseline of {common.fmt(r['baseline_rss_mib'], 1)} MiB (goal <= {GOAL_PEAK_MB}): "
        f"{common.fmt(g['peak_above_baseline_mib']['pass'])}",
    ])
