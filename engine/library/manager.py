"""Libraries, as callers use them: register folders, index them, list what was read."""

from __future__ import annotations

import builtins

from pathlib import Path
from collections.abc import Callable

from ..cancel import CancelToken
from ..errors import BunkoError
from ..types import DocumentInfo, IndexProgress, IndexResult, Library, ScanPage
from .indexer import index_library
from .records import LibraryRecords, embedder_change, watch
from .searcher import Searcher


class Libraries:
    """The folders registered with Bunko and their indexes (`engine.libraries`)."""

    def __init__(self, store, records: LibraryRecords, searcher: Searcher) -> None:
        self._store = store
        self._records = records
        self._searcher = searcher

    def list(self) -> builtins.list[Library]:
        """Every library with its counts, by name."""
        return self._records.list()

    def get(self, key: str | int, libs: builtins.list[Library] | None = None) -> Library:
        """A library by name, id or folder (among `libs`, if already read)."""
        return self._records.get(key, libs)

    def add(self, folder: Path | str, name: str | None = None) -> Library:
        """Register a folder (indexing is a separate step). Adding it twice returns the first."""
        return self._records.add(folder, name, self._searcher.embedder)

    def remove(self, key: str | int) -> None:
        """Forget a library and everything indexed from it (the folder is not touched)."""
        lib = self.get(key)
        self._records.remove(lib)
        self._searcher.forget(lib.id)

    def set_watch(self, key: str | int, watch: bool) -> None:
        """Re-index the library whenever its folder changes (the app's watcher reads this)."""
        self._records.set_watch(self.get(key), watch)

    def set_ocr(self, key: str | int, on: bool) -> None:
        """Read scanned pages and pictures of this library by OCR (the default), or not."""
        self._records.set_ocr(self.get(key), on)

    def set_include_generated(self, key: str | int, on: bool) -> None:
        """Index generated code (node_modules, lock files, minified bundles) and what .gitignore
        files leave out too, or skip them (the default); applies from the next indexing run."""
        self._records.set_include_generated(self.get(key), on)

    def documents(self, key: str | int, status: str | None = None) -> builtins.list[DocumentInfo]:
        """The library's documents; status "attention": skipped, failed or with a note."""
        return self._records.documents(self.get(key), status)

    def page_scan(self, chunk_id: int) -> ScanPage | None:
        """The scanned page of an OCR'd passage with its lines marked, else None."""
        from ..ingest.ocr.preview import page_scan

        return page_scan(self._store, chunk_id)

    def index_size(self, lib: Library) -> int:
        """Bytes the index holds for `lib` (an upper bound on the space it takes)."""
        return self._records.index_size(lib)

    def sample_passages(self, lib: Library, count: int, min_chars: int) -> builtins.list[tuple[int, str, str]]:
        """`count` passages (chunk id, file, text) spread evenly over `lib`."""
        return self._records.sample_passages(lib, count, min_chars)

    def embedder_change(self, key: str | int) -> str | None:
        """Why re-indexing `key` now would change its vectors, in words; None if it would not."""
        return embedder_change(self.get(key), self._searcher.embedder)

    # -- indexing ------------------------------------------------------------
    def index(self, key: str | int, progress: Callable[[IndexProgress], None] | None = None,
              cancel: CancelToken | None = None, rebuild: bool = False, host=None, secrets=None,
              say: Callable[[str], None] | None = None) -> IndexResult:
        """Bring a library in step with its folder; `rebuild` re-embeds it with the current model.
        A keyword index from an older Bunko is rebuilt first (progress phase "keywords").
        `host` (an SSH HostSpec): embed on that server (engine.embed.remote), the same model's
        vectors checked against this computer's first; `say` hears what happens there."""
        if host is not None:
            from ..embed.remote import open_on_host
            from ..hosts.connect import connect
            from ..paths import data_dir

            if host.kind != "ssh":
                raise BunkoError("Embedding on a server needs an SSH host: an alias from ~/.ssh/config or "
                                 "user@host[:port].")
            if not rebuild:   # a mismatch is said before connecting
                self._searcher.check_model(self.get(key))
            local = self._searcher.embedder
            with open_on_host(connect(host, data_dir(), secrets), local, say) as remote:
                return self._index(key, progress, cancel, rebuild, remote)
        return self._index(key, progress, cancel, rebuild, None)

    def _index(self, key, progress, cancel, rebuild: bool, embedder) -> IndexResult:
        lib = self.get(key)
        if rebuild:
            self._records.clear(lib, self._searcher.embedder)
            self._searcher.forget(lib.id)
            lib = self.get(lib.id)
        self._searcher.check_model(lib)
        if not Path(lib.root).is_dir():
            raise BunkoError(f"The folder of library {lib.name!r} ({lib.root}) is missing or not reachable.")
        self._records.upgrade_keywords(lib.name, progress, cancel)
        return index_library(self._store, lib.id, lib.name, Path(lib.root), embedder or self._searcher.embedder,
                             progress, cancel, self._searcher.on_commit)

    def watch(self, key: str | int, interval: float = 5.0,
              progress: Callable[[IndexProgress], None] | None = None,
              on_result: Callable[[IndexResult], None] | None = None,
              cancel: CancelToken | None = None) -> None:
        """Re-index whenever the folder changes, until cancelled (polling; see records.watch)."""
        token = cancel or CancelToken()
        watch(lambda: self.index(key, progress, token), interval, on_result, token)
