"""`bunko bench download`: Bunko's download path against a plain HTTP read of the same file.

Both read one generated GGUF file from the same hub-layout server on 127.0.0.1
(engine/bench/hub_server.py, in a child process), alternately, best of --runs each. The reference is
urllib reading the file into a file on the same disk; Bunko's path is the whole
of engine.models.download.fetch: the hub client's HEAD and GET, writing, the sha256
(computed while writing), the GGUF header check and the rename. Goal: ≥ 0.9× the
reference's throughput.

A third path, the same urllib read hashing each piece as it arrives, is shown for scale
(what the sha256 alone costs); the goal is against the plain read.

Fairness: the same file from the same server, whose copy is in the page cache
for both; both write to a new file on the same disk; dirty pages are flushed
(sync) before each timed read so neither pays for the other's writeback; and the
order alternates from run to run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
import urllib.request
from pathlib import Path

from .common import emit, fmt, machine, ratio, say, table

GOAL = 0.9
REPO = "bunko-bench/download-GGUF"


def _plain_read(url: str, dest: Path, hash_it: bool = False) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    digest = hashlib.sha256()
    # A direct opener: no proxy for a server on this machine.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url) as response, open(dest, "wb") as out:
        while chunk := response.read(1024 * 1024):
            out.write(chunk)
            if hash_it:
                digest.update(chunk)
    return time.perf_counter() - start, time.process_time() - cpu


def _bunko_fetch(endpoint: str, name: str, folder: Path) -> tuple[float, float]:
    from ..models.download import fetch

    start, cpu = time.perf_counter(), time.process_time()
    fetch(REPO, name, "main", folder, endpoint=endpoint)
    return time.perf_counter() - start, time.process_time() - cpu


def _settle() -> None:
    """Write back the previous run's file before the next timed read."""
    if hasattr(os, "sync"):
        os.sync()


# The reference, an informative second reference (the same read, hashing as it goes: what the
# sha256 alone costs), and Bunko's path.
PATHS = (("plain", "plain HTTP read (urllib)"), ("plain_sha256", "plain HTTP read + sha256 (for scale)"),
         ("bunko", "Bunko download (hub client, sha256, GGUF check)"))


def run_download_bench(args) -> int:
    from .hub_server import serve_in_process, write_test_gguf

    size = int(args.size_mb * 1024 * 1024)
    work = Path(tempfile.mkdtemp(prefix="bunko-bench-download-"))
    try:
        say(f"writing a {args.size_mb} MiB GGUF file in {work}")
        source = write_test_gguf(work / "bench-Q4_K_M.gguf", size)
        wall: dict[str, list[float]] = {key: [] for key, _ in PATHS}
        cpu: dict[str, list[float]] = {key: [] for key, _ in PATHS}  # this process's CPU seconds (all threads): what each path costs
        server, endpoint = serve_in_process(REPO, source)
        try:
            url = f"{endpoint}/{REPO}/resolve/main/{source.name}"
            keys = [key for key, _ in PATHS]
            for run in range(args.runs):
                for key in keys[run % len(keys):] + keys[:run % len(keys)]:  # each run starts with another
                    target = work / key
                    shutil.rmtree(target, ignore_errors=True)
                    target.mkdir()
                    _settle()
                    if key == "bunko":
                        seconds, used = _bunko_fetch(endpoint, source.name, target)
                    else:
                        seconds, used = _plain_read(url, target / source.name, hash_it=key == "plain_sha256")
                    wall[key].append(seconds)
                    cpu[key].append(used)
                say(f"run {run + 1}/{args.runs}: " + ", ".join(f"{k} {wall[k][-1]:.2f} s" for k in keys))
        finally:
            server.terminate()
            server.wait()
        total = source.stat().st_size
        mbs = {key: total / min(wall[key]) / 1e6 for key in wall}
        result = {
            "bench": "download", "bytes": total, "runs": args.runs,
            "plain_http_mb_s": round(mbs["plain"], 1), "bunko_mb_s": round(mbs["bunko"], 1),
            "plain_http_sha256_mb_s": round(mbs["plain_sha256"], 1),
            "ratio": ratio(mbs["bunko"], mbs["plain"]), "goal": GOAL,
            "meets_goal": mbs["bunko"] >= GOAL * mbs["plain"],
            "ratio_to_hashing_read": ratio(mbs["bunko"], mbs["plain_sha256"]),
            "plain_http_s": [round(s, 3) for s in wall["plain"]], "bunko_s": [round(s, 3) for s in wall["bunko"]],
            "plain_http_cpu_s": round(min(cpu["plain"]), 3), "bunko_cpu_s": round(min(cpu["bunko"]), 3),
            "plain_http_sha256_cpu_s": round(min(cpu["plain_sha256"]), 3),
            "machine": machine(),
        }
        text = table(["path", "MB/s (best)", "client CPU s (best)", "seconds per run"], [
            [label, fmt(mbs[key], 1), fmt(min(cpu[key]), 3), ", ".join(f"{s:.2f}" for s in wall[key])]
            for key, label in PATHS
        ]) + f"\nratio {fmt(result['ratio'])} (goal ≥ {GOAL}): {'met' if result['meets_goal'] else 'NOT met'}" \
            f" — {total / 1e6:.0f} MB from 127.0.0.1, best of {args.runs}; {result['machine']['cpus']} CPUs, " \
            f"load {result['machine']['loadavg_1m']}\n"
        emit(result, args.json, text)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
