"""Dense, keyword and hybrid retrieval over the store.

Hybrid search scales each list's scores to 0..1 (min-max within the list; a
chunk missing from a list gets 0 there) and adds them, the keyword list with
`KEYWORD_WEIGHT`. Rules were compared on development sets only (never on a
published test set), with `python -m engine.bench.fusion_tune`: an English
set made from the 18F handbook (engine/bench/devset.py; 1,579 sections, 836
author-written queries) and a part of jaquad-train. Reciprocal rank fusion
scored below min-max at every k tried (5-60) on both: rank fusion gives the
weaker list an equal say, while scaled scores keep how decisive each list was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import keyword
from ..paths import file_uri
from ..store import int_list
from ..types import SearchHit
from .vectors import VectorIndex

log = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "keyword")


@dataclass(frozen=True)
class Ranked:
    chunk_id: int
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None


def glob_to_like(pattern: str) -> str:
    """'規程/*.md' → '規程/%.md' (with % and _ escaped); a bare folder name matches below it."""
    out = []
    for ch in pattern:
        if ch in "%_\\":
            out.append("\\" + ch)
        elif ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(ch)
    like = "".join(out)
    if "*" not in pattern and "?" not in pattern:
        like = like.rstrip("/") + "%"
    return like


def allowed_chunks(cur, path_like: str, library_ids: list[int] | None) -> np.ndarray:
    sql = keyword.PATH_CHUNKS_SQL
    params: dict = {"path": path_like}
    if library_ids is not None:
        sql += f" AND c.library_id IN {int_list(library_ids)}"
    return cur.execute(sql, params).fetchnumpy()["id"].astype(np.int64)


def _scaled(ranked: list[tuple[int, float]]) -> dict[int, float]:
    if not ranked:
        return {}
    values = [score for _, score in ranked]
    lo, hi = min(values), max(values)
    span = hi - lo
    return {cid: (score - lo) / span if span > 0 else 1.0 for cid, score in ranked}


# The keyword list's weight in hybrid search, by the query's script. On the
# Japanese development set nDCG@10 rose steadily with it (0.3: 0.915, 0.5: 0.950,
# 0.6: 0.953, 0.7: 0.954): bigram BM25 is the stronger list there. On the English
# one it peaked at 0.4 (0.553, against 0.545 at 0.5), a set whose queries lost
# their words from the passages on purpose, which favours dense; equal weights
# are kept for Latin-script queries, where stemmed BM25 is as strong as dense
# on published sets.
# On the whole of jaquad-train (9,713 passages; 2,000 queries in halves of 1,000,
# engine/bench/ja_tokens.py) nDCG@10 was flat from 0.6 to 0.8 (first half / second:
# 0.5: 0.903/0.911, 0.6: 0.914/0.916, 0.7: 0.916/0.915, 0.8: 0.917/0.913), within
# noise of each other, so 0.6 stays.
KEYWORD_WEIGHT = 0.5
KEYWORD_WEIGHT_CJK = 0.6
RRF_K = 60


def fuse_minmax(dense: list[tuple[int, float]], kw: list[tuple[int, float]], k: int,
                keyword_weight: float = KEYWORD_WEIGHT) -> list[Ranked]:
    """Weighted sum of min-max scaled scores; ties go to the lower chunk id."""
    d, w = _scaled(dense), _scaled(kw)
    wd, wk = 1.0 - keyword_weight, keyword_weight
    scores = {cid: wd * d.get(cid, 0.0) + wk * w.get(cid, 0.0) for cid in d.keys() | w.keys()}
    return _best(scores, dense, kw, k)


def fuse_rrf(dense: list[tuple[int, float]], kw: list[tuple[int, float]], k: int,
             c: float = RRF_K) -> list[Ranked]:
    """Reciprocal rank fusion: the sum of 1 / (c + rank) over the lists."""
    scores: dict[int, float] = {}
    for ranked in (dense, kw):
        for i, (cid, _) in enumerate(ranked, 1):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (c + i)
    return _best(scores, dense, kw, k)


def _best(scores: dict[int, float], dense, kw, k: int) -> list[Ranked]:
    dense_rank = {cid: i for i, (cid, _) in enumerate(dense, 1)}
    kw_rank = {cid: i for i, (cid, _) in enumerate(kw, 1)}
    best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
    return [Ranked(cid, s, dense_rank.get(cid), kw_rank.get(cid)) for cid, s in best]


def keyword_weight(query: str) -> float:
    return KEYWORD_WEIGHT_CJK if keyword.has_cjk(query) else KEYWORD_WEIGHT


def fuse(dense: list[tuple[int, float]], kw: list[tuple[int, float]], k: int, query: str = "") -> list[Ranked]:
    """The hybrid list: the rule and weight chosen on the development sets."""
    return fuse_minmax(dense, kw, k, keyword_weight(query))


def rank(
    cur,
    vectors: VectorIndex | None,
    query_text: str,
    query_vec: np.ndarray | None,
    k: int,
    mode: str,
    library_ids: list[int] | None,
    path_like: str | None,
) -> list[Ranked]:
    """Chunk ids, best first, by the chosen mode."""
    depth = max(50, 5 * k) if mode == "hybrid" else k
    allowed = allowed_chunks(cur, path_like, library_ids) if path_like else None
    dense: list[tuple[int, float]] = []
    kw: list[tuple[int, float]] = []
    if mode in ("hybrid", "dense") and vectors is not None and query_vec is not None:
        dense = vectors.search(query_vec, depth, library_ids, allowed)
    if mode in ("hybrid", "keyword"):
        kw = keyword.search(cur, query_text, depth, library_ids, path_like)
    if mode == "dense":
        return [Ranked(c, s, dense_rank=i) for i, (c, s) in enumerate(dense, 1)]
    if mode == "keyword":
        return [Ranked(c, s, keyword_rank=i) for i, (c, s) in enumerate(kw, 1)]
    return fuse(dense, kw, k, query_text)


def hits_for(cur, ranked: list[Ranked]) -> list[SearchHit]:
    """Fill in text, file and location for ranked chunk ids, keeping the order."""
    if not ranked:
        return []
    chunks = cur.execute(
        "SELECT id, document_id, text, page, heading, line_start, line_end FROM chunks "
        f"WHERE id IN {int_list(r.chunk_id for r in ranked)}"
    ).fetchall()
    # Documents by their own literal list too: a join would scan every document.
    docs = {row[0]: row[1:] for row in cur.execute(
        "SELECT d.id, l.name, l.root, d.path, d.title, d.path_raw FROM documents d JOIN libraries l ON d.library_id = l.id "
        f"WHERE d.id IN {int_list({c[1] for c in chunks})}"
    ).fetchall()}
    by_id = {c[0]: (c[0], *docs[c[1]], c[2], c[3], c[4], c[5], c[6]) for c in chunks if c[1] in docs}
    hits = []
    for r in ranked:
        row = by_id.get(r.chunk_id)
        if row is None:  # deleted between ranking and fetching
            continue
        _, lib, root, path, title, raw, text, page, heading, ls, le = row
        hits.append(SearchHit(
            r.chunk_id, r.score, lib, path, str(Path(root) / path), title, text, page, heading, ls, le,
            r.dense_rank, r.keyword_rank, file_uri(root, path, raw),
        ))
    return hits
