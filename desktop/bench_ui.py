"""`bunko bench ui`: how the window feels, each figure against a reference from the same run.

(a) startup: process start to the main window's first paint, against a bare
    QApplication with an empty QWidget started the same way (goal ≤ 1.5 s);
(b) stall: the longest gap of a 5 ms QTimer while a ~200-file folder is indexed
    and the embedded model answers, in one window, against the same timer idle
    (goal < 50 ms);
(c) streaming: time per token update of a 2,000-token answer in the chat view,
    last 10 % against first 10 % (goal: no slowdown).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

STARTUP_GOAL_S = 1.5
STALL_GOAL_MS = 50.0
STREAM_GOAL_RATIO = 1.5
N_FILES = 200
N_TOKENS = 2000

REFERENCE_APP = """
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget
class Probe(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print("BUNKO_FIRST_PAINT %.6f" % time.time(), flush=True)
            obj.removeEventFilter(self)
            QTimer.singleShot(0, obj.close)
        return False
app = QApplication(sys.argv)
w = QWidget()
w.resize(1100, 720)
probe = Probe(w)
w.installEventFilter(probe)
w.show()
app.exec()
"""


def _needs_offscreen() -> bool:
    if sys.platform in ("win32", "darwin") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# -- (a) startup -------------------------------------------------------------------------
def _time_to_paint(cmd: list[str], env: dict) -> float | None:
    start = time.time()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    for line in proc.stdout.splitlines():
        if line.startswith("BUNKO_FIRST_PAINT "):
            return float(line.split()[1]) - start
    log.warning("no paint reported (exit %s): %s", proc.returncode, proc.stderr[-2000:])
    return None


def measure_startup(runs: int = 3) -> dict:
    from .app import PROBE_ENV

    with tempfile.TemporaryDirectory(prefix="bunko-bench-") as tmp:
        env = dict(os.environ, BUNKO_DATA_DIR=tmp, **{PROBE_ENV: "1"})
        # `-m desktop.app` must find this copy of Bunko, installed or not.
        root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        app_cmd = [sys.executable, "-m", "desktop.app"]
        ref_cmd = [sys.executable, "-c", REFERENCE_APP]
        _time_to_paint(app_cmd, env)  # first start creates the database: not what people see daily
        _time_to_paint(ref_cmd, env)
        app_times, ref_times = [], []
        for _ in range(runs):
            app_times.append(_time_to_paint(app_cmd, env))
            ref_times.append(_time_to_paint(ref_cmd, env))
    if None in app_times or None in ref_times:
        return {"measured": False, "why": "the window did not report a paint; see the log"}
    app_s, ref_s = statistics.median(app_times), statistics.median(ref_times)
    return {"measured": True, "seconds": round(app_s, 3), "reference_s": round(ref_s, 3),
            "ratio": round(app_s / ref_s, 2), "goal_s": STARTUP_GOAL_S, "ok": app_s <= STARTUP_GOAL_S,
            "runs": runs}


# -- (b) event-loop stall --------------------------------------------------------------------
class _GapMeter:
    """A 5 ms timer; the longest gap between its ticks is the longest stall of the loop."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.gaps: list[float] = []
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self.last) * 1000)
        self.last = now

    def run_until(self, app, done, limit_s: float) -> dict:
        self.gaps.clear()
        self.last = time.perf_counter()
        self.timer.start()
        end = time.perf_counter() + limit_s
        while not done() and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        self.timer.stop()
        gaps = sorted(self.gaps) or [0.0]
        return {"max_ms": round(gaps[-1], 1), "p99_ms": round(gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))], 1),
                "ticks": len(self.gaps)}


def _settle(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def _make_folder(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        text = (f"# 規程 {i}\n\n出張の日当は一日 {1000 + i} 円です。宿泊費は実費精算とします。\n\n"
                f"Travel rule {i}: the daily allowance is {1000 + i} yen; hotels are paid at cost.\n") * 3
        (folder / f"doc_{i:03d}.md").write_text(text, encoding="utf-8")


def measure_stall(limit_s: float = 240.0) -> dict:
    from PySide6.QtWidgets import QApplication

    from engine.api import Engine, GenerationSettings

    from .context import AppContext
    from .main_window import MainWindow
    from .settings import Settings

    app = QApplication.instance() or QApplication([sys.argv[0]])
    with tempfile.TemporaryDirectory(prefix="bunko-bench-") as tmp:
        folder = Path(tmp) / "docs"
        _make_folder(folder, N_FILES)
        engine = Engine.open(Path(tmp) / "bench.duckdb")  # the embedder from the usual models folder
        try:
            engine.models.load(None)
            engine.searcher.embed_query("warm up")
            settings = Settings(Path(tmp) / "settings.ini")
            settings.set_generation(GenerationSettings(max_tokens=64))
            ctx = AppContext(engine, settings)
            window = MainWindow(ctx)
            ctx.window = window
            window.show()
            window.create_pages()
            meter = _GapMeter()
            _settle(app, 1.0)  # the first paints and page refreshes are not the idle loop
            idle = meter.run_until(app, lambda: False, 2.0)

            started = time.perf_counter()
            indexing_done, answer_done = _start_indexing(ctx, window, folder), _start_answer(ctx, window)
            busy = meter.run_until(app, lambda: all([indexing_done(), answer_done()]), limit_s)
            busy["seconds"] = round(time.perf_counter() - started, 1)
            finished = all([indexing_done(), answer_done()])
            window.close()
            ctx.shut_down(60)
        finally:
            engine.close()
    ratio = busy["max_ms"] / max(idle["max_ms"], 0.1)
    return {"measured": True, "max_ms": busy["max_ms"], "p99_ms": busy["p99_ms"],
            "reference_ms": idle["max_ms"], "ratio": round(ratio, 2), "goal_ms": STALL_GOAL_MS,
            "ok": busy["max_ms"] < STALL_GOAL_MS and finished, "finished": finished,
            "seconds": busy["seconds"], "files": N_FILES}


def _start_indexing(ctx, window, folder: Path):
    """Through the libraries page when it offers add_folder, else straight through the runner."""
    page = window.page("libraries")
    if hasattr(page, "add_folder") and hasattr(page, "is_indexing"):
        seen = {"busy": False}
        page.add_folder(str(folder))

        def done() -> bool:
            busy = page.is_indexing()
            seen["busy"] = seen["busy"] or busy
            return seen["busy"] and not busy
        return done
    lib = ctx.engine.libraries.add(folder)
    task = ctx.runner.run(ctx.engine.libraries.index, lib.name, on_progress=ctx.indexing.emit, key="bench:index")
    return task.finished.is_set


def _start_answer(ctx, window):
    page = window.page("chat")
    if hasattr(page, "ask_text") and hasattr(page, "is_streaming"):
        seen = {"busy": False}
        page.ask_text("出張の日当はいくらですか? Answer in detail.")

        def done() -> bool:
            busy = page.is_streaming()
            seen["busy"] = seen["busy"] or busy
            return seen["busy"] and not busy
        return done
    task = ctx.runner.stream(
        lambda cancel: ctx.engine.ask("What is the daily allowance? Answer in detail.", rag=False,
                                      settings=ctx.settings.generation(), cancel=cancel),
        on_item=lambda event: None, key="bench:answer")
    return task.finished.is_set


# -- (c) streaming -------------------------------------------------------------------------------
def _message_view_classes():
    """The chat page's MessageView (append_text/flush/finish) and Transcript, if it has them."""
    try:
        package = importlib.import_module(".chat", "desktop")
    except ImportError:
        return None, None
    view = getattr(package, "MessageView", None)
    if view is None or not hasattr(view, "append_text"):
        return None, None
    return view, getattr(package, "Transcript", None)


def _tokens(n: int) -> list[str]:
    words = ["出張", "の", "日当", "は", " daily", " allowance", " is", " 1,000", " yen", "。", " [1]"]
    out = []
    for i in range(n):
        out.append(words[i % len(words)])
        if i % 60 == 59:
            out.append("\n\n")
    return out[:n]


def measure_streaming() -> dict:
    """Each token is appended and shown at once (flush), the worst case for the view;
    in the app, tokens arriving within the view's flush interval are shown together."""
    from PySide6.QtWidgets import QApplication

    view_class, transcript_class = _message_view_classes()
    if view_class is None:
        return {"measured": False, "why": "the chat page has no MessageView.append_text yet"}
    app = QApplication.instance() or QApplication([sys.argv[0]])
    view = view_class("assistant")
    top = view
    if transcript_class is not None:  # inside the scrolling transcript, as in the app
        top = transcript_class()
        top.add(view)
    top.resize(800, 600)
    top.show()
    flush = getattr(view, "flush", None)
    times = []
    for token in _tokens(N_TOKENS):
        t0 = time.perf_counter()
        view.append_text(token)
        if flush is not None:
            flush()
        app.processEvents()
        times.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    view.finish()
    app.processEvents()
    finish_ms = (time.perf_counter() - t0) * 1000
    top.close()
    tenth = max(1, len(times) // 10)
    first, last = statistics.mean(times[:tenth]), statistics.mean(times[-tenth:])
    ratio = last / max(first, 1e-6)
    return {"measured": True, "first_ms": round(first, 3), "last_ms": round(last, 3), "ratio": round(ratio, 2),
            "finish_ms": round(finish_ms, 1), "goal_ratio": STREAM_GOAL_RATIO, "ok": ratio <= STREAM_GOAL_RATIO,
            "tokens": len(times)}


# -- report ------------------------------------------------------------------------------------------
def _table(results: dict) -> str:
    rows = [("figure", "value", "reference", "ratio", "goal", "ok")]
    s, b, c = results["startup"], results["stall"], results["streaming"]
    for name, r, value, ref, goal in (
            ("startup to first paint", s, "{seconds:.2f} s", "{reference_s:.2f} s", f"≤ {STARTUP_GOAL_S} s"),
            ("longest UI stall (index + answer)", b, "{max_ms:.0f} ms", "{reference_ms:.0f} ms idle",
             f"< {STALL_GOAL_MS:.0f} ms"),
            ("token update, last/first 10 %", c, "{last_ms:.2f} ms", "{first_ms:.2f} ms",
             f"ratio ≤ {STREAM_GOAL_RATIO}")):
        if r.get("measured"):
            rows.append((name, value.format(**r), ref.format(**r), f"{r['ratio']:.2f}", goal,
                         "yes" if r["ok"] else "NO"))
        else:
            rows.append((name, "not measured", r.get("why", ""), "", goal, ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bunko bench ui", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--runs", type=int, default=3, help="starts measured for (a) (median; default 3)")
    args = parser.parse_args(argv)
    if _needs_offscreen():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    results = {"startup": measure_startup(max(1, args.runs))}
    results["stall"] = measure_stall()
    results["streaming"] = measure_streaming()
    print(json.dumps(results, ensure_ascii=False) if args.json else _table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
