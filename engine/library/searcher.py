"""Search over the libraries: the embedder, the in-memory vector index and the ranking.

The searcher owns the vector index and keeps it in step with every indexing commit
(`on_commit`), so a passage is findable the moment its rows are written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import BunkoError, EmbedderMismatchError
from ..search import retrieve
from ..search.vectors import VectorIndex
from ..store import Store
from ..types import Library, SearchHit
from .records import LibraryRecords

log = logging.getLogger(__name__)


class Searcher:
    """Finds the passages for a query in one database, hybrid by default."""

    def __init__(self, store: Store, records: LibraryRecords, embedder_dir: Path | None = None,
                 embedder=None) -> None:
        """`embedder`: one already loaded (a bench shares its copy), else loaded on first use."""
        self._store = store
        self._records = records
        self._embedder_dir = embedder_dir
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._vectors: VectorIndex | None = None
        self._vectors_lock = threading.Lock()

    # -- the embedder ------------------------------------------------------
    @property
    def embedder(self):
        """Loaded (and for the default model, built) on first use."""
        with self._embedder_lock:
            if self._embedder is None:
                from ..embed import load_embedder

                self._embedder = load_embedder(self._embedder_dir, library_ids=self._records.made_by())
                log.info("embedder %s (%s)", self._embedder.name, self._embedder.model_id)
            return self._embedder

    def report(self, load: bool = False) -> dict:
        """Device, providers and graph of the embedder (Settings, `bunko doctor`); see embed.device.report."""
        from ..embed.device import report

        return report(self.embedder if load else self._embedder)

    def embed_query(self, query: str) -> np.ndarray:
        """The normalised vector of one query."""
        return self.embedder.embed_queries([query])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Normalised vectors of queries (the lab's similarity scores use them too)."""
        return self.embedder.embed_queries(texts)

    def check_model(self, lib: Library) -> None:
        """Raise EmbedderMismatchError if `lib` was indexed by another embedding model."""
        emb = self.embedder
        if lib.embedder_id and lib.embedder_id != emb.model_id:
            raise EmbedderMismatchError(
                f"The library {lib.name!r} was built with the embedding model {lib.embedder_name} "
                f"({lib.embedder_id}), not the current {emb.name} ({emb.model_id}). Vectors from two "
                "models cannot be mixed: choose that model again, or rebuild the library."
            )

    # -- the vector index ----------------------------------------------------
    def vector_index(self, library_ids: list[int]) -> VectorIndex:
        """The in-memory vector index (read from the store on first use, then kept in step)."""
        with self._vectors_lock:
            if self._vectors is None:
                index = VectorIndex(self.embedder.dim)
                cur = self._store.cursor()
                try:
                    index.load(cur, library_ids)
                finally:
                    cur.close()
                self._vectors = index
            return self._vectors

    def on_commit(self, added, libs, vecs, removed) -> None:
        """An indexing commit wrote `added` chunks and deleted `removed`: the same change here."""
        with self._vectors_lock:
            if self._vectors is None:
                return
            if len(removed):
                self._vectors.remove(removed)
            self._vectors.add(added, libs, vecs)

    def forget(self, library_id: int) -> None:
        """A library was removed or cleared: its vectors leave the index."""
        with self._vectors_lock:
            if self._vectors is not None:
                self._vectors.remove_library(library_id)

    # -- searching -------------------------------------------------------------
    def search(self, query: str, k: int = 10, mode: str = "hybrid",
               libraries: Sequence[str | int] | None = None, path: str | None = None) -> list[SearchHit]:
        """The best passages for `query`. `path` is a glob on paths inside the libraries."""
        if mode not in retrieve.MODES:
            raise BunkoError(f"Unknown search mode {mode!r}; use one of {', '.join(retrieve.MODES)}.")
        query = query.strip()
        if not query:
            return []
        every = self._records.list()
        libs = [self._records.get(key, every) for key in libraries] if libraries else every
        if libraries:
            for lib in libs:
                self.check_model(lib)
        model_id = self.embedder.model_id
        usable = [lib.id for lib in libs if not lib.embedder_id or lib.embedder_id == model_id]
        if not usable:
            return []
        vectors = qvec = None
        if mode != "keyword":
            qvec = self.embed_query(query)
            # Every library of this model lives in one index; filters narrow it per query.
            vectors = self.vector_index([lib.id for lib in every if lib.embedder_id == model_id])
        cur = self._store.cursor()
        try:
            like = retrieve.glob_to_like(path) if path else None
            # Every library searched: no filter, which spares a per-chunk mask at 1 M chunks.
            scope = None if not libraries and len(usable) == len(libs) else usable
            ranked = retrieve.rank(cur, vectors, query, qvec, k, mode, scope, like)
            return retrieve.hits_for(cur, ranked)
        finally:
            cur.close()

    def hits(self, chunk_ids: list[int]) -> list[SearchHit]:
        """The passages with these chunk ids, as search hits (score 0), in that order."""
        cur = self._store.cursor()
        try:
            return retrieve.hits_for(cur, [retrieve.Ranked(i, 0.0) for i in chunk_ids])
        finally:
            cur.close()
