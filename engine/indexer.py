"""Keeping a library's rows in step with its folder.

A run has three stages that overlap: a reader thread reads, hashes, parses
and chunks files; the calling thread embeds chunks in pools sorted by length;
a writer thread stores finished documents. A document's old rows, new rows
and its `documents` row change in one transaction, and transactions are
committed every `COMMIT_SECONDS`, so a killed run loses at most that much work
and never leaves a half-written or duplicated document: the next run sees the
file's size and mtime differ from what is stored and does it again.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from . import keyword
from .cancel import CancelToken
from .errors import BunkoError, Cancelled, ParseError, SkipFile
from .index_rows import delete_documents, insert_chunks
from .ingest.budget import FileBudget, Watchdog, file_budget
from .ingest.chunk import Chunk, chunk_sections
from .ingest.normalize import valid_text
from .ingest.parsers import parse_file, read_bytes
from .ingest.scan import MAX_FILE_BYTES, Found, display_path, inside, raw_path, scan, stored_rel
from .store import Store
from .types import IndexProgress, IndexResult

log = logging.getLogger(__name__)

POOL_CHUNKS = 128  # chunks taken from the pool at a time: enough to sort by length
EMBED_GROUP = 16  # chunks per embedder call: a cancel waits for at most one call
COMMIT_SECONDS = 2.0
QUEUE_DOCS = 64
POSTINGS_CHUNKS = 2048  # chunks whose keyword postings are built and inserted at a time
# Chunk text read but not yet embedded. Past this the reader waits, so big files
# read ahead of a slow embedder cannot fill the memory.
PENDING_CHARS = 32_000_000
MAX_TITLE_CHARS = 300  # a title goes in front of every chunk the embedder sees
ETA_AFTER_S = 5.0  # no time left is shown before this much indexing ...
ETA_AFTER_SHARE = 0.01  # ... nor before this share of the bytes is done


class Embedder(Protocol):
    name: str
    model_id: str
    dim: int
    max_tokens: int

    def count_tokens(self, texts: list[str]) -> list[int]: ...
    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...


# Called after each commit with (added ids, their library ids, vectors, removed ids).
CommitListener = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]


@dataclass
class _Work:
    """One file on its way through the stages."""

    found: Found
    old_id: int | None  # the row this replaces
    hash: str = ""
    kind: str | None = None
    title: str | None = None
    encoding: str | None = None
    chunks: list[Chunk] = field(default_factory=list)
    vectors: np.ndarray | None = None
    filled: int = 0
    error: str | None = None
    status: str = "indexed"
    rename_of: int | None = None  # an existing document with the same bytes
    chars: int = 0  # chunk text held, for the reader's memory bound

    def fail(self, reason: str) -> None:
        self.status, self.error, self.chunks, self.vectors = "error", reason, [], None


def file_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class _Ids:
    """Fresh row ids; the one writer per database makes a counter enough."""

    def __init__(self, cur) -> None:
        self.doc = cur.execute("SELECT coalesce(max(id), 0) FROM documents").fetchone()[0]
        self.chunk = cur.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0]

    def next_doc(self) -> int:
        self.doc += 1
        return self.doc

    def next_chunks(self, n: int) -> np.ndarray:
        ids = np.arange(self.chunk + 1, self.chunk + 1 + n, dtype=np.int64)
        self.chunk += n
        return ids


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
        self.errors: list[tuple[str, str]] = []  # failed files, (path, reason)
        self.skips: list[tuple[str, str]] = []  # skipped files, (path, reason)
        self.started = time.monotonic()
        self.embed_started: float | None = None  # when the first file reached the embedder
        self.embed_seconds = 0.0
        self.files_total = 0
        self.bytes_total = 0
        self.files_done = 0
        self.bytes_done = 0
        self.bytes_partial = 0.0  # the embedded share of files still being embedded
        self.avgdl: float | None = None  # BM25's average chunk length, fixed by the first batch ever
        self._last_report = 0.0
        self._writer_error: BaseException | None = None
        self._pending_chars = 0  # chunk text read and not yet embedded
        self._room = threading.Condition()

    # -- planning ---------------------------------------------------------
    def plan(self) -> tuple[list[_Work], list[Found], dict[str, tuple], set[str]]:
        cur = self.store.cursor()
        known = {
            stored_rel(row[0], row[1]): row[2:]
            for row in cur.execute(
                "SELECT path, path_raw, id, size, mtime, hash, status, reason FROM documents WHERE library_id = ?",
                [self.library_id],
            ).fetchall()
        }
        row = cur.execute("SELECT value FROM meta WHERE key = 'kw_avgdl'").fetchone()
        self.avgdl = float(row[0]) if row else None
        cur.close()
        todo: list[_Work] = []
        skips: list[Found] = []
        seen: set[str] = set()
        for found in scan(self.root):
            self.cancel.raise_if_cancelled()
            seen.add(found.rel)
            old = known.get(found.rel)
            if found.skip:
                if old is None or old[4] != "skipped" or old[5] != valid_text(found.skip):
                    skips.append(found)
                continue
            if old is not None and old[1] == found.size and old[2] == found.mtime and old[4] != "skipped":
                self.counts["unchanged"] += 1
                continue
            todo.append(_Work(found, old[0] if old else None))
        vanished = set(known) - seen
        return todo, skips, known, vanished

    # -- stage 1: read, parse, chunk -------------------------------------
    def _prepare(self, work: _Work, by_hash: dict[str, int], old_hashes: dict[int, str],
                 watchdog: Watchdog) -> None:
        path = self.root / work.found.rel
        budget = FileBudget(work.found.size, self.cancel)
        try:
            with file_budget(budget, watchdog):
                real = os.path.realpath(path)  # a link may have been put in its place since the scan
                if not inside(real, self.real_root):
                    raise SkipFile("link to a file outside the library folder; not followed")
                data = read_bytes(Path(real), MAX_FILE_BYTES)
                work.hash = file_hash(data)
                if work.old_id is not None and old_hashes.get(work.old_id) == work.hash:
                    work.status = "touched"  # same bytes, new mtime
                    return
                if work.old_id is None and work.hash in by_hash:
                    work.rename_of = by_hash.pop(work.hash)
                    work.status = "renamed"
                    return
                doc = parse_file(path, data=data)
                del data
                title = valid_text(doc.title) if doc.title else None
                if title and len(title) > MAX_TITLE_CHARS:
                    title = title[:MAX_TITLE_CHARS - 1] + "…"
                work.kind, work.title, work.encoding = doc.kind, title, doc.encoding
                work.chunks = chunk_sections(doc.sections, self.embedder.count_tokens, self.max_tokens)
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

    def _reader(self, todo: list[_Work], out: queue.Queue, by_hash: dict[str, int], old_hashes: dict[int, str]) -> None:
        watchdog = Watchdog()
        try:
            for work in todo:
                with self._room:  # wait while big files read ahead wait for the embedder
                    while self._pending_chars > PENDING_CHARS and not self.cancel.cancelled:
                        self._room.wait(0.2)
                if self.cancel.cancelled:
                    break
                if work.status == "indexed":  # skips found by the scan need no reading
                    self._prepare(work, by_hash, old_hashes, watchdog)
                if self.cancel.cancelled:
                    break
                with self._room:
                    self._pending_chars += work.chars
                out.put(work)
        except BaseException:  # never expected; the files not yet read wait for the next run
            log.exception("the reader stopped")
        finally:
            watchdog.close()
            out.put(None)

    def _embedded(self, work: _Work) -> None:
        with self._room:
            self._pending_chars -= work.chars
            self._room.notify_all()

    # -- stage 3: write ----------------------------------------------------
    def _writer(self, inbox: queue.Queue) -> None:
        ids = _Ids(self.store.cursor())
        batch: list[_Work] = []
        deadline = time.monotonic() + COMMIT_SECONDS
        ended = False
        try:
            while True:
                timeout = max(0.0, deadline - time.monotonic())
                try:
                    item = inbox.get(timeout=timeout)
                except queue.Empty:
                    item = "flush"
                if item is None:
                    ended = True
                    break
                if item != "flush":
                    batch.append(item)
                if batch and (item == "flush" or time.monotonic() >= deadline):
                    self._commit_safely(batch, ids)
                    batch = []
                    self._maybe_compact()  # a long first run must not grow one huge tail
                    deadline = time.monotonic() + COMMIT_SECONDS
                elif not batch:
                    deadline = time.monotonic() + COMMIT_SECONDS
            if batch:
                self._commit_safely(batch, ids)
        except BaseException as exc:  # surfaced by the main thread
            self._writer_error = exc
            log.exception("writing to the database failed")
            while not ended and inbox.get() is not None:  # let the producer finish
                pass

    def _commit_safely(self, batch: list[_Work], ids: _Ids) -> None:
        """Commit `batch`; if the database refuses it, each document alone, and one it
        still refuses is recorded as failed with the reason."""
        try:
            self._commit(batch, ids)
            return
        except Exception:  # noqa: BLE001 - a retry one by one finds the document at fault
            if len(batch) == 1 and batch[0].status == "error":
                raise  # even the failure could not be written: the database itself is at fault
            log.warning("committing %d documents failed; retrying one at a time", len(batch), exc_info=True)
        for work in batch:
            try:
                self._commit([work], ids)
            except Exception as exc:  # noqa: BLE001
                log.exception("storing %s failed", work.found.rel)
                work.fail(f"the file could not be stored ({type(exc).__name__}: {exc})")
                self._commit([work], ids)

    def _commit(self, batch: list[_Work], ids: _Ids) -> None:
        lib = self.library_id
        doc_rows, chunk_rows, removed_docs = [], [], []
        new_ids, new_vecs, texts = [], [], []
        renames = []
        counts = dict.fromkeys(self.counts, 0)
        listed: dict[str, list] = {"error": [], "skipped": []}
        first_doc, first_chunk = ids.doc, ids.chunk
        for work in batch:
            f = work.found
            path, raw = display_path(f.rel), raw_path(f.rel)
            if work.status == "touched":
                renames.append((work.old_id, path, raw, f.size, f.mtime))
                counts["unchanged"] += 1
                continue
            if work.status == "renamed":
                renames.append((work.rename_of, path, raw, f.size, f.mtime))
                counts["renamed"] += 1
                continue
            if work.old_id is not None:
                removed_docs.append(work.old_id)
            doc_id = ids.next_doc()
            n = len(work.chunks) if work.status == "indexed" else 0
            reason = valid_text(work.error) if work.error else None
            doc_rows.append((doc_id, lib, path, raw, f.size, f.mtime, work.hash, work.kind, work.title,
                             work.encoding, work.status, reason, n))
            if work.status == "indexed":
                cids = ids.next_chunks(n)
                for cid, (ordinal, c) in zip(cids, enumerate(work.chunks)):
                    chunk_rows.append((int(cid), doc_id, lib, ordinal, c.text, c.page, c.heading,
                                       c.line_start, c.line_end, c.n_tokens))
                    texts.append((int(cid), lib, f"{c.heading or ''}\n{c.text}"))
                new_ids.append(cids)
                new_vecs.append(work.vectors)
                counts["updated" if work.old_id is not None else "added"] += 1
                counts["chunks"] += n
            else:
                counts["failed" if work.status == "error" else "skipped"] += 1
                listed[work.status].append((path, reason or ""))
        added = np.concatenate(new_ids) if new_ids else np.empty(0, np.int64)
        vecs = np.concatenate(new_vecs) if new_vecs else np.empty((0, self.embedder.dim), np.float32)
        avgdl = self.avgdl
        new_avgdl = avgdl is None and bool(texts)
        if new_avgdl:
            avgdl = keyword.mean_terms(t for _, _, t in texts)
        try:
            with self.store.transaction() as cur:
                if new_avgdl:
                    cur.execute("INSERT OR REPLACE INTO meta VALUES ('kw_avgdl', ?)", [str(avgdl)])
                removed = delete_documents(cur, removed_docs)
                for old_id, path, raw, size, mtime in renames:
                    cur.execute("UPDATE documents SET path = ?, path_raw = ?, size = ?, mtime = ? WHERE id = ?",
                                [path, raw, size, mtime, old_id])
                if doc_rows:
                    cur.executemany(
                        "INSERT INTO documents (id, library_id, path, path_raw, size, mtime, hash, kind, title,"
                        " encoding, status, reason, n_chunks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        doc_rows,
                    )
                insert_chunks(cur, chunk_rows, added, lib, vecs)
                for start in range(0, len(texts), POSTINGS_CHUNKS):  # a slice at a time: one big file
                    part = texts[start:start + POSTINGS_CHUNKS]      # has millions of postings
                    keyword.add_postings(cur, keyword.postings_for(part, avgdl or keyword.AVGDL_DEFAULT))
        except BaseException:
            ids.doc, ids.chunk = first_doc, first_chunk  # nothing of the batch was stored
            raise
        self.avgdl = avgdl
        for key, value in counts.items():
            self.counts[key] += value
        self.errors.extend(listed["error"])
        self.skips.extend(listed["skipped"])
        if self.listener is not None and (len(added) or len(removed)):
            self.listener(added, np.full(len(added), lib, np.int32), vecs, removed)

    # -- the run -----------------------------------------------------------
    def report(self, phase: str, current: str | None = None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_report < 0.2:
            return
        self._last_report = now
        elapsed = now - self.started
        rate = self.counts["chunks"] / elapsed if elapsed > 0 else 0.0
        self.progress(IndexProgress(
            self.name, phase, self.files_total, self.files_done, self.counts["failed"],
            self.counts["chunks"], self.bytes_total, self.bytes_done, elapsed, rate, self._eta(now),
            display_path(current) if current else None,
        ))

    def _eta(self, now: float) -> float | None:
        """Seconds left, or None until the rate means something: the first files say
        little (scanning, a model load, one small file done in the first second)."""
        if self.embed_started is None or self.bytes_total <= 0:
            return None
        done = self.bytes_done + self.bytes_partial
        working = now - self.embed_started
        if working < ETA_AFTER_S or done < ETA_AFTER_SHARE * self.bytes_total or done >= self.bytes_total:
            return None
        return working * (self.bytes_total - done) / done

    def run(self) -> IndexResult:
        self.report("scanning", force=True)
        todo, skips, known, vanished = self.plan()
        old_hashes = {row[0]: row[3] for row in known.values()}
        # Only files that vanished can be the source of a rename.
        by_hash = {known[p][3]: known[p][0] for p in vanished if known[p][4] == "indexed" and known[p][3]}
        renamed_from: set[int] = set()
        for found in skips:
            old = known.get(found.rel)
            todo_skip = _Work(found, old[0] if old else None, status="skipped", error=found.skip)
            todo.append(todo_skip)
        self.files_total = len(todo)
        self.bytes_total = sum(w.found.size for w in todo if w.status == "indexed")

        parsed: queue.Queue = queue.Queue(maxsize=QUEUE_DOCS)
        to_write: queue.Queue = queue.Queue(maxsize=QUEUE_DOCS)
        reader = threading.Thread(target=self._reader, args=(todo, parsed, by_hash, old_hashes),
                                  name="bunko-index-reader", daemon=True)
        writer = threading.Thread(target=self._writer, args=(to_write,), name="bunko-index-writer", daemon=True)
        reader.start()
        writer.start()
        pool: list[tuple[_Work, int]] = []
        waiting: list[_Work] = []
        try:
            done_reading = False
            while not done_reading or pool:
                if self._writer_error is not None:
                    raise self._writer_error
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
                    work.vectors = np.empty((len(work.chunks), self.embedder.dim), np.float32)
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
        finally:
            if self.cancel.cancelled or self._writer_error is not None:
                pool.clear()
            to_write.put(None)
            writer.join()
            reader.join(timeout=5)
        if self._writer_error is not None:
            raise self._writer_error
        cancelled = self.cancel.cancelled
        self.report("finishing", force=True)
        if not cancelled:
            gone = [known[p][0] for p in vanished if known[p][0] not in renamed_from]
            self._finish(gone)
        self.report("done", force=True)
        c = self.counts
        return IndexResult(
            self.name, c["added"], c["updated"], c["renamed"], c["removed"], c["unchanged"],
            c["skipped"], c["failed"], c["chunks"], time.monotonic() - self.started,
            self.embed_seconds, cancelled, self.errors, self.skips,
        )

    def _embed(self, take: list[tuple[_Work, int]]) -> None:
        """Vectors for `take`, longest first, a few chunks per call so a cancel is quick."""
        take.sort(key=lambda item: item[0].chunks[item[1]].n_tokens, reverse=True)
        for start in range(0, len(take), EMBED_GROUP):
            if self.cancel.cancelled:
                return
            group = take[start:start + EMBED_GROUP]
            t0 = time.monotonic()
            vecs = self.embedder.embed_passages([w.chunks[i].embed_text(w.title) for w, i in group])
            self.embed_seconds += time.monotonic() - t0
            for (work, i), vec in zip(group, vecs):
                work.vectors[i] = vec
                work.filled += 1

    def _finished(self, work: _Work, to_write: queue.Queue) -> None:
        """Progress counts a file once its vectors exist, so time left follows the embedder."""
        self._embedded(work)
        self.files_done += 1
        if work.found.skip is None:
            self.bytes_done += work.found.size
        to_write.put(work)

    def _finish(self, gone: list[int]) -> None:
        with self.store.transaction() as cur:
            removed = delete_documents(cur, gone)
            self.counts["removed"] += len(gone)
            cur.execute("UPDATE libraries SET indexed_at = now() WHERE id = ?", [self.library_id])
        if self.listener is not None and len(removed):
            self.listener(np.empty(0, np.int64), np.empty(0, np.int32),
                          np.empty((0, self.embedder.dim), np.float32), removed)
        self._maybe_compact()

    def _maybe_compact(self) -> None:
        cur = self.store.cursor()
        try:
            if keyword.needs_compaction(cur):
                log.info("compacting the keyword index")
                with self.store.transaction() as tx:
                    keyword.compact(tx)
        finally:
            cur.close()




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
