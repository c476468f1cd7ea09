"""The indexer's side of the OCR worker: start it, feed it pages, contain its failures.

One worker serves a whole indexing run (the models load once). Between two
pages the run yields to an answer being generated (engine/budget.py) and
checks its cancel token and the file's budget; while a page is read, the
wait polls those every 0.1 s, so a cancel or a file over its time kills the
worker within a fraction of a second and the next page starts a fresh one.
A worker that dies (a crash in native code, a kill) or grows past
`MAX_WORKER_MEMORY` fails the file with the reason in words; indexing goes on.

Each page read is kept in a cache beside the database (keyed by the file's
hash), so pages already read survive a cancel or a kill -9 of the app.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from engine.budget import BUDGET, lower_priority
from engine.errors import Cancelled, ParseError
from engine.ingest.budget import checkpoint, extend

log = logging.getLogger(__name__)

PAGE_SECONDS = 120.0  # one page may take this long before the worker is judged hung
PAGE_BUDGET_SECONDS = 30.0  # each page to read adds this much to its file's time budget
START_SECONDS = 60.0  # starting the worker and loading the models
MAX_WORKER_MEMORY = 1536 * 2**20  # resident memory of the worker
_POLL = 0.1


class OcrFailed(ParseError):
    """The worker could not read the file (it crashed, hung, or refused it)."""


class OcrWorker:
    """One child process; `close()` ends it. Not shared between threads."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads
        self.proc: subprocess.Popen | None = None
        self._lines: queue.Queue = queue.Queue()
        self._payloads: dict[int, bytes] = {}
        self.pid: int | None = None
        self.cancel = None  # a CancelToken that stops the page under way (read_pages sets it)

    # -- the process ---------------------------------------------------------
    def _start(self) -> None:
        env = dict(os.environ)
        if self.threads:
            env["BUNKO_OCR_THREADS"] = str(self.threads)
        root = str(Path(__file__).resolve().parents[3])
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        # A packaged build has no `python -m`: its launcher starts the worker on --ocr-worker.
        command = ([sys.executable, "--ocr-worker"] if getattr(sys, "frozen", False)
                   else [sys.executable, "-m", "engine.ingest.ocr.worker"])
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=root,
            start_new_session=True)
        self.pid = self.proc.pid
        lower_priority(self.proc.pid)
        self._lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc, self._lines), daemon=True,
                         name="bunko-ocr-reader").start()

    @staticmethod
    def _pump(proc: subprocess.Popen, lines: queue.Queue) -> None:
        """Messages from the worker, payloads attached; None once it is gone."""
        out = proc.stdout
        assert out is not None   # opened as a pipe
        try:
            while True:
                line = out.readline()
                if not line:
                    break
                msg = json.loads(line)
                if "size" in msg and "pages" not in msg:
                    msg["_payload"] = out.read(msg["size"])
                lines.put(msg)
        except (OSError, ValueError):
            pass
        lines.put(None)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
        self.proc = None

    close = kill

    def _death(self) -> str:
        code = self.proc.poll() if self.proc is not None else None
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the OCR process stopped unexpectedly ({name})"
        return f"the OCR process stopped unexpectedly (exit code {code})"

    # -- requests ------------------------------------------------------------
    def request(self, msg: dict, payload: bytes | None = None, seconds: float = PAGE_SECONDS,
                what: str = "the page") -> dict:
        if not self.alive():
            self._start()
            seconds += START_SECONDS
        assert self.proc is not None and self.proc.stdin is not None   # started with a pipe
        try:
            self.proc.stdin.write((json.dumps(msg) + "\n").encode())
            if payload is not None:
                self.proc.stdin.write(payload)
            self.proc.stdin.flush()
        except OSError:
            reason = self._death()
            self.kill()
            raise OcrFailed(f"{reason} while reading {what}") from None
        try:
            answer = self._wait(time.monotonic() + seconds, seconds, what)
        except BaseException:  # a cancel, the file's budget (even raised by its watchdog), a crash
            self.kill()  # a worker left mid-page would answer the next request with this one
            raise
        if "error" in answer:  # the worker refused this request; it is still good for the next
            raise OcrFailed(answer["error"])
        return answer

    def _wait(self, deadline: float, seconds: float, what: str) -> dict:
        proc = self.proc
        assert proc is not None   # a request started it
        while True:
            try:
                answer = self._lines.get(timeout=_POLL)
            except queue.Empty:
                answer = False
            if answer is None:
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
                raise OcrFailed(f"{self._death()} while reading {what}")
            if answer:
                return answer
            checkpoint()  # the run's cancel and the file's time and memory
            if self.cancel is not None and self.cancel.cancelled:
                raise Cancelled("Cancelled.")
            if time.monotonic() > deadline:
                raise OcrFailed(f"reading {what} took too long (more than {seconds:.0f} s); the OCR was stopped")
            rss = _rss(proc.pid)
            if rss is not None and rss > MAX_WORKER_MEMORY:
                raise OcrFailed(f"reading {what} needed too much memory (more than {MAX_WORKER_MEMORY // 2**20} MB)")

    def open(self, kind: str, data: bytes) -> int:
        return int(self.request({"op": "open", "kind": kind, "size": len(data)}, data, what="the file")["pages"])

    def read(self, page: int) -> dict:
        return self.request({"op": "read", "page": page}, what=f"page {page}")

    def render(self, kind: str, data: bytes, page: int, max_side: int = 1400, rotation: int = 0) -> bytes:
        """PNG of one page, turned `rotation` degrees clockwise."""
        self.open(kind, data)
        answer = self.request({"op": "render", "page": page, "max_side": max_side, "rotation": rotation},
                              what=f"page {page}")
        return answer["_payload"]


def _rss(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class PageCache:
    """Pages already read, one small JSON file each, so a killed run need not read them again."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def _path(self, file_hash: str, page: int) -> Path | None:
        return self.folder / file_hash[:2] / file_hash / f"{page}.json" if self.folder and file_hash else None

    def get(self, file_hash: str, page: int) -> dict | None:
        path = self._path(file_hash, page)
        if path is None:
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, file_hash: str, page: int, result: dict) -> None:
        path = self._path(file_hash, page)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.info("could not keep an OCR page: %s", exc)

    def forget(self, file_hash: str) -> None:
        """The file is stored: its pages live in the database now."""
        if not (self.folder and file_hash):
            return
        folder = self.folder / file_hash[:2] / file_hash
        for f in folder.glob("*"):
            try:
                f.unlink()
            except OSError:
                pass
        try:
            folder.rmdir()
        except OSError:
            pass


def read_pages(worker: OcrWorker, kind: str, data: bytes, pages: list[int] | None, file_hash: str = "",
               cache: PageCache | None = None, cancel=None, on_page=None) -> tuple[int, dict[int, dict]]:
    """OCR the given pages (all when None) of one file: (page count, {page: PageText JSON}).

    `on_page(done, total)` is called after each page, for progress.
    """
    cache = cache or PageCache(None)
    worker.cancel = cancel
    total = None
    results: dict[int, dict] = {}
    wanted = pages
    if wanted is not None:
        missing = [p for p in wanted if cache.get(file_hash, p) is None]
    else:
        missing = None
    if missing is None or missing:
        total = worker.open(kind, data)
    if wanted is None:
        wanted = list(range(1, (total or 0) + 1))
    for i, number in enumerate(wanted):
        checkpoint()
        found = cache.get(file_hash, number)
        if found is None:
            extend(PAGE_BUDGET_SECONDS)
            waited = BUDGET.wait_turn(cancel)  # an answer being generated goes first
            extend(waited or 0.0)  # time spent giving way is not the file's
            if cancel is not None and cancel.cancelled:
                raise Cancelled("Cancelled.")
            found = worker.read(number)
            cache.put(file_hash, number, found)
        results[number] = found
        if on_page is not None:
            on_page(i + 1, len(wanted))
    return total if total is not None else len(wanted), results

