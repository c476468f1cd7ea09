"""The rows of libraries: the folders registered with Bunko, their documents and counts.

All the SQL about libraries lives here; `manager.Libraries` is what callers use, and
indexing a library is `indexer.index_library`.
"""

from __future__ import annotations

import builtins

from pathlib import Path
from collections.abc import Callable

from ..cancel import CancelToken
from ..errors import BunkoError, LibraryNotFoundError
from ..search import keyword
from ..store import Store, scalar
from ..types import DocumentInfo, IndexProgress, IndexResult, Library, Progress
from ..ingest.ocr import LOW_CONFIDENCE, OFF_MESSAGE
from ..ingest.generated import CONTENT_SUFFIXES
from ..ingest.pdf import NO_TEXT_MESSAGE
from ..ingest.scan import display_path, system_folder
from ..ingest.sparse import PARTIAL_PREFIX
from .rows import delete_library_rows


class LibraryRecords:
    """Reads and writes the `libraries` and `documents` rows."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self) -> builtins.list[Library]:
        cur = self.store.cursor()
        try:
            rows = cur.execute("""
                SELECT l.id, l.name, l.root, l.embedder_name, l.embedder_id, l.watch, l.created_at, l.indexed_at,
                       count(d.id) FILTER (WHERE d.status = 'indexed'),
                       coalesce(sum(d.n_chunks), 0),
                       count(d.id) FILTER (WHERE d.status = 'skipped'),
                       count(d.id) FILTER (WHERE d.status = 'error'),
                       coalesce(sum(d.size) FILTER (WHERE d.status = 'indexed'), 0),
                       l.index_seconds, coalesce(l.ocr, true),
                       (SELECT count(*) FROM ocr_pages o WHERE o.library_id = l.id),
                       (SELECT count(*) FROM ocr_pages o WHERE o.library_id = l.id AND o.confidence < ?),
                       coalesce(l.include_generated, false),
                       count(d.id) FILTER (WHERE d.status = 'indexed' AND starts_with(d.reason, ?))
                FROM libraries l LEFT JOIN documents d ON d.library_id = l.id
                GROUP BY ALL ORDER BY l.name""", [LOW_CONFIDENCE, PARTIAL_PREFIX]).fetchall()
        finally:
            cur.close()
        return [Library(*row) for row in rows]

    def upgrade_keywords(self, library: str, progress: Callable[[IndexProgress], None] | None,
                         cancel: CancelToken | None) -> bool:
        """Rebuild the keyword index if an older Bunko built it (before stemming); the
        progress comes as indexing's own, phase "keywords". True when it was rebuilt."""
        cur = self.store.cursor()
        try:
            if keyword.index_version(cur) >= keyword.KW_VERSION:
                return False
        finally:
            cur.close()

        def report(p: Progress) -> None:
            if progress is not None:
                progress(IndexProgress(library=library, phase="keywords", chunks_done=int(p.done), done=p.done,
                                       total=p.total, unit="chunks", rate=p.rate, eta_s=p.eta_s,
                                       message=p.message, chunks_per_s=p.rate or 0.0))

        keyword.rebuild(self.store, report, cancel)
        return True

    def get(self, key: str | int, libs: builtins.list[Library] | None = None) -> Library:
        """A library by name, id or folder (among `libs`, if already read)."""
        libs = self.list() if libs is None else libs
        for lib in libs:
            if str(lib.id) == str(key) or lib.name == key:
                return lib
        if isinstance(key, str):
            folder = str(Path(key).expanduser().resolve())
            for lib in libs:
                if lib.root == folder:
                    return lib
        names = ", ".join(lib.name for lib in libs) or "none yet"
        raise LibraryNotFoundError(f"There is no library called {key!r} (libraries: {names}).")

    def made_by(self) -> builtins.list[str]:
        """The embedder ids of every library (which graph "auto" should load)."""
        cur = self.store.cursor()
        try:
            return [row[0] for row in cur.execute("SELECT embedder_id FROM libraries").fetchall()]
        finally:
            cur.close()

    def add(self, folder: Path | str, name: str | None, embedder) -> Library:
        """Register a folder for `embedder`'s vectors. Adding it twice returns the first."""
        root = Path(folder).expanduser().resolve()
        shown = display_path(str(root))
        if not root.is_dir():
            raise BunkoError(f"The folder {shown} does not exist or is not a folder.")
        top = system_folder(str(root))
        if top is not None:
            raise BunkoError(f"{shown} is inside {top}, which holds the system's processes and devices, "
                             "not documents; choose a folder of documents.")
        if shown != str(root):
            raise BunkoError(f"The folder path {shown} is not valid UTF-8 (the marks stand for bytes that "
                             "are not); rename the folder, then add it. Files with such names inside a "
                             "library are fine.")
        libs = self.list()
        for lib in libs:
            if lib.root == str(root):
                return lib
        name = name or root.name or str(root)
        taken = {lib.name for lib in libs}
        base, n = name, 2
        while name in taken:
            name, n = f"{base} ({n})", n + 1
        with self.store.transaction() as cur:
            next_id = scalar(cur, "SELECT coalesce(max(id), 0) + 1 FROM libraries")
            cur.execute(
                "INSERT INTO libraries (id, name, root, embedder_id, embedder_name, dim) VALUES (?, ?, ?, ?, ?, ?)",
                [next_id, name, str(root), embedder.model_id, embedder.name, embedder.dim],
            )
        return self.get(name)

    def remove(self, lib: Library) -> None:
        """Forget a library and everything indexed from it (the folder is not touched)."""
        with self.store.transaction() as cur:
            delete_library_rows(cur, lib.id)
            cur.execute("DELETE FROM libraries WHERE id = ?", [lib.id])

    def clear(self, lib: Library, embedder) -> None:
        """Drop everything indexed from `lib` and mark it for `embedder`'s vectors."""
        with self.store.transaction() as cur:
            delete_library_rows(cur, lib.id)
            cur.execute("UPDATE libraries SET embedder_id = ?, embedder_name = ?, dim = ? WHERE id = ?",
                        [embedder.model_id, embedder.name, embedder.dim, lib.id])

    def set_ocr(self, lib: Library, on: bool) -> None:
        """Switch OCR on or off; files skipped for it are read again by the next run."""
        with self.store.transaction() as cur:
            cur.execute("UPDATE libraries SET ocr = ? WHERE id = ?", [on, lib.id])
            if on:  # their size and mtime are unchanged: forget them so they are looked at again
                cur.execute("DELETE FROM documents WHERE library_id = ? AND status <> 'indexed' AND reason IN (?, ?)",
                            [lib.id, OFF_MESSAGE, NO_TEXT_MESSAGE])

    def set_include_generated(self, lib: Library, on: bool) -> None:
        """Index generated code and what .gitignore leaves out too, or not (the default);
        the next run adds or removes those files (the scan sees them differently)."""
        with self.store.transaction() as cur:
            cur.execute("UPDATE libraries SET include_generated = ? WHERE id = ?", [on, lib.id])
            if not on:  # minified code is found by reading it: code indexed meanwhile is read again
                ends = " OR ".join("ends_with(lower(path), ?)" for _ in CONTENT_SUFFIXES)
                cur.execute(f"UPDATE documents SET mtime = NULL WHERE library_id = ? AND status = 'indexed' "
                            f"AND ({ends})", [lib.id, *CONTENT_SUFFIXES])

    def set_watch(self, lib: Library, watch: bool) -> None:
        with self.store.transaction() as cur:
            cur.execute("UPDATE libraries SET watch = ? WHERE id = ?", [watch, lib.id])

    def documents(self, lib: Library, status: str | None = None) -> builtins.list[DocumentInfo]:
        """Documents of `lib`; status 'attention': those skipped, failed, or with a note
        for a person (an OCR page read with low confidence)."""
        sql = "SELECT library_id, path, status, reason, size, kind, n_chunks FROM documents WHERE library_id = ?"
        params: list = [lib.id]
        if status == "attention":
            sql += " AND (status <> 'indexed' OR reason IS NOT NULL)"
        elif status:
            sql += " AND status = ?"
            params.append(status)
        cur = self.store.cursor()
        try:
            rows = cur.execute(sql + " ORDER BY path", params).fetchall()
        finally:
            cur.close()
        return [DocumentInfo(*row) for row in rows]

    def index_size(self, lib: Library) -> int:
        """Bytes the index holds for `lib`: passage text, vectors and keyword postings, as
        stored before DuckDB's compression (an upper bound on the space it takes)."""
        cur = self.store.cursor()
        try:
            sums = cur.execute("SELECT coalesce(sum(strlen(text)), 0), count(*) FROM chunks "
                               "WHERE library_id = ?", [lib.id]).fetchone()
            assert sums is not None  # an aggregate without GROUP BY returns one row
            text, chunks = sums
            row = cur.execute("SELECT coalesce(dim, 0) FROM libraries WHERE id = ?", [lib.id]).fetchone()
            if row is None:
                raise LibraryNotFoundError(f"The library {lib.name!r} was removed while its size was measured.")
            dim = row[0]
            postings = sum(scalar(cur, f"SELECT count(*) FROM {t} WHERE library_id = ?", [lib.id])
                           for t in ("kw_main", "kw_tail"))
        finally:
            cur.close()
        # a vector is dim float32; a posting is term (8) + chunk id (8) + library (4) + weight (4)
        return int(text) + int(chunks) * int(dim) * 4 + int(postings) * 24

    def sample_passages(self, lib: Library, count: int, min_chars: int) -> builtins.list[tuple[int, str, str]]:
        """`count` passages (chunk id, file, text) of at least `min_chars`, spread evenly over `lib`."""
        cur = self.store.cursor()
        try:
            rows = cur.execute(
                "SELECT c.id, d.path, c.text FROM chunks c JOIN documents d ON d.id = c.document_id "
                "WHERE c.library_id = ? AND length(c.text) >= ? ORDER BY c.id", [lib.id, min_chars]).fetchall()
        finally:
            cur.close()
        if len(rows) <= count:
            return [tuple(r) for r in rows]
        stride = len(rows) / count
        return [tuple(rows[int(i * stride)]) for i in range(count)]


def watch(index: Callable[[], IndexResult], interval: float,
          on_result: Callable[[IndexResult], None] | None, cancel: CancelToken) -> None:
    """Index again and again, `interval` seconds apart, until cancelled.

    Polling keeps this dependency-free and works on network drives, where
    change notifications are unreliable; an unchanged pass costs one scan.
    """
    while not cancel.cancelled:
        result = index()
        if on_result is not None:
            on_result(result)
        if cancel.wait(interval):
            break


def embedder_change(lib: Library, embedder) -> str | None:
    """Why indexing `lib` with `embedder` would change its vectors, in words; None if it would not."""
    if not lib.embedder_id or lib.embedder_id == embedder.model_id:
        return None
    return (f"The library {lib.name!r} was indexed with {lib.embedder_id}; the embedder now is "
            f"{embedder.model_id}. Its vectors cannot be mixed with the new ones, so indexing it "
            "means embedding every file again.")
