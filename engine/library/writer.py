"""The indexer's last stage: storing finished documents, a few transactions a second.

A document's old rows, new rows and its `documents` row change in one
transaction, so a killed run never leaves a half-written or duplicated
document. One exception, for memory: a document of more than `PART_CHUNKS`
chunks (a 60 MB file on one line makes 50,000) is written in parts, one
transaction each, under the status 'partial' until its last part lands; a
later run finds it 'partial' and does it again, deleting what was written.

Whatever the database refuses of a batch is retried one document at a time,
and a document it still refuses is recorded as failed with the reason.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import duckdb
import numpy as np

from ..ingest.chunk import Chunk
from ..ingest.normalize import valid_text
from ..ingest.scan import Found, display_path, raw_path
from ..search import keyword
from ..store import Store
from ..store.db import MEMORY_LIMIT
from .rows import delete_documents, insert_chunks

if TYPE_CHECKING:
    from ..ingest.ocr.client import PageCache

log = logging.getLogger(__name__)

COMMIT_SECONDS = 2.0
POSTINGS_CHUNKS = 2048  # chunks whose keyword postings are built and inserted at a time
PART_CHUNKS = 1024  # a document with more chunks is written in parts of this many
COMPACT_MEMORY = "256MB"  # DuckDB's memory limit while the keyword index is compacted
# ... and while a large document is written: the parts' table blocks, once
# checkpointed, would otherwise stay cached up to the usual limit (store.db.MEMORY_LIMIT).
LARGE_MEMORY = "128MB"

# Called after each commit with (added ids, their library ids, vectors, removed ids).
CommitListener = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]


@dataclass
class Work:
    """One file on its way through the stages."""

    found: Found
    old_id: int | None  # the row this replaces
    hash: str = ""
    kind: str | None = None
    title: str | None = None
    encoding: str | None = None
    chunks: list[Chunk] = field(default_factory=list)  # a stored part's become None (Writer._commit)
    vectors: Vectors | None = None
    filled: int = 0
    error: str | None = None
    status: str = "indexed"
    rename_of: int | None = None  # an existing document with the same bytes
    chars: int = 0  # chunk text held, for the reader's memory bound
    doc_id: int | None = None  # its new row, once the writer has given it one
    chunk_ids: np.ndarray | None = None
    ocr: list = field(default_factory=list)  # ingest.ocr.OcrPage of pages read by OCR

    def fail(self, reason: str) -> None:
        self.status, self.error, self.chunks, self.vectors = "error", reason, [], None


class Vectors:
    """A document's vectors in blocks of `PART_CHUNKS` rows, so each part of a large
    document can let its block go once stored (one array would hold them all to the end)."""

    def __init__(self, n: int, dim: int) -> None:
        self.n, self.dim = n, dim
        self.blocks: list[np.ndarray | None] = [np.empty((min(PART_CHUNKS, n - s), dim), np.float32)
                                                for s in range(0, n, PART_CHUNKS)]

    def __len__(self) -> int:
        return self.n

    def __setitem__(self, i: int, vec: np.ndarray) -> None:
        self._block(i // PART_CHUNKS)[i % PART_CHUNKS] = vec

    def rows(self, start: int, end: int) -> np.ndarray:
        """Rows start..end; `start` is the first row of a block (a part, or the whole)."""
        parts = [self._block(b) for b in range(start // PART_CHUNKS, -(-end // PART_CHUNKS))]
        whole = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.empty((0, self.dim), np.float32)
        return whole[:end - start]

    def _block(self, b: int) -> np.ndarray:
        block = self.blocks[b]
        assert block is not None, "a released block is never written or read again"
        return block

    def release(self, start: int, end: int) -> None:
        for b in range(start // PART_CHUNKS, -(-end // PART_CHUNKS)):
            self.blocks[b] = None


class Ids:
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


class Writer:
    """Stores the works put in its inbox (None ends); `error` holds what stopped it."""

    def __init__(self, store: Store, library_id: int, dim: int, listener: CommitListener | None,
                 counts: dict[str, int], avgdl: float | None, cancel=None) -> None:
        self.store, self.library_id, self.dim, self.listener = store, library_id, dim, listener
        self.cancel = cancel  # stops a large document between two parts (it stays 'partial')
        self.writing_large = False  # the reader waits meanwhile: its memory guard would count this
        self.counts = counts  # shared with the run's progress
        self.avgdl = avgdl  # BM25's average chunk length, fixed by the first batch ever
        self.kw_version = keyword.KW_VERSION  # new postings follow the stored ones' rules (set by the run)
        self.errors: list[tuple[str, str]] = []  # failed files, (path, reason)
        self.skips: list[tuple[str, str]] = []  # skipped files, (path, reason)
        self.error: BaseException | None = None
        self.ocr_cache: PageCache | None = None  # a stored file's OCR pages are let go

    def run(self, inbox: queue.Queue) -> None:
        ids = Ids(self.store.cursor())
        batch: list[Work] = []
        work: Work | None  # let go with its batch once stored
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
                if batch and (item == "flush" or time.monotonic() >= deadline
                              or len(batch[-1].chunks) > PART_CHUNKS):
                    self._commit_safely(batch, ids)
                    for work in batch:  # stored: its text and vectors are not needed any more
                        work.chunks, work.vectors = [], None
                        self._forget_ocr(work)
                    batch, item, work = [], None, None
                    self.maybe_compact()  # a long first run must not grow one huge tail
                    deadline = time.monotonic() + COMMIT_SECONDS
                elif not batch:
                    deadline = time.monotonic() + COMMIT_SECONDS
            if batch:
                self._commit_safely(batch, ids)
                for work in batch:
                    self._forget_ocr(work)
        except BaseException as exc:  # surfaced by the main thread
            self.error = exc
            log.exception("writing to the database failed")
            while not ended and inbox.get() is not None:  # let the producer finish
                pass

    def _forget_ocr(self, work: Work) -> None:
        if work.ocr and self.ocr_cache is not None and work.status == "indexed":
            self.ocr_cache.forget(work.hash)
        work.ocr = []

    def _commit_safely(self, batch: list[Work], ids: Ids) -> None:
        """Commit `batch`; if the database refuses it, each document alone, and one it
        still refuses is recorded as failed with the reason."""
        large = [w for w in batch if len(w.chunks) > PART_CHUNKS]
        small = [w for w in batch if len(w.chunks) <= PART_CHUNKS]
        try:
            if small:
                self._commit(small, ids)
            small = []
            for work in large:
                self._commit_in_parts(work, ids)
            return
        except Exception:  # noqa: BLE001 - a retry one by one finds the document at fault
            if len(batch) == 1 and batch[0].status == "error":
                raise  # even the failure could not be written: the database itself is at fault
            log.warning("committing %d documents failed; retrying one at a time", len(batch), exc_info=True)
        for work in small + large:
            try:
                if len(work.chunks) > PART_CHUNKS:
                    self._commit_in_parts(work, ids)
                else:
                    self._commit([work], ids)
            except Exception as exc:  # noqa: BLE001
                log.exception("storing %s failed", work.found.rel)
                work.fail(f"the file could not be stored ({type(exc).__name__}: {exc})")
                self._commit([work], ids)

    def _commit(self, batch: list[Work], ids: Ids, part: tuple[int, int] | None = None) -> None:
        """One transaction for `batch`; or, with `part` (start, end), for those chunks
        of the one large document in `batch` (its first part adds its 'partial' row)."""
        lib = self.library_id
        doc_rows, chunk_rows, removed_docs = [], [], []
        new_ids, new_vecs, texts = [], [], []
        renames, finals = [], []
        ocr_rows: list[tuple] = []
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
            n = len(work.chunks) if work.status == "indexed" else 0
            start, end = part or (0, n)
            reason = valid_text(work.error) if work.error else None
            if start == 0:
                if work.old_id is not None:
                    removed_docs.append(work.old_id)
                work.doc_id = ids.next_doc()
                work.chunk_ids = ids.next_chunks(n) if n else None
                status = "partial" if end < n else work.status
                doc_rows.append((work.doc_id, lib, path, raw, f.size, f.mtime, work.hash, work.kind, work.title,
                                 work.encoding, status, reason, n if status == "indexed" else 0))
                if work.status == "indexed":
                    ocr_rows.extend((work.doc_id, lib, p.page, p.confidence, p.rotation, p.vertical,
                                     json.dumps(p.lines, ensure_ascii=False)) for p in work.ocr)
            if work.status == "indexed":
                assert work.chunk_ids is not None and work.vectors is not None  # both set before the first part
                cids = work.chunk_ids[start:end]
                for cid, ordinal in zip(cids, range(start, end)):
                    c = work.chunks[ordinal]
                    chunk_rows.append((int(cid), work.doc_id, lib, ordinal, c.text, c.page, c.heading,
                                       c.line_start, c.line_end, c.n_tokens))
                    texts.append((int(cid), lib, f"{c.heading or ''}\n{c.text}"))
                new_ids.append(cids)
                new_vecs.append(work.vectors.rows(start, end))
                counts["chunks"] += end - start
                if end == n:
                    counts["updated" if work.old_id is not None else "added"] += 1
                    if reason:  # indexed in part (engine/ingest/sparse.py): listed with the skips
                        listed["skipped"].append((path, reason))
                    if start > 0:
                        finals.append((n, work.doc_id))
            else:
                counts["failed" if work.status == "error" else "skipped"] += 1
                listed[work.status].append((path, reason or ""))
        added = np.concatenate(new_ids) if new_ids else np.empty(0, np.int64)
        vecs = np.concatenate(new_vecs) if new_vecs else np.empty((0, self.dim), np.float32)
        avgdl = self.avgdl
        new_avgdl = avgdl is None and bool(texts)
        if new_avgdl:
            avgdl = keyword.mean_terms((t for _, _, t in texts), self.kw_version)
        try:
            with self.store.transaction() as cur:
                if new_avgdl:
                    cur.execute("INSERT OR REPLACE INTO meta VALUES ('kw_avgdl', ?)", [str(avgdl)])
                    cur.execute("INSERT OR REPLACE INTO meta VALUES ('kw_version', ?)", [str(self.kw_version)])
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
                if ocr_rows:
                    cur.executemany("INSERT INTO ocr_pages VALUES (?, ?, ?, ?, ?, ?, ?)", ocr_rows)
                insert_chunks(cur, chunk_rows, added, lib, vecs)
                for start in range(0, len(texts), POSTINGS_CHUNKS):  # a slice at a time: one big file
                    piece = texts[start:start + POSTINGS_CHUNKS]     # has millions of postings
                    keyword.add_postings(cur, keyword.postings_for(piece, avgdl or keyword.AVGDL_DEFAULT,
                                                                    self.kw_version))
                for n, doc_id in finals:
                    cur.execute("UPDATE documents SET status = 'indexed', n_chunks = ? WHERE id = ?", [n, doc_id])
        except BaseException:
            if part is None or part[0] == 0:
                ids.doc, ids.chunk = first_doc, first_chunk  # nothing of it was stored
            raise
        self.avgdl = avgdl
        for key, value in counts.items():
            self.counts[key] += value
        self.errors.extend(listed["error"])
        self.skips.extend(listed["skipped"])
        if self.listener is not None and (len(added) or len(removed)):
            self.listener(added, np.full(len(added), lib, np.int32), vecs, removed)
        if part is not None:  # stored: the part's text and vectors are not needed any more
            # None keeps the positions (n is len(chunks)); a let-go chunk read again fails loudly
            batch[0].chunks[part[0]:part[1]] = cast("list[Chunk]", [None] * (part[1] - part[0]))
            assert batch[0].vectors is not None  # an indexed document's, written in parts
            batch[0].vectors.release(*part)

    def _commit_in_parts(self, work: Work, ids: Ids) -> None:
        """A large document, PART_CHUNKS chunks to a transaction, each part's text let go
        once stored. If a part fails, the parts already stored are deleted again and the
        document is recorded as failed (its text is gone: there is no retry)."""
        n = len(work.chunks)
        work.doc_id = None
        self.writing_large = True
        limits = self.store.cursor()
        limits.execute(f"SET memory_limit = '{LARGE_MEMORY}'")
        try:
            for start in range(0, n, PART_CHUNKS):  # no compaction in between: it sorts every posting
                if start and self.cancel is not None and self.cancel.cancelled:
                    return  # a pause or cancel: the next run redoes the 'partial' document
                part = (start, min(n, start + PART_CHUNKS))
                try:
                    self._commit([work], ids, part)
                except duckdb.OutOfMemoryException:  # a big library's own indexes need more
                    log.info("a part did not fit in %s; the rest of %s goes with %s", LARGE_MEMORY,
                             display_path(work.found.rel), MEMORY_LIMIT)
                    limits.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
                    self._commit([work], ids, part)
        except Exception as exc:  # noqa: BLE001 - recorded as this document's failure
            log.exception("storing %s failed", work.found.rel)
            if work.doc_id is not None and work.doc_id <= ids.doc:  # its first part was stored
                with self.store.transaction() as cur:
                    removed = delete_documents(cur, [work.doc_id])
                if self.listener is not None and len(removed):
                    self.listener(np.empty(0, np.int64), np.empty(0, np.int32), np.empty((0, self.dim), np.float32),
                                  removed)
                work.old_id = None  # its old rows went with the first part
            work.fail(f"the file could not be stored ({type(exc).__name__}: {exc})")
            self._commit([work], ids)
        finally:
            limits.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            limits.close()
            self.writing_large = False

    def maybe_compact(self) -> None:
        """Merge the keyword tail into the main table when it has grown.

        The merge sorts every posting; after one big file (millions of them) that sort
        would take DuckDB's whole memory limit, so it runs under a smaller one and
        spills to disk (about as fast), with the usual limit as the fallback.
        """
        cur = self.store.cursor()
        try:
            if not keyword.needs_compaction(cur):
                return
            log.info("compacting the keyword index")
            try:
                cur.execute(f"SET memory_limit = '{COMPACT_MEMORY}'")
                with self.store.transaction() as tx:
                    keyword.compact(tx)
                return
            except duckdb.OutOfMemoryException:
                log.info("compacting within %s ran out of memory; again with %s", COMPACT_MEMORY, MEMORY_LIMIT)
            finally:
                cur.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            with self.store.transaction() as tx:
                keyword.compact(tx)
        finally:
            cur.close()
