"""Dense search over every chunk's vector, held in memory.

Measured on the 2-core reference machine (see `bunko bench search`): an exact
float32 matrix product costs ~20 ms at 100 k vectors and ~190 ms at 1 M, and
DuckDB's HNSW index took minutes to build for 100 k vectors and grows with
every insert. So Bunko searches exactly while a collection is small, and past
`EXACT_LIMIT` first ranks by Hamming distance between sign bits of the
mean-centred vectors (48 bytes a vector at 384-d) and re-scores the best
`RESCORE_MIN` candidates from int8 copies with a scale per row (below the
limit the vectors stay float32: converting them per query cost more than the
product).
Adding vectors is an append into spare room (see `VectorIndex`).

The codes are kept column by column (one uint64 array per 64 dimensions) and
candidates are cut at a distance threshold found from a histogram: both are
several times faster in numpy than a row-major popcount and an argpartition.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from ..store import int_list

log = logging.getLogger(__name__)

EXACT_LIMIT = 50_000
RESCORE_MIN = 5_000
LOAD_BATCH = 32_768  # rows per read or conversion step: bounds the float32 temporaries (48 MB)


def _unpack(blobs: np.ndarray, dim: int) -> np.ndarray:
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, dim)


def _capacity(rows: int) -> int:
    """Room for `rows` plus an eighth (at least 16 k rows) still to come."""
    return rows + max(rows // 8, 16_384)


def _grow(array: np.ndarray, used: int, room: int) -> np.ndarray:
    """`array`'s first `used` rows in a new array of `room` rows."""
    out = np.empty((room, *array.shape[1:]), array.dtype)
    out[:used] = array[:used]
    return out


def _quantize(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows with one float32 scale each: a quarter of float32, ample to re-score."""
    block = np.asarray(block, np.float32)
    scale = np.abs(block).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    return np.round(block / scale[:, None]).astype(np.int8), scale.astype(np.float32)


class VectorIndex:
    """All vectors of one embedding model (one dimension), keyed by chunk id.

    Up to `exact_limit` rows the vectors are float32 and searched exactly;
    past it they are int8 with a scale per row (1 M × 384 = 384 MB) and found
    through sign-bit codes.

    Rows live in arrays with spare room at the end (`_n` rows used): adding
    chunks writes into it, so the first search after an add costs about the
    added rows, not a copy of the whole index (at 1 M chunks that copy took
    0.8 s and doubled the vectors' memory for a moment). Removed rows are only
    marked dead, and shed when they make up a quarter of the index.
    """

    def __init__(self, dim: int, exact_limit: int = EXACT_LIMIT) -> None:
        self.dim = dim
        self.exact_limit = exact_limit
        self._lock = threading.Lock()
        self._n = 0
        self._ids = np.empty(0, dtype=np.int64)
        self._libs = np.empty(0, dtype=np.int32)
        self._vecs = np.empty((0, dim), dtype=np.float32)
        self._scale: np.ndarray | None = None  # per row, when _vecs is int8
        self._alive = np.empty(0, dtype=bool)
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._mean: np.ndarray | None = None
        self._codes: list[np.ndarray] | None = None  # per 64 dimensions, uint64 [capacity]; built on demand
        self.copies = 0  # whole-index copies made (growth, conversion, shedding): tests read it

    # -- filling ---------------------------------------------------------
    def load(self, cur, library_ids: list[int]) -> None:
        """Read the vectors of these libraries from the database into an empty index."""
        if not library_ids:
            return
        libs = int_list(library_ids)
        lo, hi, count = cur.execute(
            f"SELECT min(rowid), max(rowid), count(*) FROM embeddings WHERE library_id IN {libs}"
        ).fetchone()
        if not count:
            return
        # Filled in place, in the final form: a float32 copy of 1 M vectors alone is 1.5 GB.
        compact = count > self.exact_limit
        room = _capacity(count)
        ids = np.empty(room, np.int64)
        owners = np.empty(room, np.int32)
        vecs = np.empty((room, self.dim), np.int8 if compact else np.float32)
        scale = np.empty(room, np.float32) if compact else None
        filled = 0
        for start in range(lo, hi + 1, LOAD_BATCH):
            batch = cur.execute(
                "SELECT chunk_id, library_id, vec FROM embeddings "
                f"WHERE rowid >= $a AND rowid < $b AND library_id IN {libs}",
                {"a": start, "b": start + LOAD_BATCH},
            ).fetchnumpy()
            n = min(len(batch["chunk_id"]), count - filled)  # rows added meanwhile come via add()
            block = _unpack(batch["vec"][:n], self.dim)
            ids[filled:filled + n] = batch["chunk_id"][:n]
            owners[filled:filled + n] = batch["library_id"][:n]
            if scale is not None:   # compact
                vecs[filled:filled + n], scale[filled:filled + n] = _quantize(block)
            else:
                vecs[filled:filled + n] = block
            filled += n
        with self._lock:
            if self._n or self._pending:
                raise RuntimeError("load() fills an empty index")
            self._ids, self._libs, self._vecs, self._scale = ids, owners, vecs, scale
            self._alive = np.zeros(room, dtype=bool)
            self._alive[:filled] = True
            self._n = filled

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
            if len(ids) and self._n:
                self._alive[:self._n] &= ~np.isin(self._ids[:self._n], np.asarray(ids, np.int64))

    def remove_library(self, library_id: int) -> None:
        with self._lock:
            self._merge_pending()
            self._alive[:self._n] &= self._libs[:self._n] != library_id

    def __len__(self) -> int:
        with self._lock:
            self._merge_pending()
            return int(self._alive[:self._n].sum())

    @property
    def capacity(self) -> int:
        return len(self._ids)

    def _rows(self, index) -> np.ndarray:
        """float32 copies of some rows (a slice or an index array)."""
        rows = self._vecs[index]
        if self._scale is None:
            return rows
        return rows.astype(np.float32) * self._scale[index][:, None]

    def _merge_pending(self) -> None:
        if not self._pending:
            return
        ids, libs, vecs = (np.concatenate(part) for part in zip(*self._pending))
        self._pending = []
        n, m = self._n, len(ids)
        dead = n - int(self._alive[:n].sum())
        if dead and dead * 4 >= n:
            self._shed()  # memory follows the live set
            n = self._n
        if self._scale is None and n + m > self.exact_limit:
            # Past the limit: int8 from now on (one copy, once in the index's life).
            q, sc = _quantize(self._rows(slice(0, n))) if n else (np.empty((0, self.dim), np.int8),
                                                                np.empty(0, np.float32))
            self._vecs, self._scale = _grow(q, n, len(self._ids)), _grow(sc, n, len(self._ids))
            self.copies += 1
        if n + m > len(self._ids):
            self._resize(_capacity(n + m))
        self._ids[n:n + m] = ids
        self._libs[n:n + m] = libs
        if self._scale is None:
            self._vecs[n:n + m] = vecs
        else:
            self._vecs[n:n + m], self._scale[n:n + m] = _quantize(vecs)
        self._alive[n:n + m] = True
        if self._codes is not None and self._mean is not None:
            for old, new in zip(self._codes, self._sign_codes(vecs)):
                old[n:n + m] = new
        self._n = n + m

    def _resize(self, room: int) -> None:
        n = self._n
        self._ids, self._libs = _grow(self._ids, n, room), _grow(self._libs, n, room)
        self._vecs = _grow(self._vecs, n, room)
        if self._scale is not None:
            self._scale = _grow(self._scale, n, room)
        alive = np.zeros(room, bool)
        alive[:n] = self._alive[:n]
        self._alive = alive
        if self._codes is not None:
            self._codes = [_grow(c, n, room) for c in self._codes]
        self.copies += 1

    def _shed(self) -> None:
        keep = np.flatnonzero(self._alive[:self._n])
        room = _capacity(len(keep))
        self._ids, self._libs = _grow(self._ids[keep], len(keep), room), _grow(self._libs[keep], len(keep), room)
        self._vecs = _grow(self._vecs[keep], len(keep), room)
        if self._scale is not None:
            self._scale = _grow(self._scale[keep], len(keep), room)
        if self._codes is not None:
            self._codes = [_grow(c[keep], len(keep), room) for c in self._codes]
        self._alive = np.zeros(room, bool)
        self._alive[:len(keep)] = True
        self._n = len(keep)
        self.copies += 1

    # -- searching -------------------------------------------------------
    def _sign_codes(self, vecs) -> list[np.ndarray]:
        """Sign bits of (rows - mean); `vecs` is float32 rows, or None for every stored row."""
        n = self._n if vecs is None else len(vecs)
        words_per_row = -(-self.dim // 64)
        words = np.empty((n, words_per_row), np.uint64)
        for start in range(0, n, LOAD_BATCH):  # in slices: no float32 copy of it all
            stop = min(n, start + LOAD_BATCH)
            rows = self._rows(slice(start, stop)) if vecs is None else vecs[start:stop]
            bits = np.packbits(rows > self._mean, axis=1)
            pad = words_per_row * 8 - bits.shape[1]
            if pad:
                bits = np.pad(bits, ((0, 0), (0, pad)))
            words[start:stop] = np.ascontiguousarray(bits).view(np.uint64)
        return [np.ascontiguousarray(words[:, i]) for i in range(words_per_row)]

    def _ensure_codes(self) -> list[np.ndarray]:
        if self._codes is None:
            total = np.zeros(self.dim, np.float64)
            for start in range(0, self._n, LOAD_BATCH):
                total += self._rows(slice(start, min(self._n, start + LOAD_BATCH))).sum(axis=0)
            self._mean = (total / max(self._n, 1)).astype(np.float32)
            self._codes = [_grow(c, self._n, len(self._ids)) for c in self._sign_codes(None)]
        return self._codes

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
            n = self._n
            mask = self._alive[:n]
            if library_ids is not None:
                mask = mask & np.isin(self._libs[:n], np.asarray(library_ids, np.int32))
            if allowed_ids is not None:
                mask = mask & np.isin(self._ids[:n], allowed_ids)
            n_live = int(mask.sum())
            if n_live == 0 or k <= 0:
                return []
            q = np.asarray(query, np.float32)
            if self._scale is None:
                # One product over every row beats gathering the rows a filter allows.
                scores = self._vecs[:n] @ q
                candidates = np.flatnonzero(mask)
                scores = scores[candidates]
            else:
                candidates = self._binary_candidates(q, mask, max(RESCORE_MIN, 50 * k))
                scores = self._rows(candidates) @ q
            top = min(k, len(candidates))
            best = np.argpartition(-scores, top - 1)[:top]
            best = best[np.argsort(-scores[best], kind="stable")]
            return [(int(self._ids[candidates[i]]), float(scores[i])) for i in best]

    def _binary_candidates(self, q: np.ndarray, mask: np.ndarray, count: int) -> np.ndarray:
        codes = self._ensure_codes()
        qwords = [int(w[0]) for w in self._sign_codes(q[None, :])]
        n = self._n
        dist = np.zeros(n, dtype=np.uint16)
        # Three 64-bit words sum to at most 192, so uint8 holds a group's count.
        for g in range(0, len(qwords), 3):
            part = np.bitwise_count(codes[g][:n] ^ np.uint64(qwords[g]))
            for i in range(g + 1, min(g + 3, len(qwords))):
                part += np.bitwise_count(codes[i][:n] ^ np.uint64(qwords[i]))
            dist += part
        beyond = 64 * len(qwords) + 1
        if not mask.all():
            dist[~mask] = beyond
        histogram = np.bincount(dist, minlength=beyond + 1)[:beyond]
        cutoff = int(np.searchsorted(np.cumsum(histogram), min(count, int(mask.sum()))))
        return np.flatnonzero(dist <= cutoff)
