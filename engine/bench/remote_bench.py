"""`bunko bench chat --model <a model on a server>`: what Bunko sees against what the server did.

The reference is the server's own account of the same requests (llama-server sends
`timings`: prompt_ms, predicted_n, predicted_per_second). Bunko's figures are taken where
its chat reads the stream, after HTTP, the SSE parser and (for an SSH model) the tunnel:
tokens/s between the first and the last piece, and the time to the first piece minus the
server's prompt time, which is what the path adds.
"""

from __future__ import annotations

import statistics
import time

from ..api import Engine
from ..types import GenerationSettings
from .common import emit, fmt, machine, ratio, say, table

STORY = "Write a long story about a cat who travels around Japan by train, with many details."


def remote_model(args):
    """The registry entry of --model in the user's database when it runs on a server, else None."""
    if not args.model:
        return None
    with Engine.open(getattr(args, "db", None)) as engine:
        try:
            info = engine.models.get(args.model)
        except Exception:  # not there: the local bench says so in its own words
            return None
    return info if info.location != "local" else None


def one_run(llm, n: int) -> dict:
    from ..llm.runtime import GenerationStats

    stats = GenerationStats()
    settings = GenerationSettings(temperature=0.0, repeat_penalty=1.0, max_tokens=n)
    t0 = time.perf_counter()
    times = []
    for _piece in llm.generate([{"role": "user", "content": STORY}], n, settings, stats=stats, stop_at_end=False):
        times.append(time.perf_counter())
    server = stats.server or {}
    seen_tps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else None
    ttft_ms = (times[0] - t0) * 1000 if times else None
    prompt_ms = server.get("prompt_ms")
    return {"pieces": len(times), "seen_tps": seen_tps, "server_tps": server.get("predicted_per_second"),
            "server_tokens": server.get("predicted_n"), "ttft_ms": ttft_ms, "server_prompt_ms": prompt_ms,
            "added_ttft_ms": ttft_ms - prompt_ms if ttft_ms is not None and prompt_ms is not None else None}


def _median(runs: list[dict], key: str):
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), 2) if values else None


def run_remote_chat_bench(args, info) -> int:
    n, runs = args.tokens, args.runs
    with Engine.open(getattr(args, "db", None)) as engine:
        say(f"connecting to {info.where}…")
        state = engine.models.load(info.name)
        with engine.models.host.use(info.name) as (llm, _s):
            one_run(llm, 8)  # warm: the first request after a start loads caches on the server
            measured = []
            for i in range(runs):
                say(f"run {i + 1} of {runs}…")
                measured.append(one_run(llm, n))
    seen, server = _median(measured, "seen_tps"), _median(measured, "server_tps")
    added = _median(measured, "added_ttft_ms")
    result = {
        "bench": "chat-remote", "machine": machine(), "model": info.name, "where": info.where,
        "offload": state.offload, "tokens": n, "runs": runs, "runs_detail": measured,
        "tokens_per_s": {"server_reported": server, "seen_by_bunko": seen},
        "ratios": {"seen_vs_server": ratio(seen, server)},
        "ttft_ms": {"seen_by_bunko": _median(measured, "ttft_ms"),
                    "server_prompt": _median(measured, "server_prompt_ms"), "added": added},
        "goals": {"seen_ge_95pct_server": (ratio(seen, server) or 0) >= 0.95 if server else None,
                  "added_ttft_le_50ms": added <= 50 if added is not None else None},
    }
    emit(result, args.json, _report(result))
    return 0


def _report(r: dict) -> str:
    t, tt = r["tokens_per_s"], r["ttft_ms"]
    lines = [f"bunko bench chat — {r['model']} on {r['where']} ({r['offload']}), "
             f"{r['tokens']} tokens × {r['runs']} runs (median)", "",
             table(["generation", "tokens/s", "× server"],
                   [["server's own timings (predicted_per_second)", t["server_reported"], 1.0 if t["server_reported"] else None],
                    ["seen by Bunko (after HTTP, SSE and the tunnel)", t["seen_by_bunko"], r["ratios"]["seen_vs_server"]]]),
             "",
             f"time to first token: {fmt(tt['seen_by_bunko'], 1)} ms seen, server prompt time "
             f"{fmt(tt['server_prompt'], 1)} ms, added by the path {fmt(tt['added'], 1)} ms", "",
             table(["goal", "result"], [[k, v] for k, v in r["goals"].items()])]
    return "\n".join(lines)
