"""Diagnosis for `bench search`: where a query's time goes, and what a fix would buy, measured.

Nothing here changes the engine: the profiles watch it from outside (cProfile, DuckDB's own
query profiler), and the fix prototypes run on this run's throw-away copy of the store.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np

from ..search import keyword
from ..search import vectors as vectors_mod
from . import common

K = 10


def _timed(fn, *a, **kw):
    t0 = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t0


def dense_profile(index, qvecs: np.ndarray, lib: int, exact: list[list[int]]) -> dict:
    """Where a dense query's time goes (cProfile), and recall@10 against the number of candidates
    rescored: past EXACT_LIMIT the index rescores max(RESCORE_MIN, 50·k) candidates, so asking for
    a larger k and keeping the top 10 shows what a larger RESCORE_MIN would buy, and cost."""
    out: dict = {"rescoring": {}}
    for kk in (10, 40, 100, 400):
        times, rec = [], []
        for q, truth in zip(qvecs, exact):
            res, dt = _timed(index.search, q, kk, [lib])
            times.append(dt)
            rec.append(len({c for c, _ in res[:K]} & set(truth)) / K)
        out["rescoring"][f"k={kk}"] = {"candidates": max(getattr(vectors_mod, "RESCORE_MIN", 0), 50 * kk),
                                       "median_ms": common.stats_ms(times)["median_ms"],
                                       "recall_at_10": round(float(np.mean(rec)), 4)}
    prof = cProfile.Profile()
    prof.enable()
    for q in qvecs:
        index.search(q, max(50, 5 * K), [lib])
    prof.disable()
    rows = sorted(pstats.Stats(prof).stats.items(), key=lambda item: -item[1][2])[:8]  # type: ignore[attr-defined]
    out["top_functions_ms_per_query"] = {
        (f"{Path(f).name}:{line}:{fn}" if f != "~" else fn): round(tt / len(qvecs) * 1000, 2)
        for (f, line, fn), (_, _, tt, _, _) in rows}
    return out


def postings_touched(cur, queries: list[str]) -> dict:
    """How many postings a query's terms have: what the keyword SQL must aggregate."""
    counts = []
    for q in queries:
        terms = sorted({keyword.term_hash(t) for t in keyword.tokenize(q)})
        counts.append(cur.execute("SELECT (SELECT count(*) FROM kw_main WHERE term IN (SELECT unnest($t))) + "
                                  "(SELECT count(*) FROM kw_tail WHERE term IN (SELECT unnest($t)))",
                                  {"t": terms}).fetchone()[0] if terms else 0)
    return {"median": int(np.median(counts)), "max": int(max(counts))}


def hits_uncompressed(cur, ranked_lists: list[list], folder: Path) -> dict:
    """Diagnosis of `hits_for`: the same rows from a copy of `chunks` stored without FSST compression.

    DuckDB decompresses every FSST text vector it scans, even for 10 wanted rows; an uncompressed
    text column lets the id filter skip that work. The copy goes to a throw-away attached file.
    """
    cols = "id, document_id, library_id, text, page, heading, line_start, line_end"
    path = folder / f"plain-{time.monotonic_ns()}.duckdb"
    attached = False
    try:
        t0 = time.perf_counter()
        cur.execute(f"ATTACH '{path.as_posix()}' AS bench_plain")
        attached = True
        cur.execute("SET force_compression = 'uncompressed'")
        cur.execute(f"CREATE TABLE bench_plain.chunks AS SELECT {cols} FROM chunks")
        cur.execute("CHECKPOINT bench_plain")
        cur.execute("RESET force_compression")
        build = time.perf_counter() - t0
        kinds = [r[0] for r in cur.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('bench_plain.chunks') "
            "WHERE column_name = 'text' AND segment_type = 'VARCHAR'").fetchall()]
        times: dict[str, list[float]] = {"unnest_ids": [], "literal_ids": []}
        sql = ("SELECT c.id, l.name, l.root, d.path, d.title, c.text, c.page, c.heading, c.line_start, c.line_end "
               "FROM bench_plain.chunks c JOIN documents d ON c.document_id = d.id "
               "JOIN libraries l ON c.library_id = l.id WHERE c.id IN ")
        for ranked in ranked_lists:
            ids = [r.chunk_id for r in ranked] or [0]
            times["unnest_ids"].append(_timed(lambda ids=ids: cur.execute(sql + "(SELECT unnest($ids))", {"ids": ids})
                                              .fetchall())[1])
            times["literal_ids"].append(_timed(lambda ids=ids: cur.execute(sql + f"({', '.join(map(str, ids))})")
                                               .fetchall())[1])
        return {"copy_s": round(build, 2), "text_compression": kinds,
                **{k: common.stats_ms(v)["median_ms"] for k, v in times.items()}}
    except Exception as exc:  # noqa: BLE001 - a diagnosis aid, never a failure
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        try:
            cur.execute("RESET force_compression")
            if attached:
                cur.execute("DETACH bench_plain")
        except Exception:  # noqa: BLE001
            pass
        path.unlink(missing_ok=True)
        Path(str(path) + ".wal").unlink(missing_ok=True)


def _profile_tree(node: dict, acc: dict) -> None:
    name = node.get("operator_name") or node.get("operator_type")
    if name:
        name = name.strip()
        item = acc.setdefault(name, {"s": 0.0, "rows": 0})
        item["s"] += float(node.get("operator_timing") or 0.0)
        item["rows"] += int(node.get("operator_cardinality") or 0)
    for child in node.get("children", []):
        _profile_tree(child, acc)


def keyword_profile(cur, queries: list[str], lib: int, n: int = 5) -> dict:
    """DuckDB's own profile of `keyword.search`: operator thread-seconds and rows scanned."""
    acc: dict = {}
    scanned, latency = [], []
    fd, out = tempfile.mkstemp(suffix=".json", prefix="bunko-kw-profile-")
    os.close(fd)
    try:
        for q in queries[:n]:
            cur.execute("SET enable_profiling = 'json'")
            cur.execute(f"SET profiling_output = '{out}'")
            keyword.search(cur, q, 50, [lib])
            cur.execute("SET enable_profiling = 'no_output'")
            tree = json.loads(Path(out).read_text(encoding="utf-8"))
            scanned.append(int(tree.get("cumulative_rows_scanned") or 0))
            latency.append(float(tree.get("latency") or 0.0))
            _profile_tree(tree, acc)
        cur.execute("RESET enable_profiling")
    except Exception as exc:  # noqa: BLE001 - a diagnosis aid, never a failure
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        Path(out).unlink(missing_ok=True)
    m = len(latency) or 1
    top = sorted(acc.items(), key=lambda item: -item[1]["s"])[:6]
    return {"queries": len(latency), "latency_median_ms": round(float(np.median(latency)) * 1000, 1),
            "rows_scanned_median": int(np.median(scanned)) if scanned else 0,
            "operators_thread_ms_per_query": {k: round(v["s"] / m * 1000, 1) for k, v in top},
            "operator_rows_per_query": {k: int(v["rows"] / m) for k, v in top}}


def _kw_sql(terms: list[int], lib: int, n_chunks: int, k: int) -> str:
    """The engine's BM25 query with the terms as literals (so zone maps can skip per term)."""
    lits = ", ".join(str(t) for t in terms)
    cond = f"term IN ({lits}) AND library_id = {lib}"
    return f"""
        WITH p AS (SELECT term, chunk_id, w FROM kw_main WHERE {cond}
                   UNION ALL SELECT term, chunk_id, w FROM kw_tail WHERE {cond}),
        df AS (SELECT term, count(*)::DOUBLE AS df FROM p GROUP BY term)
        SELECT p.chunk_id, sum(ln(1 + ({n_chunks} - df.df + 0.5) / (df.df + 0.5)) * p.w) AS score
        FROM p JOIN df USING (term) GROUP BY p.chunk_id ORDER BY score DESC, p.chunk_id LIMIT {k}"""


def keyword_fixes(cur, queries: list[str], lib: int, max_df_share: float = 0.05) -> dict:
    """Two prototypes against `keyword.search` at depth 50, with overlap of their top 10:
    terms as SQL literals (same results), and also dropping terms in more than 5 % of chunks
    (their idf is small; a df table kept at compaction would make the cut free)."""
    try:
        n_chunks = cur.execute("SELECT count(*) FROM chunks WHERE library_id = ?", [lib]).fetchone()[0]
        res: dict[str, list[float]] = {"engine": [], "literal_terms": [], "df_capped": [], "df_lookup": []}
        same, overlap = [], []
        for q in queries:
            terms = sorted({keyword.term_hash(t) for t in keyword.tokenize(q)})
            if not terms:
                continue
            ref, dt = _timed(keyword.search, cur, q, 50, [lib])
            res["engine"].append(dt)
            lit, dt = _timed(lambda terms=terms: cur.execute(_kw_sql(terms, lib, n_chunks, 50)).fetchall())
            res["literal_terms"].append(dt)
            same.append([c for c, _ in ref[:K]] == [int(c) for c, _ in lit[:K]])
            dfs, dt = _timed(lambda terms=terms: dict(cur.execute(
                f"SELECT term, count(*) FROM kw_main WHERE term IN ({', '.join(map(str, terms))}) GROUP BY term"
            ).fetchall()))
            res["df_lookup"].append(dt)
            keep = [t for t in terms if dfs.get(t, 0) <= max_df_share * n_chunks] or \
                sorted(terms, key=lambda t: dfs.get(t, 0))[:2]
            cap, dt = _timed(lambda keep=keep: cur.execute(_kw_sql(keep, lib, n_chunks, 50)).fetchall())
            res["df_capped"].append(dt)
            overlap.append(len({c for c, _ in ref[:K]} & {int(c) for c, _ in cap[:K]}) / K)
        out = {name: common.stats_ms(v)["median_ms"] for name, v in res.items()}
        out["literal_terms_same_top10"] = round(float(np.mean(same)), 3) if same else None
        out["df_capped_top10_overlap"] = round(float(np.mean(overlap)), 3) if overlap else None
        out["max_df_share"] = max_df_share
        return out
    except Exception as exc:  # noqa: BLE001
        return {"error": f"{type(exc).__name__}: {exc}"}


def memory_limit_trial(cur, search, queries: list[str], limit: str = "512MB", n: int = 10) -> dict:
    """RSS and hybrid latency with DuckDB's buffer pool capped (the engine sets no memory_limit).

    `search(q_index)` runs one hybrid rank + hits_for. The limit is reset afterwards.
    """
    try:
        before = common.memory()["rss_mib"]
        old = cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        cur.execute(f"SET memory_limit = '{limit}'")
        times = [_timed(search, i)[1] for i in range(min(n, len(queries)))]
        duck = cur.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0] or 0
        after = common.memory()["rss_mib"]
        cur.execute(f"SET memory_limit = '{old}'")
        return {"limit": limit, "default_limit": old, "rss_before_mib": before, "rss_after_mib": after,
                "duckdb_buffer_mib": round(duck / 2**20, 1), "hybrid": common.stats_ms(times)}
    except Exception as exc:  # noqa: BLE001
        return {"error": f"{type(exc).__name__}: {exc}"}
