"""Keyword (BM25) search that works for Japanese as well as English.

DuckDB's fts extension splits on whitespace and strips accents (が → か), so it
finds nothing in Japanese, and it must be rebuilt after every change. Instead
Bunko keeps its own inverted index in two tables:

* terms are NFKC-normalised, lower-cased words for Latin scripts and digits,
  and overlapping character bigrams plus single kanji for runs of Japanese
  (and other CJK) text, so that one-kanji queries still match;
* each term is a 63-bit hash, so no vocabulary table has to be kept in step;
* a posting stores the BM25 term weight `tf·(k1+1)/(tf + k1·(1-b+b·dl/avgdl))`
  computed when the chunk is added, so a query only sums `idf · w`;
* `kw_main` is sorted by term and, within a term, by weight (impact) from high
  to low, so a query reads only its own terms' row groups and, for a common
  term, only its first `PER_TERM` postings: the chunks where the term weighs
  most. New postings go to the small `kw_tail` until `compact` rewrites
  `kw_main` with them merged in and refreshes the term frequencies `kw_df`.
* When a term's postings were cut short, the best `CANDIDATES` chunks are
  re-scored exactly from their text, so the final order is true BM25 among them.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
from collections import Counter
import time
from collections.abc import Callable, Iterable

import duckdb
import numpy as np
import snowballstemmer

from ..ingest.normalize import normalize_for_search
from ..cancel import CancelToken
from ..store import int_list, scalar
from ..types import Progress

log = logging.getLogger(__name__)

K1 = 1.2
B = 0.75
AVGDL_DEFAULT = 150.0

# Runs of word characters that are not CJK, and runs of CJK (kanji, kana, hangul).
_CJK = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uac00-\ud7af\u3005\u3006\u30fc"
)
_TOKEN = re.compile(rf"([{_CJK}]+)|([^\W{_CJK}_]+)")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005]")
_STEMMER = snowballstemmer.stemmer("english")

# Version 1 kept Latin words whole and dropped only these 25 words. An index
# built by it is searched with the same rules until it is rebuilt.
_STOPWORDS_V1 = frozenset(
    "a an and are as at be by for from has in is it of on or that the this to was were will with".split()
)

# Version 2 stems Latin-script words (Snowball English: policies → polici,
# travelling → travel) and drops a longer list of function words, which carry
# long postings lists and almost nothing to the score. Negations (no, not, nor)
# and words like "after"/"before" stay: in rules they change the meaning.
_STOPWORDS = frozenset("""
a about am an and any are as at be been being but by can could did do does doing
for from had has have having he her here hers him his how i if in into is it its
itself me my of on or our ours she should so some such than that the their theirs
them then there these they this those to too us very was we were what when where
which who whom why will with would you your yours
""".split())

KW_VERSION = 2  # the tokenizer's rules; stored in meta 'kw_version' with the index


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def _stemmed(word: str) -> str:
    # Digits, codes and short words stay as written: "v2", "as", "us".
    if len(word) <= 3 or not word.isalpha():
        return word
    return _stem(word)


def tokenize(text: str, version: int = KW_VERSION) -> list[str]:
    """Terms of `text` for indexing and querying (the same function for both).

    `version` picks the rules an existing index was built with (see `KW_VERSION`)."""
    stop = _STOPWORDS if version >= 2 else _STOPWORDS_V1
    terms: list[str] = []
    for match in _TOKEN.finditer(normalize_for_search(text)):
        cjk, word = match.groups()
        if word:
            if word not in stop:
                terms.append(_stemmed(word) if version >= 2 else word)
            continue
        if len(cjk) == 1:
            terms.append(cjk)
            continue
        terms.extend(cjk[i : i + 2] for i in range(len(cjk) - 1))
        terms.extend(ch for ch in cjk if _HAN.match(ch))
    return terms


_CJK_CHAR = re.compile(rf"[{_CJK}]")


def has_cjk(text: str) -> bool:
    """Whether `text` holds Japanese (or other CJK) characters."""
    return _CJK_CHAR.search(text) is not None


_HIRAGANA = re.compile(r"[\u3040-\u309f\u30fc]+")
QUERY_KANA_FILTER = True


def query_terms(query: str, version: int = KW_VERSION) -> list[str]:
    """The query's terms: as `tokenize`, less the bigrams made of hiragana alone
    (particles and endings: "です", "すか", "のは") while other terms remain; in a
    question they match nearly every passage and only add noise to the score."""
    terms = tokenize(query, version)
    if not QUERY_KANA_FILTER or version < 2:
        return terms
    kept = [t for t in terms if not _HIRAGANA.fullmatch(t)]
    return kept or terms


def index_version(cur: duckdb.DuckDBPyConnection) -> int:
    """The tokenizer version of the stored postings (a fresh database: the current one)."""
    row = cur.execute("SELECT value FROM meta WHERE key = 'kw_version'").fetchone()
    return int(row[0]) if row else KW_VERSION


_hash_cache: dict[str, int] = {}


def term_hash(term: str) -> int:
    """A stable signed 63-bit id for a term (Python's hash() is salted per process)."""
    value = _hash_cache.get(term)
    if value is None:
        digest = hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little") >> 1
        if len(_hash_cache) < 2_000_000:
            _hash_cache[term] = value
    return value


def mean_terms(texts: Iterable[str], version: int = KW_VERSION) -> float:
    """Average terms per text: BM25's avgdl. Japanese has ~1.8 terms per model token
    (bigrams plus kanji), so estimating it from token counts undershoots."""
    lengths = [len(tokenize(t, version)) for t in texts]
    return sum(lengths) / len(lengths) if lengths else AVGDL_DEFAULT


def weights(text: str, avgdl: float, version: int = KW_VERSION) -> tuple[list[int], list[float], int]:
    """(term ids, BM25 weights, document length) for one chunk."""
    counts = Counter(tokenize(text, version))
    dl = sum(counts.values())
    norm = K1 * (1 - B + B * dl / max(avgdl, 1.0))
    ids = [term_hash(t) for t in counts]
    ws = [tf * (K1 + 1) / (tf + norm) for tf in counts.values()]
    return ids, ws, dl


def postings_for(
    chunks: Iterable[tuple[int, int, str]], avgdl: float, version: int = KW_VERSION
) -> dict[str, np.ndarray]:
    """Postings rows for (chunk_id, library_id, text) triples, as numpy columns."""
    terms: list[int] = []
    chunk_ids: list[int] = []
    libs: list[int] = []
    ws: list[float] = []
    for chunk_id, library_id, text in chunks:
        ids, w, _ = weights(text, avgdl, version)
        terms.extend(ids)
        ws.extend(w)
        chunk_ids.extend([chunk_id] * len(ids))
        libs.extend([library_id] * len(ids))
    return {
        "term": np.array(terms, dtype=np.int64),
        "chunk_id": np.array(chunk_ids, dtype=np.int64),
        "library_id": np.array(libs, dtype=np.int32),
        "w": np.array(ws, dtype=np.float32),
    }


def add_postings(cur: duckdb.DuckDBPyConnection, rows: dict[str, np.ndarray]) -> None:
    if len(rows["term"]):
        cur.register("bunko_new_postings", rows)
        cur.execute("INSERT INTO kw_tail SELECT term, chunk_id, library_id, w FROM bunko_new_postings")
        cur.unregister("bunko_new_postings")


def tail_rows(cur: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    main = scalar(cur, "SELECT count(*) FROM kw_main")
    tail = scalar(cur, "SELECT count(*) FROM kw_tail")
    return main, tail


def needs_compaction(cur: duckdb.DuckDBPyConnection) -> bool:
    """A tail this big makes queries scan too much (see `bench search`)."""
    main, tail = tail_rows(cur)
    return tail > 200_000 and tail > 0.03 * main


def compact(cur: duckdb.DuckDBPyConnection) -> None:
    """Merge the tail into the impact-ordered main table. Run inside one transaction."""
    cur.execute(
        "CREATE OR REPLACE TABLE kw_main AS SELECT * FROM "
        "(SELECT * FROM kw_main UNION ALL SELECT * FROM kw_tail) ORDER BY term, w DESC, chunk_id"
    )
    # Replaced, not emptied: a DELETE of a 100 M-row tail ran out of memory.
    cur.execute("CREATE OR REPLACE TABLE kw_tail AS SELECT * FROM kw_main LIMIT 0")
    cur.execute("CREATE OR REPLACE TABLE kw_df AS "
                "SELECT term, count(*)::INTEGER AS df FROM kw_main GROUP BY term ORDER BY term")


# Postings read per term from kw_main: a common term's best-weighted chunks.
# At 1 M chunks a query's common terms (の日, single kanji) hold millions of
# postings; reading and summing them all dominated the query (`bunko bench search`).
PER_TERM = 20_000
CANDIDATES = 200
EXACT_POSTINGS = 1_000_000


# Chunk ids of documents whose path matches the LIKE pattern $path.
PATH_CHUNKS_SQL = ("SELECT c.id FROM chunks c JOIN documents d ON c.document_id = d.id "
                   "WHERE d.path LIKE $path ESCAPE '\\'")


def _weighted(idf: dict[int, float]) -> str:
    cases = " ".join(f"WHEN {t} THEN {v!r}" for t, v in idf.items())
    return f"w * CASE term {cases} ELSE 0 END"


def search(
    cur: duckdb.DuckDBPyConnection,
    query: str,
    k: int,
    library_ids: list[int] | None = None,
    path_like: str | None = None,
) -> list[tuple[int, float]]:
    """Top-k (chunk_id, BM25 score).

    Document frequencies count every library (they come from `kw_df` and the
    tail), so a filter narrows the results, not the statistics.
    `path_like` is a SQL LIKE pattern on the document path (relative to its library).
    """
    version = index_version(cur)
    by_hash = {term_hash(t): t for t in query_terms(query, version)}
    terms = sorted(by_hash)
    if not terms or k <= 0:
        return []
    filters = ""
    params: dict = {}
    if library_ids is not None:
        filters += f" AND library_id IN {int_list(library_ids)}"
    if path_like:
        filters += f" AND chunk_id IN ({PATH_CHUNKS_SQL})"
        params["path"] = path_like
    listed = int_list(terms)
    df = dict(cur.execute(
        f"SELECT term, sum(df) FROM (SELECT term, df FROM kw_df WHERE term IN {listed} UNION ALL "
        f"SELECT term, count(*) FROM kw_tail WHERE term IN {listed} GROUP BY term) GROUP BY term"
    ).fetchall())
    if not df:
        return []
    n = float(scalar(cur, "SELECT count(*) FROM chunks"))
    idf = {t: math.log(1 + (n - d + 0.5) / max(d + 0.5, 1.0)) for t, d in df.items() if d > 0}
    main_df = dict(cur.execute(f"SELECT term, df FROM kw_df WHERE term IN {listed}").fetchall())
    # Reading every posting is exact and, while the query's terms hold few, fastest.
    cut = set() if sum(main_df.values()) <= EXACT_POSTINGS else {t for t in idf if main_df.get(t, 0) > PER_TERM}
    # One sub-query per term, its idf a constant: no per-row CASE over all terms.
    parts = [f"(SELECT chunk_id, w * {idf[t]!r} AS s FROM kw_main WHERE term = {t}{filters}"
             + (f" LIMIT {PER_TERM})" if t in cut else ")") for t in idf]
    parts.append(f"(SELECT chunk_id, {_weighted(idf)} AS s FROM kw_tail WHERE term IN {listed}{filters})")
    limit = max(CANDIDATES, k) if cut else k
    rows = cur.execute(
        f"SELECT chunk_id, sum(s) AS s FROM ({' UNION ALL '.join(parts)}) "
        f"GROUP BY chunk_id ORDER BY s DESC, chunk_id LIMIT {int(limit)}",
        params,
    ).fetchall()
    if not cut:
        return [(int(c), float(v)) for c, v in rows]
    return _rescore(cur, [int(c) for c, _ in rows], {by_hash[t]: v for t, v in idf.items()}, k, version)


def _rescore(cur, chunk_ids: list[int], idf: dict[str, float], k: int,
             version: int = KW_VERSION) -> list[tuple[int, float]]:
    """Exact BM25 for candidates, from their text (as indexed: heading, newline, text).

    `idf` is keyed by the query's term strings; only their counts are needed."""
    if not chunk_ids:
        return []
    row = cur.execute("SELECT value FROM meta WHERE key = 'kw_avgdl'").fetchone()
    avgdl = float(row[0]) if row else AVGDL_DEFAULT
    scores = []
    for cid, heading, text in cur.execute(
        f"SELECT id, heading, text FROM chunks WHERE id IN {int_list(chunk_ids)}"
    ).fetchall():
        terms = tokenize(f"{heading or ''}\n{text}", version)
        counts = Counter(terms)
        norm = K1 * (1 - B + B * len(terms) / max(avgdl, 1.0))
        scores.append((int(cid), sum(v * counts[t] * (K1 + 1) / (counts[t] + norm)
                                     for t, v in idf.items() if counts[t])))
    scores.sort(key=lambda item: (-item[1], item[0]))
    return scores[:k]


REBUILD_BATCH = 5_000


def rebuild(store, progress: Callable[[Progress], None] | None = None,
            cancel: CancelToken | None = None) -> None:
    """Re-tokenise every chunk with the current rules (`KW_VERSION`) and replace the
    postings, in one transaction: a cancelled or killed rebuild leaves the old index,
    which searches keep using (with its own rules) until this finishes."""
    cancel = cancel or CancelToken()
    cur = store.cursor()
    try:
        total, lo, hi = cur.execute("SELECT count(*), min(id), max(id) FROM chunks").fetchone()
    finally:
        cur.close()
    report = progress or (lambda p: None)
    started = time.monotonic()
    with store.transaction() as tx:
        tx.execute("CREATE OR REPLACE TABLE kw_main AS SELECT * FROM kw_tail LIMIT 0")
        tx.execute("CREATE OR REPLACE TABLE kw_tail AS SELECT * FROM kw_main LIMIT 0")
        avgdl = None
        done = 0
        for start in range(lo or 0, (hi or -1) + 1, REBUILD_BATCH):
            cancel.raise_if_cancelled()
            rows = tx.execute(
                "SELECT id, library_id, heading, text FROM chunks WHERE id >= $a AND id < $b",
                {"a": start, "b": start + REBUILD_BATCH},
            ).fetchall()
            texts = [(int(c), int(lib), f"{h or ''}\n{t}") for c, lib, h, t in rows]
            if avgdl is None and texts:  # as the indexer does: fixed by the first batch
                avgdl = mean_terms(t for _, _, t in texts)
            add_postings(tx, postings_for(texts, avgdl or AVGDL_DEFAULT))
            done += len(rows)
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed > 0 else None
            report(Progress(done=done, total=total, unit="chunks", rate=rate,
                            eta_s=(total - done) / rate if rate else None,
                            message="rebuilding the keyword index"))
        cancel.raise_if_cancelled()
        compact(tx)
        if avgdl is not None:
            tx.execute("INSERT OR REPLACE INTO meta VALUES ('kw_avgdl', ?)", [str(avgdl)])
        tx.execute("INSERT OR REPLACE INTO meta VALUES ('kw_version', ?)", [str(KW_VERSION)])
    log.info("keyword index rebuilt: %d chunks in %.1f s", total, time.monotonic() - started)
