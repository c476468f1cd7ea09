"""`bunko bench chat`: generation speed against llama.cpp itself, follow-up latency, memory.

References measured in the same run, on the same model file and thread count:
* llama.cpp's own `llama-bench` (text generation, `tg`), when the binary is found;
* a bare llama-cpp-python `Llama.generate()` loop, always: the floor the engine
  must never fall below;
* `Llama.create_completion(stream=True)`, what most Python apps use.
The engine is measured twice: its decode loop alone, and a whole answer
through `Chat.stream` (prompt, citations filter, events), as the CLI and the API run it.
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from .. import paths
from ..api import Engine
from ..chat.prompt import Turn
from ..llm.runtime import GenerationStats, default_threads
from ..types import GenerationSettings, LoadSettings, Source
from .common import emit, fmt, machine, ratio, say, table

log = logging.getLogger(__name__)

STORY = "Write a long story about a cat who travels around Japan by train, with many details."
GREEDY = GenerationSettings(temperature=0.0, repeat_penalty=1.0, max_tokens=128)


def find_llama_bench(given: Path | None) -> Path | None:
    if given:
        return given if given.is_file() else None
    on_path = shutil.which("llama-bench")
    if on_path:
        return Path(on_path)
    local = paths.data_dir() / "tools" / "llama-bench"
    return local if local.is_file() else None


def model_rss_mib(model_path: str, pid: int | str = "self") -> float:
    """Resident pages of the mapped model file in process `pid`: what the OS may drop and reload at will."""
    total = 0
    inside = False
    try:
        with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line[0] in "0123456789abcdef" and "-" in line.split()[0]:
                    inside = line.rstrip().endswith(model_path)
                elif inside and line.startswith("Rss:"):
                    total += int(line.split()[1])
    except OSError:
        return 0.0
    return total / 1024


def rss_mib(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _median(values):
    values = [v for v in values if v]
    return round(statistics.median(values), 2) if values else None


def bench_engine_loop(llm, n: int, runs: int) -> float | None:
    prompt = llm.tokenize(f"<|im_start|>user\n{STORY}<|im_end|>\n<|im_start|>assistant\n", special=True)
    rates = []
    for _ in range(runs):
        llm.forget()
        stats = GenerationStats()
        for _piece in llm.generate(prompt, n, GREEDY, stats=stats, stop_at_end=False):
            pass
        rates.append(stats.tokens_per_second)
    return _median(rates)


def bench_chat_stream(engine: Engine, n: int, runs: int) -> tuple[float | None, int]:
    rates, lengths = [], []
    settings = GenerationSettings(temperature=0.0, repeat_penalty=1.0, max_tokens=n)
    for _ in range(runs):
        for event in engine.chat.stream(STORY, settings=settings):
            if event.kind == "done" and event.answer is not None:
                rates.append(event.answer.stats["tokens_per_second"])
                lengths.append(event.answer.stats["completion_tokens"])
        _forget(engine)
    return _median(rates), int(statistics.median(lengths)) if lengths else 0


def _forget(engine: Engine) -> None:
    with engine.models.host.use() as (llm, _state):
        llm.forget()  # type: ignore[attr-defined]  # a LocalModel: the bench loads a local GGUF


def bench_turns(engine: Engine, sources_text: list[str], turns: int = 5) -> list[dict]:
    """A conversation of `turns` RAG questions, each with 4 sources: time to first token per turn."""
    _forget(engine)
    history: list[Turn] = []
    out = []
    questions = ["What does the policy say about business travel?", "And who approves it?",
                 "How many days of paid leave are there?", "What must new hires submit?",
                 "Summarise the rules on confidential information."]
    settings = GenerationSettings(temperature=0.0, max_tokens=48)
    for i in range(turns):
        q = questions[i % len(questions)]
        srcs = [Source(j + 1, "bench", f"policy-{i}-{j}.md", "", "", sources_text[(i * 4 + j) % len(sources_text)])
                for j in range(4)]
        answer = None
        for event in engine.chat.stream(q, history=history, rag=True, sources=srcs, settings=settings):
            if event.kind == "done":
                answer = event.answer
        assert answer is not None   # a stream ends with its answer
        history.append(Turn(q, answer.text))
        s = answer.stats
        out.append({"turn": i + 1, "prompt_tokens": s["prompt_tokens"], "reused_tokens": s["reused_tokens"],
                    "ttft_ms": round(s["time_to_first_token"] * 1000, 1)})
    return out


def bench_boundary(llm, model_path: str, n_ctx: int, threads: int, gpu_layers: int, runs: int) -> dict:
    """Time to first token of one short prompt in this process (llama.cpp loaded here, as before
    the worker) and through the worker, same settings: what the process boundary adds."""
    from ..llm.runtime import LoadedModel

    text = "<|im_start|>user\nName three rivers in Japan.<|im_end|>\n<|im_start|>assistant\n"
    settings = GenerationSettings(temperature=0.0, repeat_penalty=1.0)

    def ttft(model) -> float:
        times = []
        for _ in range(runs + 1):   # the first run warms caches: not counted
            model.forget()
            stats = GenerationStats()
            for _piece in model.generate(model.tokenize(text, special=True), 1, settings, stats=stats):
                pass
            times.append(stats.time_to_first_token * 1000)
        return statistics.median(times[1:])

    worker_ms = ttft(llm)
    t0 = time.perf_counter()
    for _ in range(50):
        llm.forget()      # a request with nothing to do: the round trip alone
    round_trip_ms = (time.perf_counter() - t0) / 50 * 1000
    here = LoadedModel(Path(model_path), n_ctx, threads, 512, gpu_layers, None, llm.extra_bufts)
    try:
        local_ms = ttft(here)
    finally:
        here.close()
    return {"in_process_ms": round(local_ms, 2), "worker_ms": round(worker_ms, 2),
            "added_ms": round(worker_ms - local_ms, 2), "round_trip_ms": round(round_trip_ms, 3)}


def bench_probe(model_path: str, threads: int) -> dict:
    """The llama.cpp probe run afresh on this model (the app runs it once per machine and build)."""
    from ..llm.probe import run_probe

    verdict = run_probe(Path(model_path), threads)
    return {"seconds": round(verdict.seconds, 2), "settings": "default" if verdict.extra_bufts else "safe",
            "ok": verdict.ok}


def bench_llama_cpp_python(model_path: str, n_ctx: int, threads: int, gpu_layers: int, n: int,
                           runs: int) -> dict:
    from llama_cpp import Llama

    llm = Llama(model_path=model_path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                n_gpu_layers=gpu_layers, verbose=False)
    prompt = llm.tokenize(f"<|im_start|>user\n{STORY}<|im_end|>\n<|im_start|>assistant\n".encode(),
                          special=True)
    gen_rates, stream_rates = [], []
    for _ in range(runs):
        llm.reset()
        count, t_first = 0, 0.0
        for _token in llm.generate(prompt, temp=0.0, repeat_penalty=1.0, reset=True):
            count += 1
            if count == 1:
                t_first = time.perf_counter()
            if count >= n:
                break
        gen_rates.append((count - 1) / (time.perf_counter() - t_first))
        llm.reset()
        count, t_first = 0, 0.0
        for _chunk in llm.create_completion(prompt, max_tokens=n, temperature=0.0, repeat_penalty=1.0,
                                            stream=True):
            count += 1
            if count == 1:
                t_first = time.perf_counter()
        stream_rates.append((count - 1) / (time.perf_counter() - t_first) if count > 1 else None)
    llm.close()
    return {"generate_loop_tps": _median(gen_rates), "create_completion_stream_tps": _median(stream_rates)}


def bench_llama_bench(binary: Path, model_path: str, threads: int, gpu_layers: int, n: int,
                      runs: int) -> float | None:
    cmd = [str(binary), "-m", model_path, "-t", str(threads), "-p", "0", "-n", str(n), "-r", str(runs),
           "-ngl", str(max(gpu_layers, 0) if gpu_layers >= 0 else 999), "-o", "json"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
        rows = json.loads(done.stdout)
        return round(float(rows[0]["avg_ts"]), 2)
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, IndexError) as exc:
        log.warning("llama-bench failed: %s", exc)
        return None


def run_chat_bench(args) -> int:
    from .common import pool_sentences
    from .remote_bench import remote_model, run_remote_chat_bench

    remote = remote_model(args)
    if remote is not None:  # a model on a server: against the server's own timings
        return run_remote_chat_bench(args, remote)
    threads = args.threads or default_threads()
    n, runs = args.tokens, args.runs
    db = paths.data_dir() / "bench" / "chat-bench.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    rss_before = rss_mib()
    with Engine.open(db) as engine:
        say(f"loading the model ({threads} threads)…")
        state = engine.models.load(args.model, LoadSettings(n_threads=threads, n_gpu_layers=args.gpu_layers))
        model_path = state.path
        say("engine decode loop (through the worker process)…")
        with engine.models.host.use() as (llm, _s):
            engine_tps = bench_engine_loop(llm, n, runs)
        say("whole answers through Chat.stream…")
        chat_tps, chat_len = bench_chat_stream(engine, n, runs)
        say("a five-turn conversation with 4 sources per question…")
        text = pool_sentences(200, 100)
        passages = [" ".join(text[i:i + 4]) for i in range(0, len(text) - 4, 4)]  # ~250 tokens, like a chunk
        turns = bench_turns(engine, passages)
        rss_after = rss_mib()
        loaded = engine.models.loaded()
        worker = state.worker_pid or (loaded.worker_pid if loaded else None)
        assert worker is not None   # a local model runs in a worker process
        worker_rss = rss_mib(worker)
        mapped = model_rss_mib(model_path, worker)
        say("time to first token: in this process against through the worker…")
        with engine.models.host.use() as (llm, _s):   # after the memory figures: it loads llama.cpp here
            boundary = bench_boundary(llm, model_path, state.n_ctx, threads, state.n_gpu_layers, runs)
        gpu_layers = state.n_gpu_layers
        n_ctx = state.n_ctx
        offload = state.offload
    say("the llama.cpp probe…")
    probe = bench_probe(model_path, threads)
    say("llama-cpp-python references…")
    ref = bench_llama_cpp_python(model_path, n_ctx, threads, gpu_layers, n, runs)
    binary = find_llama_bench(args.llama_bench)
    say("llama-bench…" if binary else "llama-bench not found: skipped (see --llama-bench)")
    native_tps = bench_llama_bench(binary, model_path, threads, gpu_layers, n, runs) if binary else None

    first, last = turns[0]["ttft_ms"], turns[-1]["ttft_ms"]
    beyond = worker_rss - mapped
    result = {
        "bench": "chat", "machine": machine(), "model": state.model, "model_path": model_path,
        "threads": threads, "n_ctx": n_ctx, "gpu": offload, "tokens": n, "runs": runs,
        "tokens_per_s": {"llama_bench": native_tps, "engine_loop": engine_tps, "engine_chat_stream": chat_tps,
                         "chat_stream_tokens": chat_len, **ref},
        "ratios": {"engine_vs_llama_bench": ratio(engine_tps, native_tps),
                   "chat_stream_vs_llama_bench": ratio(chat_tps, native_tps),
                   "engine_vs_generate_loop": ratio(engine_tps, ref["generate_loop_tps"]),
                   "chat_stream_vs_generate_loop": ratio(chat_tps, ref["generate_loop_tps"])},
        "turns": turns,
        "ttft": {"first_turn_ms": first, "fifth_turn_ms": last, "ratio": ratio(last, first)},
        "boundary": boundary,
        "probe": probe,
        "memory_mib": {"app_before_load": round(rss_before, 1), "app_after": round(rss_after, 1),
                       "worker_rss": round(worker_rss, 1), "model_mapped_resident": round(mapped, 1),
                       "beyond_model": round(beyond, 1)},
    }
    result["goals"] = {
        "engine_ge_95pct_llama_bench": (result["ratios"]["chat_stream_vs_llama_bench"] or 0) >= 0.95
        if native_tps else None,
        "never_slower_than_generate_loop": (result["ratios"]["chat_stream_vs_generate_loop"] or 0) >= 1.0,
        "followup_ttft_le_1_3x": (result["ttft"]["ratio"] or 9) <= 1.3,
        "boundary_adds_le_20ms": boundary["added_ms"] <= 20,
        "probe_le_10s": probe["seconds"] <= 10,
        "memory_beyond_model_le_300mb": beyond <= 300,
    }
    emit(result, args.json, _report(result))
    return 0


def _report(r: dict) -> str:
    t, q = r["tokens_per_s"], r["ratios"]
    lines = [f"bunko bench chat — {r['model']}, {r['threads']} threads, GPU: {r['gpu']}, "
             f"{r['tokens']} tokens × {r['runs']} runs (median)", ""]
    rows = [["llama.cpp llama-bench (tg)", t["llama_bench"], 1.0 if t["llama_bench"] else None],
            ["llama-cpp-python generate() loop", t["generate_loop_tps"], ratio(t["generate_loop_tps"], t["llama_bench"])],
            ["llama-cpp-python create_completion(stream)", t["create_completion_stream_tps"],
             ratio(t["create_completion_stream_tps"], t["llama_bench"])],
            ["Bunko decode loop", t["engine_loop"], q["engine_vs_llama_bench"]],
            [f"Bunko Chat.stream ({t['chat_stream_tokens']} tokens)", t["engine_chat_stream"], q["chat_stream_vs_llama_bench"]]]
    lines.append(table(["generation", "tokens/s", "× llama-bench"], rows))
    lines.append("")
    lines.append(table(["turn", "prompt tokens", "reused from cache", "first token ms"],
                       [[x["turn"], x["prompt_tokens"], x["reused_tokens"], x["ttft_ms"]] for x in r["turns"]]))
    tt, m = r["ttft"], r["memory_mib"]
    lines += ["", f"time to first token, 4 sources: first turn {fmt(tt['first_turn_ms'], 1)} ms, "
                  f"fifth turn {fmt(tt['fifth_turn_ms'], 1)} ms (× {fmt(tt['ratio'], 2)})",
              f"process boundary: first token {fmt(r['boundary']['in_process_ms'], 1)} ms in this process, "
              f"{fmt(r['boundary']['worker_ms'], 1)} ms through the worker (+{fmt(r['boundary']['added_ms'], 1)} ms; "
              f"an empty round trip {fmt(r['boundary']['round_trip_ms'], 3)} ms)",
              f"worker memory: {fmt(m['worker_rss'], 1)} MiB resident, of which the model's mapped file "
              f"{fmt(m['model_mapped_resident'], 1)} MiB ({fmt(m['beyond_model'], 1)} MiB beyond it); "
              f"the app {fmt(m['app_before_load'], 1)} → {fmt(m['app_after'], 1)} MiB",
              f"probe: {fmt(r['probe']['seconds'], 2)} s ({r['probe']['settings']} settings; once per machine and build)",
              "",
              table(["goal", "result"], [[k, v] for k, v in r["goals"].items()])]
    return "\n".join(lines)
