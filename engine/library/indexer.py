"""Keeping a library's rows in step with its folder.

A run has three stages that overlap: a reader thread reads, hashes, parses
and chunks files; the calling thread embeds chunks in pools sorted by length;
a writer thread stores finished documents. A document's old rows, new rows
and its `documents` row change in one transaction, and transactions are
committed every `COMMIT_SECONDS`, so a killed run loses at most that much work
and never leaves a half-written or duplicated document: the next run sees the
file's size and mtime differ from what is stored and does it again.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, Protocol

import numpy as np

from ..budget import BUDGET
from ..search import keyword
from ..cancel import CancelToken
from ..errors import BunkoError, Cancelled, ParseError, SkipFile
from ..ingest.chunk import Chunk, chunk_sections
from ..ingest.parsers import parse_file, read_bytes
from ..ingest.scan import Found, scan
from ..store import Store, int_list
from ..types import IndexProgress, IndexResult

log = logging.getLogger(__name__)

POOL_CHUNKS = 128  # chunks per embedder call: enough to sort by length, small enough to cancel
COMMIT_SECONDS = 2.0
QUEUE_DOCS = 64


class Embedder(Protocol):
    name: str
    model_id: str
    dim: int
    max_tokens: int

    def count_tokens(self, texts: list[str]) -> list[int]: ...
    def embed_passages(self, texts: list[str], batch_size: int = 32,
                       background: bool = False) -> np.ndarray: ...


# Called after each commit with (added ids, their library ids, vectors, removed ids).
CommitListener = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]


class _Known(NamedTuple):
    """A document row as the last run left it."""
    id: int
    size: int | None
    mtime: float | None
    hash: str | None
    status: str
    reason: str | None


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
        self.embedder = embedder
        self.progress = progress or (lambda p: None)
        self.cancel = cancel
        self.listener = listener
        self.max_tokens = max_tokens
        self.result = IndexResult(name)
        self.counts = {"added": 0, "updated": 0, "renamed": 0, "removed": 0, "unchanged": 0,
                       "skipped": 0, "failed": 0, "chunks": 0}
        self.errors: list[tuple[str, str]] = []
        self.started = time.monotonic()
        self.embed_seconds = 0.0
        self.files_total = 0
        self.bytes_total = 0
        self.files_done = 0
        self.bytes_done = 0
        self.avgdl: float | None = None  # BM25's average chunk length, fixed by the first batch ever
        self.kw_version = keyword.KW_VERSION
        self._last_report = 0.0
        self._writer_error: BaseException | None = None

    # -- planning ---------------------------------------------------------
    def plan(self) -> tuple[list[_Work], list[Found], dict[str, _Known], set[str]]:
        cur = self.store.cursor()
        known = {
            row[0]: _Known(*row[1:])
            for row in cur.execute(
                "SELECT path, id, size, mtime, hash, status, reason FROM documents WHERE library_id = ?",
                [self.library_id],
            ).fetchall()
        }
        row = cur.execute("SELECT value FROM meta WHERE key = 'kw_avgdl'").fetchone()
        self.avgdl = float(row[0]) if row else None
        self.kw_version = keyword.index_version(cur)  # new postings follow the stored ones' rules
        cur.close()
        todo: list[_Work] = []
        skips: list[Found] = []
        seen: set[str] = set()
        for found in scan(self.root):
            self.cancel.raise_if_cancelled()
            seen.add(found.rel)
            old = known.get(found.rel)
            if found.skip:
                if old is None or old.status != "skipped" or old.reason != found.skip:
                    skips.append(found)
                continue
            if old is not None and old.size == found.size and old.mtime == found.mtime and old.status != "skipped":
                self.counts["unchanged"] += 1
                continue
            todo.append(_Work(found, old.id if old else None))
        vanished = set(known) - seen
        return todo, skips, known, vanished

    # -- stage 1: read, parse, chunk -------------------------------------
    def _prepare(self, work: _Work, by_hash: dict[str, int], old_hashes: dict[int, str]) -> None:
        path = self.root / work.found.rel
        try:
            data = read_bytes(path)
            work.hash = file_hash(data)
            if work.old_id is not None and old_hashes.get(work.old_id) == work.hash:
                work.status = "touched"  # same bytes, new mtime
                return
            if work.old_id is None and work.hash in by_hash:
                work.rename_of = by_hash.pop(work.hash)
                work.status = "renamed"
                return
            doc = parse_file(path, data=data)
            work.kind, work.title, work.encoding = doc.kind, doc.title, doc.encoding
            work.chunks = chunk_sections(doc.sections, self.embedder.count_tokens, self.max_tokens)
            if not work.chunks:
                raise ParseError("the file contains no text")
        except SkipFile as exc:
            work.status, work.error = "skipped", str(exc)
        except BunkoError as exc:
            work.status, work.error = "error", str(exc)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
            log.exception("unexpected failure on %s", path)
            work.status, work.error = "error", f"unexpected error ({type(exc).__name__}: {exc})"

    def _reader(self, todo: list[_Work], out: queue.Queue, by_hash: dict[str, int], old_hashes: dict[int, str]) -> None:
        try:
            for work in todo:
                if self.cancel.cancelled:
                    break
                BUDGET.wait_turn(self.cancel)  # parsing yields to an answer too
                if work.status == "indexed":  # skips found by the scan need no reading
                    self._prepare(work, by_hash, old_hashes)
                out.put(work)
        finally:
            out.put(None)

    # -- stage 3: write ----------------------------------------------------
    def _writer(self, inbox: queue.Queue) -> None:
        ids = _Ids(self.store.cursor())
        batch: list[_Work] = []
        deadline = time.monotonic() + COMMIT_SECONDS
        try:
            while True:
                timeout = max(0.0, deadline - time.monotonic())
                try:
                    item = inbox.get(timeout=timeout)
                except queue.Empty:
                    item = "flush"
                if item is None:
                    break
                if item != "flush":
                    batch.append(item)
                if batch and (item == "flush" or time.monotonic() >= deadline):
                    self._commit(batch, ids)
                    batch = []
                    self._maybe_compact()  # a long first run must not grow one huge tail
                    deadline = time.monotonic() + COMMIT_SECONDS
                elif not batch:
                    deadline = time.monotonic() + COMMIT_SECONDS
            if batch:
                self._commit(batch, ids)
        except BaseException as exc:  # surfaced by the main thread
            self._writer_error = exc
            log.exception("writing to the database failed")
            while inbox.get() is not None:  # let the producer finish
                pass

    def _commit(self, batch: list[_Work], ids: _Ids) -> None:
        lib = self.library_id
        doc_rows, chunk_rows, removed_docs = [], [], []
        new_ids, new_vecs, texts = [], [], []
        renames = []
        for work in batch:
            f = work.found
            if work.status == "touched":
                renames.append((work.old_id, f.rel, f.size, f.mtime))
                self.counts["unchanged"] += 1
                continue
            if work.status == "renamed":
                renames.append((work.rename_of, f.rel, f.size, f.mtime))
                self.counts["renamed"] += 1
                continue
            if work.old_id is not None:
                removed_docs.append(work.old_id)
            doc_id = ids.next_doc()
            n = len(work.chunks) if work.status == "indexed" else 0
            doc_rows.append((doc_id, lib, f.rel, f.size, f.mtime, work.hash, work.kind, work.title,
                             work.encoding, work.status, work.error, n))
            if work.status == "indexed":
                cids = ids.next_chunks(n)
                for cid, (ordinal, c) in zip(cids, enumerate(work.chunks)):
                    chunk_rows.append((int(cid), doc_id, lib, ordinal, c.text, c.page, c.heading,
                                       c.line_start, c.line_end, c.n_tokens))
                    texts.append((int(cid), lib, f"{c.heading or ''}\n{c.text}"))
                new_ids.append(cids)
                new_vecs.append(work.vectors)
                self.counts["updated" if work.old_id is not None else "added"] += 1
                self.counts["chunks"] += n
            else:
                self.counts["failed" if work.status == "error" else "skipped"] += 1
                self.errors.append((f.rel, work.error or ""))
        added = np.concatenate(new_ids) if new_ids else np.empty(0, np.int64)
        vecs = np.concatenate(new_vecs) if new_vecs else np.empty((0, self.embedder.dim), np.float32)
        new_avgdl = self.avgdl is None and bool(texts)
        if new_avgdl:
            self.avgdl = keyword.mean_terms((t for _, _, t in texts), self.kw_version)
        postings = keyword.postings_for(texts, self.avgdl or keyword.AVGDL_DEFAULT, self.kw_version)
        with self.store.transaction() as cur:
            if new_avgdl:
                cur.execute("INSERT OR REPLACE INTO meta VALUES ('kw_avgdl', ?)", [str(self.avgdl)])
                cur.execute("INSERT OR REPLACE INTO meta VALUES ('kw_version', ?)", [str(self.kw_version)])
            removed = delete_documents(cur, removed_docs)
            for old_id, rel, size, mtime in renames:
                cur.execute("UPDATE documents SET path = ?, size = ?, mtime = ? WHERE id = ?",
                            [rel, size, mtime, old_id])
            if doc_rows:
                cur.executemany(
                    "INSERT INTO documents (id, library_id, path, size, mtime, hash, kind, title, encoding,"
                    " status, reason, n_chunks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    doc_rows,
                )
            insert_chunks(cur, chunk_rows, added, lib, vecs)
            keyword.add_postings(cur, postings)
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
        eta = None
        if self.bytes_done and self.bytes_total > self.bytes_done:
            eta = elapsed * (self.bytes_total - self.bytes_done) / self.bytes_done
        self.progress(IndexProgress(
            library=self.name, phase=phase, files_total=self.files_total, files_done=self.files_done,
            files_failed=self.counts["failed"], chunks_done=self.counts["chunks"], bytes_total=self.bytes_total,
            bytes_done=self.bytes_done, elapsed_s=elapsed, chunks_per_s=rate, current=current,
            done=self.bytes_done, total=self.bytes_total, unit="bytes", eta_s=eta,
        ))

    def run(self) -> IndexResult:
        self.report("scanning", force=True)
        todo, skips, known, vanished = self.plan()
        old_hashes = {row.id: row.hash for row in known.values()}
        # Only files that vanished can be the source of a rename.
        by_hash = {known[p].hash: known[p].id for p in vanished if known[p].status == "indexed" and known[p].hash}
        renamed_from: set[int] = set()
        for found in skips:
            old = known.get(found.rel)
            todo_skip = _Work(found, old.id if old else None, status="skipped", error=found.skip)
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
                if not done_reading and len(pool) < POOL_CHUNKS:
                    work = parsed.get()
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
                    work.vectors = np.empty((len(work.chunks), self.embedder.dim), np.float32)
                    waiting.append(work)
                    pool.extend((work, i) for i in range(len(work.chunks)))
                    self.report("indexing", work.found.rel)
                    continue
                if self.cancel.cancelled:
                    pool.clear()
                    continue
                take, pool = pool[:POOL_CHUNKS], pool[POOL_CHUNKS:]
                BUDGET.wait_turn(self.cancel)  # an answer being generated goes first (engine/budget.py)
                t0 = time.monotonic()
                vecs = self.embedder.embed_passages([w.chunks[i].embed_text(w.title) for w, i in take],
                                                    background=True)
                self.embed_seconds += time.monotonic() - t0
                for (work, i), vec in zip(take, vecs):
                    work.vectors[i] = vec
                    work.filled += 1
                while waiting and waiting[0].filled == len(waiting[0].chunks):
                    self._finished(waiting.pop(0), to_write)
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
            gone = [known[p].id for p in vanished if known[p].id not in renamed_from]
            self._finish(gone)
        self.report("done", force=True)
        c = self.counts
        return IndexResult(
            self.name, c["added"], c["updated"], c["renamed"], c["removed"], c["unchanged"],
            c["skipped"], c["failed"], c["chunks"], time.monotonic() - self.started,
            self.embed_seconds, cancelled, self.errors,
        )

    def _finished(self, work: _Work, to_write: queue.Queue) -> None:
        """Progress counts a file once its vectors exist, so time left follows the embedder."""
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


def delete_documents(cur, doc_ids: list[int]) -> np.ndarray:
    """Delete documents with their chunks, vectors and postings; returns the chunk ids."""
    if not doc_ids:
        return np.empty(0, np.int64)
    docs = int_list(doc_ids)
    chunk_ids = cur.execute(f"SELECT id FROM chunks WHERE document_id IN {docs}").fetchnumpy()["id"].astype(np.int64)
    if len(chunk_ids):
        ids = int_list(chunk_ids.tolist())
        for table in ("embeddings", "kw_tail", "kw_main"):
            cur.execute(f"DELETE FROM {table} WHERE chunk_id IN {ids}")
        cur.execute(f"DELETE FROM chunks WHERE document_id IN {docs}")
    cur.execute(f"DELETE FROM documents WHERE id IN {docs}")
    return chunk_ids


def delete_library_rows(cur, library_id: int) -> None:
    """Everything indexed from one library, by library id (no id lists to build)."""
    for table in ("embeddings", "kw_tail", "kw_main", "chunks", "documents"):
        cur.execute(f"DELETE FROM {table} WHERE library_id = ?", [library_id])


def insert_chunks(cur, rows: list[tuple], chunk_ids: np.ndarray, library_id: int, vecs: np.ndarray) -> None:
    if not rows:
        return
    cols = list(zip(*rows))
    frame = {
        "id": np.array(cols[0], np.int64),
        "document_id": np.array(cols[1], np.int64),
        "library_id": np.array(cols[2], np.int32),
        "ord": np.array(cols[3], np.int32),
        # Unicode arrays, not object arrays: duckdb scans object columns element by
        # element (trying to import pandas for each), ~4x slower per batch.
        "text": np.array(cols[4], dtype=str),
        "page": np.array([-1 if v is None else v for v in cols[5]], np.int32),
        "heading": np.array(["" if v is None else v for v in cols[6]], dtype=str),  # '' is none
        "line_start": np.array([-1 if v is None else v for v in cols[7]], np.int32),
        "line_end": np.array([-1 if v is None else v for v in cols[8]], np.int32),
        "n_tokens": np.array(cols[9], np.int32),
    }
    cur.register("bunko_new_chunks", frame)
    cur.execute(
        "INSERT INTO chunks SELECT id, document_id, library_id, ord, text, nullif(page, -1), nullif(heading, ''),"
        " nullif(line_start, -1), nullif(line_end, -1), n_tokens FROM bunko_new_chunks"
    )
    cur.unregister("bunko_new_chunks")
    hexed = np.array([v.astype("<f4").tobytes().hex() for v in vecs], dtype=str)  # as above
    emb = {"chunk_id": chunk_ids, "library_id": np.full(len(chunk_ids), library_id, np.int32), "vec": hexed}
    cur.register("bunko_new_vecs", emb)
    cur.execute("INSERT INTO embeddings SELECT chunk_id, library_id, unhex(vec) FROM bunko_new_vecs")
    cur.unregister("bunko_new_vecs")


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
