"""Dense search over every chunk's vector, held in memory.

Measured on the 2-core reference machine (see `bunko bench search`): an exact
float32 matrix product costs ~20 ms at 100 k vectors and ~190 ms at 1 M, and
DuckDB's HNSW index took minutes to build for 100 k vectors and grows with
every insert. So Bunko searches exactly while a collection is small, and past
`EXACT_LIMIT` first ranks by Hamming distance between sign bits of the
mean-centred vectors (48 bytes a vector at 384-d) and re-scores the best
`RESCORE_MIN` candidates exactly from float16 copies (below the limit the
vectors stay float32: converting them per query cost more than the product).
Adding vectors is an append.

The codes are kept column by column (one uint64 array per 64 dimensions) and
candidates are cut at a distance threshold found from a histogram: both are
several times faster in numpy than a row-major popcount and an argpartition.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from .store import int_list

log = logging.getLogger(__name__)

EXACT_LIMIT = 50_000
RESCORE_MIN = 2_000
LOAD_BATCH = 131_072


def _unpack(blobs: np.ndarray, dim: int) -> np.ndarray:
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, dim)


class VectorIndex:
    """All vectors of one embedding model (one dimension), keyed by chunk id."""

    def __init__(self, dim: int, exact_limit: int = EXACT_LIMIT) -> None:
        self.dim = dim
        self.exact_limit = exact_limit
        self._lock = threading.Lock()
        self._ids = np.empty(0, dtype=np.int64)
        self._libs = np.empty(0, dtype=np.int32)
        self._vecs = np.empty((0, dim), dtype=np.float16)
        self._alive = np.empty(0, dtype=bool)
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._mean: np.ndarray | None = None
        self._codes: list[np.ndarray] | None = None  # per 64 dimensions, uint64 [n]; built on demand

    # -- filling ---------------------------------------------------------
    def load(self, cur, library_ids: list[int]) -> None:
        """Read the vectors of these libraries from the database, in batches."""
        if not library_ids:
            return
        libs = int_list(library_ids)
        lo, hi = cur.execute(
            f"SELECT min(rowid), max(rowid) FROM embeddings WHERE library_id IN {libs}"
        ).fetchone()
        if lo is None:
            return
        for start in range(lo, hi + 1, LOAD_BATCH):
            batch = cur.execute(
                "SELECT chunk_id, library_id, vec FROM embeddings "
                f"WHERE rowid >= $a AND rowid < $b AND library_id IN {libs}",
                {"a": start, "b": start + LOAD_BATCH},
            ).fetchnumpy()
            if len(batch["chunk_id"]):
                self.add(batch["chunk_id"], batch["library_id"], _unpack(batch["vec"], self.dim))

    def add(self, ids: np.ndarray, libs: np.ndarray, vecs: np.ndarray) -> None:
        if len(ids) == 0:
            return
        if vecs.shape[1] != self.dim:
            raise ValueError(f"vector size {vecs.shape[1]} != index size {self.dim}")
        with self._lock:
            self._pending.append(
                (np.asarray(ids, np.int64), np.asarray(libs, np.int32), np.asarray(vecs, np.float32))
            )

    def remove(self, ids: np.ndarray) -> None:
        with self._lock:
            self._merge_pending()
            if len(ids) and len(self._ids):
                self._alive &= ~np.isin(self._ids, np.asarray(ids, np.int64))

    def remove_library(self, library_id: int) -> None:
        with self._lock:
            self._merge_pending()
            self._alive &= self._libs != library_id

    def __len__(self) -> int:
        with self._lock:
            self._merge_pending()
            return int(self._alive.sum())

    def _merge_pending(self) -> None:
        if not self._pending:
            return
        ids, libs, vecs = zip(*self._pending)
        self._pending = []
        keep = self._alive
        # Dropped rows are shed whenever new ones arrive, so memory follows the live set.
        self._ids = np.concatenate([self._ids[keep], *ids])
        self._libs = np.concatenate([self._libs[keep], *libs])
        dtype = np.float32 if len(self._ids) <= self.exact_limit else np.float16
        self._vecs = np.concatenate([self._vecs[keep].astype(dtype, copy=False),
                                     *(v.astype(dtype, copy=False) for v in vecs)])
        self._alive = np.ones(len(self._ids), dtype=bool)
        if self._codes is not None and self._mean is not None:
            new = self._sign_codes(np.concatenate(vecs))
            self._codes = [np.concatenate([old[keep], add]) for old, add in zip(self._codes, new)]

    # -- searching -------------------------------------------------------
    def _sign_codes(self, vecs: np.ndarray) -> list[np.ndarray]:
        bits = np.packbits(vecs.astype(np.float32) > self._mean, axis=1)
        pad = (-bits.shape[1]) % 8
        if pad:
            bits = np.pad(bits, ((0, 0), (0, pad)))
        words = np.ascontiguousarray(bits).view(np.uint64)
        return [np.ascontiguousarray(words[:, i]) for i in range(words.shape[1])]

    def _ensure_codes(self) -> None:
        if self._codes is None:
            self._mean = self._vecs.mean(axis=0, dtype=np.float32)
            self._codes = self._sign_codes(self._vecs)

    def search(
        self,
        query: np.ndarray,
        k: int,
        library_ids: list[int] | None = None,
        allowed_ids: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, cosine) among live vectors that pass the filters."""
        with self._lock:
            self._merge_pending()
            mask = self._alive
            if library_ids is not None:
                mask = mask & np.isin(self._libs, np.asarray(library_ids, np.int32))
            if allowed_ids is not None:
                mask = mask & np.isin(self._ids, allowed_ids)
            n_live = int(mask.sum())
            if n_live == 0 or k <= 0:
                return []
            q = np.asarray(query, np.float32)
            if len(self._ids) <= self.exact_limit:
                # One product over every row beats gathering the rows a filter allows.
                scores = self._vecs @ q
                candidates = np.flatnonzero(mask)
                scores = scores[candidates]
            else:
                candidates = self._binary_candidates(q, mask, max(RESCORE_MIN, 50 * k))
                scores = self._vecs[candidates].astype(np.float32) @ q
            top = min(k, len(candidates))
            best = np.argpartition(-scores, top - 1)[:top]
            best = best[np.argsort(-scores[best], kind="stable")]
            return [(int(self._ids[candidates[i]]), float(scores[i])) for i in best]

    def _binary_candidates(self, q: np.ndarray, mask: np.ndarray, count: int) -> np.ndarray:
        self._ensure_codes()
        qwords = [int(w[0]) for w in self._sign_codes(q[None, :])]
        dist = np.zeros(len(self._ids), dtype=np.uint16)
        # Three 64-bit words sum to at most 192, so uint8 holds a group's count.
        for g in range(0, len(qwords), 3):
            part = np.bitwise_count(self._codes[g] ^ np.uint64(qwords[g]))
            for i in range(g + 1, min(g + 3, len(qwords))):
                part += np.bitwise_count(self._codes[i] ^ np.uint64(qwords[i]))
            dist += part
        beyond = 64 * len(qwords) + 1
        if not mask.all():
            dist[~mask] = beyond
        histogram = np.bincount(dist, minlength=beyond + 1)[:beyond]
        cutoff = int(np.searchsorted(np.cumsum(histogram), min(count, int(mask.sum()))))
        return np.flatnonzero(dist <= cutoff)
