"""`bunko bench download`: Bunko's download path against a plain HTTP read of the same file.

Both read one generated GGUF file from the same hub-layout server on 127.0.0.1
(engine/bench/hub_server.py, in a child process), alternately, best of --runs each. The reference is
urllib reading the file into a file on the same disk; Bunko's path is the whole
of engine.llm.download.fetch: the hub client's HEAD and GET, writing, the sha256
(computed while writing), the GGUF header check and the rename. Goal: ≥ 0.9× the
reference's throughput.

Fairness: the same file from the same server, whose copy is in the page cache
for both; both write to a new file on the same disk; dirty pages are flushed
(sync) before each timed read so neither pays for the other's writeback; and the
order alternates from run to run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import urllib.request
from pathlib import Path

from .common import emit, fmt, machine, ratio, say, table

GOAL = 0.9
REPO = "bunko-bench/download-GGUF"


def _plain_read(url: str, dest: Path) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    # A direct opener: no proxy for a server on this machine.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url) as response, open(dest, "wb") as out:
        while chunk := response.read(1024 * 1024):
            out.write(chunk)
    return time.perf_counter() - start, time.process_time() - cpu


def _bunko_fetch(endpoint: str, name: str, folder: Path) -> tuple[float, float]:
    from ..llm.download import fetch

    start, cpu = time.perf_counter(), time.process_time()
    fetch(REPO, name, "main", folder, endpoint=endpoint)
    return time.perf_counter() - start, time.process_time() - cpu


def _settle() -> None:
    """Write back the previous run's file before the next timed read."""
    if hasattr(os, "sync"):
        os.sync()


def run_download_bench(args) -> int:
    from .hub_server import serve_in_process, write_test_gguf

    size = int(args.size_mb * 1024 * 1024)
    work = Path(tempfile.mkdtemp(prefix="bunko-bench-download-"))
    try:
        say(f"writing a {args.size_mb} MiB GGUF file in {work}")
        source = write_test_gguf(work / "bench-Q4_K_M.gguf", size)
        plain, bunko = [], []
        cpu = {"plain": [], "bunko": []}  # this process's CPU seconds (all threads): what each path costs
        server, endpoint = serve_in_process(REPO, source)
        try:
            url = f"{endpoint}/{REPO}/resolve/main/{source.name}"
            for run in range(args.runs):
                for target in (work / "plain", work / "bunko"):
                    shutil.rmtree(target, ignore_errors=True)
                    target.mkdir()
                for which in (("plain", "bunko") if run % 2 == 0 else ("bunko", "plain")):
                    _settle()
                    if which == "plain":
                        wall, used = _plain_read(url, work / "plain" / source.name)
                        plain.append(wall)
                    else:
                        wall, used = _bunko_fetch(endpoint, source.name, work / "bunko")
                        bunko.append(wall)
                    cpu[which].append(used)
                say(f"run {run + 1}/{args.runs}: urllib {plain[-1]:.2f} s, Bunko {bunko[-1]:.2f} s")
        finally:
            server.terminate()
            server.wait()
        total = source.stat().st_size
        plain_mbs, bunko_mbs = total / min(plain) / 1e6, total / min(bunko) / 1e6
        result = {
            "bench": "download", "bytes": total, "runs": args.runs,
            "plain_http_mb_s": round(plain_mbs, 1), "bunko_mb_s": round(bunko_mbs, 1),
            "ratio": ratio(bunko_mbs, plain_mbs), "goal": GOAL,
            "meets_goal": bunko_mbs >= GOAL * plain_mbs,
            "plain_http_s": [round(s, 3) for s in plain], "bunko_s": [round(s, 3) for s in bunko],
            "plain_http_cpu_s": round(min(cpu["plain"]), 3), "bunko_cpu_s": round(min(cpu["bunko"]), 3),
            "machine": machine(),
        }
        text = table(["path", "MB/s (best)", "client CPU s (best)", "seconds per run"], [
            ["plain HTTP read (urllib)", fmt(plain_mbs, 1), fmt(result["plain_http_cpu_s"], 3),
             ", ".join(f"{s:.2f}" for s in plain)],
            ["Bunko download (hub client, sha256, GGUF check)", fmt(bunko_mbs, 1), fmt(result["bunko_cpu_s"], 3),
             ", ".join(f"{s:.2f}" for s in bunko)],
        ]) + f"\nratio {fmt(result['ratio'])} (goal ≥ {GOAL}): {'met' if result['meets_goal'] else 'NOT met'}" \
            f" — {total / 1e6:.0f} MB from 127.0.0.1, best of {args.runs}; {result['machine']['cpus']} CPUs, " \
            f"load {result['machine']['loadavg_1m']}\n"
        emit(result, args.json, text)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
