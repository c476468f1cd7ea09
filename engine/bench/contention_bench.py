"""`bunko bench contention`: an answer while a library indexes, on the same cores.

In one run, one process, one model and one embedder:
* reference 1: the answer alone (tokens/s, the median of `--runs`);
* reference 2: indexing a generated folder alone (chunks/s);
* then for each CPU budget mode (`--modes`, default pause and full): the same folder
  (a fresh copy) indexed in the background while the same answers are generated.

Figures: answer tokens/s while indexing ÷ alone (goal ≥ 0.7), and the indexing rate
outside the answers' time ÷ indexing alone (goal ≥ 0.9). Mode `full` (no yielding)
is the old behaviour, shown for comparison.
"""

from __future__ import annotations

from typing import Any
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from ..api import Engine, background_mode, set_background_mode
from ..budget import MODES
from ..errors import BunkoError
from ..llm.runtime import default_threads
from ..types import GenerationSettings, LoadSettings
from .common import emit, fmt, machine, ratio, say, table
from .index_bench import generate_folder

QUESTION = "Write a long story about a cat who travels around Japan by train, with many details."
GOAL_ANSWER = 0.7
GOAL_INDEX = 0.9


def _answer_tps(engine: Engine, settings: GenerationSettings) -> float:
    for event in engine.chat.stream(QUESTION, settings=settings):
        if event.kind == "done" and event.answer is not None:
            return float(event.answer.stats["tokens_per_second"])
    raise BunkoError("the answer ended without statistics")


class _Indexing:
    """One index run on a thread, with its progress (committed chunks) over time."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine, self.name = engine, name
        self.chunks = 0
        self.started = threading.Event()
        self.result: Any = None   # the IndexResult once done
        self.error: BaseException | None = None
        self.seconds = 0.0
        self.span = (0.0, 0.0)  # perf_counter at start and end
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _progress(self, p) -> None:
        self.chunks = p.chunks_done
        self.started.set()  # the run is under way (reading and embedding overlap the answers)

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            self.result = self.engine.libraries.index(self.name, progress=self._progress)
        except BaseException as exc:  # noqa: BLE001 - reported by the bench
            self.error = exc
        finally:
            end = time.perf_counter()
            self.seconds, self.span = end - t0, (t0, end)
            self.started.set()

    @property
    def running(self) -> bool:
        return self.thread.is_alive()


def run_contention_bench(args) -> int:
    modes = [m.strip() for m in str(args.modes).split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise BunkoError(f"Unknown mode(s) {', '.join(bad) or '(none)'}; use {', '.join(MODES)}.")
    threads = args.threads or default_threads()
    settings = GenerationSettings(temperature=0.0, repeat_penalty=1.0, max_tokens=args.tokens)
    saved_mode = background_mode()
    out: dict = {"bench": "contention", "machine": machine(), "threads": threads, "tokens": args.tokens}
    with tempfile.TemporaryDirectory(prefix="bunko-bench-contention-") as tmp_name:
        tmp = Path(tmp_name)
        folder = tmp / "documents"
        out["folder"] = generate_folder(folder, args.files)
        with Engine.open(tmp / "bench.duckdb") as engine:
            say(f"loading the model ({threads} threads) and the embedder…")
            state = engine.models.load(args.model, LoadSettings(n_threads=threads))
            out["model"] = state.model
            engine.searcher.embedder.embed_passages(["warm-up: 就業規則の適用範囲について"] * 8)
            _answer_tps(engine, GenerationSettings(temperature=0.0, max_tokens=8))
            say("the answer alone…")
            alone = statistics.median(_answer_tps(engine, settings) for _ in range(args.runs))
            say("indexing alone…")
            engine.libraries.add(folder, "alone")
            t0 = time.perf_counter()
            res = engine.libraries.index("alone")
            index_alone = res.chunks / (time.perf_counter() - t0)
            out["alone"] = {"answer_tps": round(alone, 2), "index_chunks_per_s": round(index_alone, 2),
                            "chunks": res.chunks}
            out["modes"] = {}
            try:
                for mode in modes:
                    say(f"answers while indexing (budget mode {mode})…")
                    set_background_mode(mode)
                    copy = tmp / f"copy-{mode}"
                    shutil.copytree(folder, copy)
                    engine.libraries.add(copy, mode)
                    run = _Indexing(engine, mode)
                    run.thread.start()
                    run.started.wait()
                    # Answers one after another while the index runs; only those that
                    # ended before it did count as "while indexing".
                    rates: list[float] = []
                    windows: list = []
                    answer_chunks = 0
                    while run.running and len(windows) < 8 * args.runs:
                        c0, t0 = run.chunks, time.perf_counter()
                        tps = _answer_tps(engine, settings)
                        windows.append((t0, time.perf_counter()))
                        answer_chunks += run.chunks - c0
                        if run.running:
                            rates.append(tps)
                    run.thread.join()
                    if run.error is not None:
                        raise run.error
                    start, end = run.span
                    overlap = sum(max(0.0, min(b, end) - max(a, start)) for a, b in windows)
                    during = statistics.median(rates) if rates else None
                    outside_s = run.seconds - overlap
                    outside_rate = (run.result.chunks - answer_chunks) / outside_s if outside_s > 0.5 else None
                    out["modes"][mode] = {
                        "answer_tps": round(during, 2) if during else None, "answer_ratio": ratio(during, alone),
                        "answers_while_indexing": len(rates),
                        "index_chunks_per_s_outside_answers": round(outside_rate, 2) if outside_rate else None,
                        "index_ratio": ratio(outside_rate, index_alone),
                        "index_total_s": round(run.seconds, 2), "answers_overlap_s": round(overlap, 2),
                        "chunks": run.result.chunks,
                    }
            finally:
                set_background_mode(saved_mode)
    goals = out["modes"].get(saved_mode) or next(iter(out["modes"].values()))
    out["goals"] = {
        "answer_ratio": {"goal": GOAL_ANSWER, "value": goals["answer_ratio"],
                         "pass": (goals["answer_ratio"] or 0) >= GOAL_ANSWER},
        "index_ratio": {"goal": GOAL_INDEX, "value": goals["index_ratio"],
                        "pass": (goals["index_ratio"] or 0) >= GOAL_INDEX},
    }
    rows = [["answer alone (tokens/s)", out["alone"]["answer_tps"], None, None, None],
            ["indexing alone (chunks/s)", out["alone"]["index_chunks_per_s"], None, None, None]]
    for mode, m in out["modes"].items():
        rows.append([f"answer while indexing, {mode} (tokens/s)", m["answer_tps"], m["answer_ratio"],
                     f">= {GOAL_ANSWER}", m["answers_while_indexing"]])
        rows.append([f"indexing outside answers, {mode} (chunks/s)", m["index_chunks_per_s_outside_answers"],
                     m["index_ratio"], f">= {GOAL_INDEX}", None])
    text = (f"model {out.get('model')}, {threads} threads, {args.tokens} tokens per answer, "
            f"{out['alone']['chunks']} chunks per index run; budget mode {saved_mode} is the setting\n"
            + table(["measure", "value", "ratio vs alone", "goal", "answers counted"],
                    [[r[0], fmt(r[1]), fmt(r[2]), r[3] or "", "" if r[4] is None else str(r[4])] for r in rows]))
    emit(out, args.json, text)
    return 0
