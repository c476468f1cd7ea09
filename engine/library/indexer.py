"""Keeping a library's rows in step with its folder.

A run has three stages that overlap: a reader thread reads, hashes, parses
and chunks files; the calling thread embeds chunks in pools sorted by length;
a writer thread stores finished documents (see writer.py). A document's
old rows, new rows and its `documents` row change in one transaction, and
transactions are committed every `COMMIT_SECONDS`, so a killed run loses at
most that much work and never leaves a half-written or duplicated document:
the next run sees the file's size and mtime differ from what is stored and
does it again.

Bad input is data, not a crash: whatever goes wrong with one file (a parser's
surprise, a file over its time or memory budget, a row the database refuses)
records that file as failed with the reason, and the others go on. Reading a
file happens under a `FileBudget` that cancelling also stops, so a cancel or
pause takes effect within about a second even inside one large file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
from pathlib import Path
from typing import NamedTuple, Protocol
from collections.abc import Callable

import numpy as np

from ..budget import BUDGET
from ..cancel import CancelToken
from ..embed.onnx_embedder import EMBED_GROUP
from ..errors import BunkoError, Cancelled, ParseError, SkipFile
from ..ingest.budget import FileBudget, Watchdog, file_budget
from ..ingest import sparse
from ..ingest.chunk import chunk_sections
from ..ingest.generated import MINIFIED, minified
from ..ingest.normalize import valid_text
from ..ingest.ocr import LOW_CONFIDENCE, OcrContext, ocr_session
from ..ingest.parsers import parse_file, read_bytes
from ..ingest.scan import MAX_FILE_BYTES, Found, display_path, inside, scan, stored_rel
from ..search import keyword
from ..store import Store
from ..types import IndexProgress, IndexResult
from .rows import delete_documents
from .writer import CommitListener, Vectors, Work, Writer

log = logging.getLogger(__name__)

POOL_CHUNKS = 128  # chunks taken from the pool at a time: enough to sort by length
QUEUE_DOCS = 64
# Chunk text read but not yet embedded. Past this the reader waits, so big files
# read ahead of a slow embedder cannot fill the memory.
PENDING_CHARS = 32_000_000
MAX_TITLE_CHARS = 300  # a title goes in front of every chunk the embedder sees
ETA_AFTER_S = 5.0  # no time left is shown before this much indexing ...
REPORT_EVERY_S = 0.2  # progress callbacks at most this often (a forced one always goes)
ETA_AFTER_SHARE = 0.01  # ... nor before this share of the bytes is done


class Embedder(Protocol):
    name: str
    model_id: str
    dim: int
    max_tokens: int

    def count_tokens(self, texts: list[str]) -> list[int]: ...
    def embed_passages(self, texts: list[str], batch_size: int = 32,
                       background: bool = False) -> np.ndarray: ...


class _Known(NamedTuple):
    """A document row as the last run left it."""
    id: int
    size: int | None
    mtime: float | None
    hash: str | None
    status: str
    reason: str | None


def file_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class IndexRun:
    """Indexes one library once. Use `index_library`."""

    def __init__(
        self,
        store: Store,
        library_id: int,
        name: str,
        root: Path,
        embedder: Embedder,
        progress: Callable[[IndexProgress], None] | None,
        cancel: CancelToken,
        listener: CommitListener | None,
        max_tokens: int,
    ) -> None:
        self.store = store
        self.library_id = library_id
        self.name = name
        self.root = root
        self.real_root = os.path.realpath(root)
        self.embedder = embedder
        self.progress = progress or (lambda p: None)
        self.cancel = cancel
        self.listener = listener
        self.max_tokens = max_tokens
        self.result = IndexResult(name)
        self.counts = {"added": 0, "updated": 0, "renamed": 0, "removed": 0, "unchanged": 0,
                       "skipped": 0, "failed": 0, "chunks": 0}
        self.started = time.monotonic()
        self.embed_started: float | None = None  # when the first file reached the embedder
        self.embed_seconds = 0.0
        self.chunks_embedded = 0  # counted as the embedder makes them: a big file's are written at its end
        self.files_total = 0
        self.bytes_total = 0
        self.files_done = 0
        self.bytes_done = 0
        self.bytes_partial = 0.0  # the embedded share of files still being embedded
        self._last_report = 0.0
        self.writer = Writer(store, library_id, embedder.dim, listener, self.counts, None, cancel)
        self.ocr = self._ocr_context()
        self.include_generated = self._include_generated()
        self.writer.ocr_cache = self.ocr.cache
        self.ocr_message = ""
        self.ocr_share = 0.0  # the OCR'd share of the file being read, for time left
        self.ocr_file: tuple[str, int] | None = None  # (file, its size) while its pages are read
        self._pending_chars = 0  # chunk text read and not yet embedded
        self._room = threading.Condition()
        self._halted = False  # the run failed (an embedder on a server lost, a store error): the reader stops

    def _ocr_context(self) -> OcrContext:
        from ..ingest.ocr.client import PageCache

        row = self.store.cursor().execute("SELECT coalesce(ocr, true) FROM libraries WHERE id = ?",
                                          [self.library_id]).fetchone()
        folder = Path(str(self.store.path) + ".ocr-pages") if getattr(self.store, "path", None) else None
        return OcrContext(cache=PageCache(folder), enabled=bool(row[0]) if row else True, cancel=self.cancel)

    def _include_generated(self) -> bool:
        """The library's switch: index generated code and what .gitignore leaves out too."""
        row = self.store.cursor().execute("SELECT coalesce(include_generated, false) FROM libraries WHERE id = ?",
                                          [self.library_id]).fetchone()
        return bool(row[0]) if row else False

    def _on_page(self, done: int, total: int) -> None:
        """Per-page progress of a file read by OCR (called in the reader thread)."""
        if self.ocr_file is None:
            return
        name, size = self.ocr_file
        self.ocr_share = size * done / max(total, 1)
        self.ocr_message = f"OCR: page {done} of {total} of {display_path(name)}"
        if self.embed_started is None:
            self.embed_started = time.monotonic()  # OCR is the work: time left follows it

    # -- planning ---------------------------------------------------------
    def plan(self) -> tuple[list[Work], list[Found], dict[str, _Known], set[str]]:
        cur = self.store.cursor()
        known = {
            stored_rel(row[0], row[1]): _Known(*row[2:])
            for row in cur.execute(
                "SELECT path, path_raw, id, size, mtime, hash, status, reason FROM documents WHERE library_id = ?",
                [self.library_id],
            ).fetchall()
        }
        row = cur.execute("SELECT value FROM meta WHERE key = 'kw_avgdl'").fetchone()
        self.writer.avgdl = float(row[0]) if row else None
        self.writer.kw_version = keyword.index_version(cur)  # new postings follow the stored ones' rules
        cur.close()
        todo: list[Work] = []
        skips: list[Found] = []
        seen: set[str] = set()
        for found in scan(self.root, include_generated=self.include_generated):
            self.cancel.raise_if_cancelled()
            seen.add(found.rel)
            old = known.get(found.rel)
            if found.skip:
                if old is None or old.status != "skipped" or old.reason != valid_text(found.skip):
                    skips.append(found)
                continue
            if (old is not None and old.size == found.size and old.mtime == found.mtime
                    and (old.status not in ("skipped", "partial")  # 'partial': a killed run's large document
                         or (old.reason == MINIFIED and not self.include_generated))):  # not re-read each pass
                self.counts["unchanged"] += 1
                continue
            todo.append(Work(found, old.id if old else None))
        todo.sort(key=lambda w: w.found.size)  # small files first: a huge one never holds the rest back
        vanished = set(known) - seen
        return todo, skips, known, vanished

    # -- stage 1: read, parse, chunk -------------------------------------
    def _prepare(self, work: Work, by_hash: dict[str, int], old_hashes: dict[int, str],
                 watchdog: Watchdog) -> None:
        path = self.root / work.found.rel
        budget = FileBudget(work.found.size, self.cancel)
        try:
            with file_budget(budget, watchdog):
                real = os.path.realpath(path)  # a link may have been put in its place since the scan
                if not inside(real, self.real_root):
                    raise SkipFile("link to a file outside the library folder; not followed")
                data = read_bytes(Path(real), MAX_FILE_BYTES)
                why = None if self.include_generated else minified(path.name, data)
                if why:
                    raise SkipFile(why)
                work.hash = file_hash(data)
                if work.old_id is not None and old_hashes.get(work.old_id) == work.hash:
                    work.status = "touched"  # same bytes, new mtime
                    return
                if work.old_id is None and work.hash in by_hash:
                    work.rename_of = by_hash.pop(work.hash)
                    work.status = "renamed"
                    return
                self.ocr.file_hash, self.ocr.on_page = work.hash, self._on_page
                self.ocr_file, self.ocr_share, self.ocr_message = (work.found.rel, work.found.size), 0.0, ""
                try:
                    doc = parse_file(path, data=data)
                finally:
                    self.ocr_file, self.ocr_share, self.ocr_message = None, 0.0, ""
                del data
                if doc.ocr:
                    work.ocr = doc.ocr
                    low = [p for p in doc.ocr if p.low]
                    if low:
                        pages = ", ".join(str(p.page) for p in low[:10]) + (" …" if len(low) > 10 else "")
                        worst = min(p.confidence for p in low)
                        work.error = (f"OCR: low confidence on page{'s' if len(low) > 1 else ''} {pages} "
                                      f"(lowest {worst:.2f}, below {LOW_CONFIDENCE:.2f}); check the text against "
                                      "the scan")
                title = valid_text(doc.title) if doc.title else None
                if title and len(title) > MAX_TITLE_CHARS:
                    title = title[:MAX_TITLE_CHARS - 1] + "…"
                work.kind, work.title, work.encoding = doc.kind, title, doc.encoding
                texts = [s.text for s in doc.sections]
                why = sparse.low_information(texts)
                if why:
                    raise SkipFile(why)
                limit = sparse.chunk_limit(texts)
                sections, share = sparse.head(doc.sections, limit * sparse.CHARS_PER_CHUNK)
                del doc, texts
                chunks = chunk_sections(sections, self.embedder.count_tokens, self.max_tokens)
                work.chunks, part_note = sparse.capped(chunks, share, limit)
                work.error = part_note or work.error   # notes, not failures: in part, or OCR to check
                if not work.chunks:
                    raise ParseError("the file contains no text")
                work.chars = sum(len(c.text) for c in work.chunks)
        except Cancelled:
            if not self.cancel.cancelled:  # a parser's own, not ours: only this file fails
                work.fail("reading the file was stopped")
            return
        except SkipFile as exc:
            work.status, work.error, work.chunks = "skipped", budget.reason(exc), []
        except BunkoError as exc:
            work.fail(budget.reason(exc))
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
            log.exception("unexpected failure on %s", path)
            work.fail(f"unexpected error ({type(exc).__name__}: {exc})")

    def _reader(self, todo: list[Work], out: queue.Queue, by_hash: dict[str, int], old_hashes: dict[int, str]) -> None:
        with ocr_session(self.ocr):
            try:
                self._read_all(todo, out, by_hash, old_hashes)
            finally:
                if self.ocr.worker is not None:
                    self.ocr.worker.close()

    def _read_all(self, todo: list[Work], out: queue.Queue, by_hash: dict[str, int],
                  old_hashes: dict[int, str]) -> None:
        watchdog = Watchdog()
        try:
            for work in todo:
                with self._room:  # wait while big files read ahead wait for the embedder, and
                    while ((self._pending_chars > PENDING_CHARS or self.writer.writing_large)  # one is stored
                           and not self._stopped()):
                        self._room.wait(0.2)
                if self._stopped():
                    break
                BUDGET.wait_turn(self.cancel)  # parsing yields to an answer too
                if work.status == "indexed":  # skips found by the scan need no reading
                    self._prepare(work, by_hash, old_hashes, watchdog)
                if self.cancel.cancelled:
                    break
                with self._room:
                    self._pending_chars += work.chars
                self._put(out, work)
        except BaseException:  # never expected; the files not yet read wait for the next run
            log.exception("the reader stopped")
        finally:
            watchdog.close()
            self._put(out, None)

    def _stopped(self) -> bool:
        return self.cancel.cancelled or self._halted

    def _put(self, out: queue.Queue, item) -> None:
        """Hand on to the embedding loop; a failed run no longer takes anything, so give up then."""
        while True:
            try:
                return out.put(item, timeout=0.2)
            except queue.Full:
                if self._halted:
                    return

    def _embedded(self, work: Work) -> None:
        with self._room:
            self._pending_chars -= work.chars
            self._room.notify_all()

    # -- the run -----------------------------------------------------------
    def report(self, phase: str, current: str | None = None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_report < REPORT_EVERY_S:
            return
        self._last_report = now
        elapsed = now - self.started
        # progress moves while one big file is embedded: its chunks count as they are made
        # and its bytes by the share embedded (a file is written only once it is whole)
        chunks = max(self.counts["chunks"], self.chunks_embedded)
        rate = chunks / elapsed if elapsed > 0 else 0.0
        eta = self._eta(now)
        moving = min(self.bytes_total, int(self.bytes_done + self.bytes_partial))
        self.progress(IndexProgress(
            library=self.name, phase=phase, files_total=self.files_total, files_done=self.files_done,
            files_failed=self.counts["failed"], chunks_done=chunks, bytes_total=self.bytes_total,
            bytes_done=moving, elapsed_s=elapsed, chunks_per_s=rate,
            current=display_path(current) if current else None,
            done=moving, total=self.bytes_total, unit="bytes", eta_s=eta, message=self.ocr_message,
        ))

    def _eta(self, now: float) -> float | None:
        """Seconds left, or None until the rate means something: the first files say
        little (scanning, a model load, one small file done in the first second)."""
        if self.embed_started is None or self.bytes_total <= 0:
            return None
        done = self.bytes_done + self.bytes_partial + self.ocr_share
        working = now - self.embed_started
        if working < ETA_AFTER_S or done < ETA_AFTER_SHARE * self.bytes_total or done >= self.bytes_total:
            return None
        return working * (self.bytes_total - done) / done

    def run(self) -> IndexResult:
        self.report("scanning", force=True)
        todo, skips, known, vanished = self.plan()
        old_hashes = {row.id: row.hash for row in known.values() if row.status != "partial"}  # a partial one is redone
        # Only files that vanished can be the source of a rename.
        by_hash = {known[p].hash: known[p].id for p in vanished if known[p].status == "indexed" and known[p].hash}
        renamed_from: set[int] = set()
        for found in skips:
            old = known.get(found.rel)
            todo_skip = Work(found, old.id if old else None, status="skipped", error=found.skip)
            todo.append(todo_skip)
        self.files_total = len(todo)
        self.bytes_total = sum(w.found.size for w in todo if w.status == "indexed")

        parsed: queue.Queue = queue.Queue(maxsize=QUEUE_DOCS)
        to_write: queue.Queue = queue.Queue(maxsize=QUEUE_DOCS)
        reader = threading.Thread(target=self._reader, args=(todo, parsed, by_hash, old_hashes),
                                  name="bunko-index-reader", daemon=True)
        writer = threading.Thread(target=self.writer.run, args=(to_write,), name="bunko-index-writer", daemon=True)
        reader.start()
        writer.start()
        pool: list[tuple[Work, int]] = []
        waiting: list[Work] = []
        try:
            done_reading = False
            while not done_reading or pool:
                if self.writer.error is not None:
                    raise self.writer.error
                if not done_reading and (len(pool) < POOL_CHUNKS or self.cancel.cancelled):
                    try:
                        work = parsed.get(timeout=0.2)  # a big file may take the reader a while
                    except queue.Empty:
                        self.report("indexing")
                        continue
                    if work is None:
                        done_reading = True
                        continue
                    if self.cancel.cancelled:
                        continue  # drain the reader
                    if work.status == "renamed":
                        renamed_from.add(work.rename_of)
                    if work.status != "indexed":
                        self._finished(work, to_write)
                        continue
                    if self.embed_started is None:
                        self.embed_started = time.monotonic()
                    work.vectors = Vectors(len(work.chunks), self.embedder.dim)
                    waiting.append(work)
                    pool.extend((work, i) for i in range(len(work.chunks)))
                    self.report("indexing", work.found.rel)
                    continue
                if self.cancel.cancelled:
                    pool.clear()
                    continue
                take, pool = pool[:POOL_CHUNKS], pool[POOL_CHUNKS:]
                self._embed(take)
                while waiting and waiting[0].filled == len(waiting[0].chunks):
                    self._finished(waiting.pop(0), to_write)
                self.bytes_partial = sum(w.found.size * w.filled / len(w.chunks) for w in waiting)
                self.report("indexing")
        except BaseException:
            self._halted = True   # nothing takes what the reader reads any more
            raise
        finally:
            if self.cancel.cancelled or self.writer.error is not None:
                pool.clear()
            to_write.put(None)
            writer.join()
            reader.join(timeout=5)
        if self.writer.error is not None:
            raise self.writer.error
        cancelled = self.cancel.cancelled
        self.report("finishing", force=True)
        if not cancelled:
            gone = [known[p].id for p in vanished if known[p].id not in renamed_from]
            self._finish(gone)
        seconds = time.monotonic() - self.started
        self._record_seconds(seconds)
        self.report("done", force=True)
        c = self.counts
        return IndexResult(
            self.name, c["added"], c["updated"], c["renamed"], c["removed"], c["unchanged"],
            c["skipped"], c["failed"], c["chunks"], seconds,
            self.embed_seconds, cancelled, self.writer.errors, self.writer.skips,
        )

    def _embed(self, take: list[tuple[Work, int]]) -> None:
        """Vectors for `take`, longest first, a few chunks per call so a cancel is quick."""
        take.sort(key=lambda item: item[0].chunks[item[1]].n_tokens, reverse=True)
        size = getattr(self.embedder, "group", EMBED_GROUP)   # one on a server takes more per round trip
        for start in range(0, len(take), size):
            if self.cancel.cancelled:
                return
            group = take[start:start + size]
            BUDGET.wait_turn(self.cancel)  # an answer being generated goes first (engine/budget.py)
            t0 = time.monotonic()
            vecs = self.embedder.embed_passages([w.chunks[i].embed_text(w.title) for w, i in group],
                                                background=True)
            self.embed_seconds += time.monotonic() - t0
            for (work, i), vec in zip(group, vecs):
                assert work.vectors is not None  # given before its chunks were pooled
                work.vectors[i] = vec
                work.filled += 1
            self.chunks_embedded += len(group)
            self.bytes_partial += sum(work.found.size / len(work.chunks) for work, _ in group)
            self.report("indexing")

    def _finished(self, work: Work, to_write: queue.Queue) -> None:
        """Progress counts a file once its vectors exist, so time left follows the embedder."""
        self._embedded(work)
        self.files_done += 1
        if work.found.skip is None:
            self.bytes_done += work.found.size
        to_write.put(work)

    def _record_seconds(self, seconds: float) -> None:
        """Add this run's time to what the library's index cost to build (the lab's preparation
        cost), when it wrote something: a pass over an unchanged folder builds nothing."""
        c = self.counts
        if not (c["added"] or c["updated"] or c["renamed"] or c["removed"]):
            return
        with self.store.transaction() as cur:
            cur.execute("UPDATE libraries SET index_seconds = coalesce(index_seconds, 0) + ?, "
                        "last_index_seconds = ? WHERE id = ?", [seconds, seconds, self.library_id])

    def _finish(self, gone: list[int]) -> None:
        with self.store.transaction() as cur:
            removed = delete_documents(cur, gone)
            self.counts["removed"] += len(gone)
            cur.execute("UPDATE libraries SET indexed_at = now() WHERE id = ?", [self.library_id])
        if self.listener is not None and len(removed):
            self.listener(np.empty(0, np.int64), np.empty(0, np.int32),
                          np.empty((0, self.embedder.dim), np.float32), removed)
        self.writer.maybe_compact()


def index_library(
    store: Store,
    library_id: int,
    name: str,
    root: Path,
    embedder: Embedder,
    progress: Callable[[IndexProgress], None] | None = None,
    cancel: CancelToken | None = None,
    listener: CommitListener | None = None,
    max_tokens: int | None = None,
) -> IndexResult:
    """Bring one library in step with its folder. Safe to interrupt at any point."""
    limit = max_tokens or min(320, embedder.max_tokens - 16)
    run = IndexRun(store, library_id, name, Path(root), embedder, progress, cancel or CancelToken(),
                   listener, limit)
    try:
        return run.run()
    except Cancelled:
        return IndexResult(name, cancelled=True)
