"""`bunko bench search`: latency, memory and incremental adds on synthetic libraries of each size.

Per size, on a copy of the cached synthetic store (see `synth`):
load the vector index; embed the queries for real (timed alone); time
`retrieve.rank` + `retrieve.hits_for` for dense, keyword and hybrid; compare with
an exact float32 brute-force `X @ q` (time and recall@10); read the memory; add
1,000 chunks through the indexer's code (also into an empty store, the
reference); time one search after; time a keyword compaction; profile the steps.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ..search import keyword, retrieve
from ..api import Engine
from ..store import open_store, scalar
from . import common, diagnose, synth

GOAL_RSS_MIB = 2048.0
GOAL_ADD_S = 60.0  # "must not take minutes"
K = 10


def _goal_ms(size: int) -> float:
    """30 ms up to 100 k chunks, 100 ms at 1 M, interpolated on a log scale between."""
    if size <= 100_000:
        return 30.0
    if size >= 1_000_000:
        return 100.0
    return round(30.0 * (100.0 / 30.0) ** np.log10(size / 100_000), 1)


def _timed(fn, *a, **kw):
    t0 = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t0


def _exact_matrix(cur, max_id: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The stored float32 vectors (ids ≤ max_id), for the brute-force reference."""
    ids, mats = [], []
    lo, hi = cur.execute("SELECT min(rowid), max(rowid) FROM embeddings").fetchone()
    for start in range(lo, hi + 1, 131_072):
        b = cur.execute("SELECT chunk_id, vec FROM embeddings WHERE rowid >= ? AND rowid < ? AND chunk_id <= ?",
                        [start, start + 131_072, max_id]).fetchnumpy()
        ids.append(b["chunk_id"].astype(np.int64))
        mats.append(np.frombuffer(b"".join(b["vec"]), "<f4").reshape(-1, dim))
    return np.concatenate(ids), np.concatenate(mats)


def _exact_top(x: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    s = x @ q
    top = np.argpartition(-s, k - 1)[:k]
    return ids[top[np.argsort(-s[top])]].tolist()


def _index_mib(index) -> float:
    total = 0
    for value in vars(index).values():
        for a in value if isinstance(value, (list, tuple)) else [value]:
            total += a.nbytes if isinstance(a, np.ndarray) else 0
    return round(total / 2**20, 1)


def _add_1000(store, comp, lib: int, avgdl: float, vectors=None, seed: int = 99) -> dict:
    """1,000 chunks through the indexer's code: postings_for, insert_chunks, add_postings, index add."""
    cur = store.cursor()
    first_chunk = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM chunks").fetchone()[0]
    first_doc = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM documents").fetchone()[0]
    cur.close()
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    with store.transaction() as tx:
        res = synth.add_chunks(tx, comp, rng, 1000, first_chunk, first_doc, lib, avgdl, postings_with_engine=True)
    t1 = time.perf_counter()
    out = {"postings_s": res["postings_s"], "db_s": t1 - t0 - res["postings_s"]}
    if vectors is not None:
        _, out["index_add_s"] = _timed(vectors.add, res["ids"], np.full(1000, lib, np.int32), res["vecs"])
    out["total_s"] = round(time.perf_counter() - t0, 3)
    return {k: round(v, 3) for k, v in out.items()}


def _empty_store_add(comp, tmp: Path, embedder) -> dict:
    """The reference: the same 1,000-chunk add into an empty store."""
    path = tmp / f"empty-{time.monotonic_ns()}.duckdb"
    store = open_store(path)
    try:
        with store.transaction() as cur:
            cur.execute("INSERT INTO libraries (id, name, root, embedder_id, embedder_name, dim)"
                        " VALUES (1, 'empty', ?, ?, ?, ?)", [str(tmp), embedder.model_id, embedder.name, embedder.dim])
        from ..search.vectors import VectorIndex

        return _add_1000(store, comp, 1, keyword.AVGDL_DEFAULT, VectorIndex(embedder.dim))
    finally:
        store.close()
        path.unlink(missing_ok=True)
        Path(str(path) + ".wal").unlink(missing_ok=True)


def bench_size(size: int, embedder, embedder_dir, comp, n_queries: int, tmp: Path) -> dict:
    src, meta = synth.ensure_store(size, embedder)
    work = tmp / f"search-{size}.duckdb"
    shutil.copyfile(src, work)
    gc.collect()
    common.reset_peak()
    out: dict = {"size": size, "store": str(src), "store_mib": round(src.stat().st_size / 2**20, 1),
                 "generator": meta, "memory_before": common.memory()}
    engine = Engine(open_store(work), embedder_dir, embedder)  # one copy of the model in memory, as in the app
    cur = engine._store.cursor()
    try:
        lib = engine.libraries.list()[0]
        qs = common.queries(n_queries, comp.vocab)
        embedder.embed_queries(["warm-up"])
        vecs: list[np.ndarray] = []
        q_times: list[float] = []
        for q in qs:
            v, dt = _timed(engine.searcher.embed_query, q)
            vecs.append(v)
            q_times.append(dt)
        qvecs = np.stack(vecs)
        out["query_embedding"] = common.stats_ms(q_times)
        vectors, out["load_s"] = _timed(engine.searcher.vector_index, [lib.id])
        out["load_s"] = round(out["load_s"], 2)
        out["memory_after_load"] = common.memory()
        _, first = _timed(vectors.search, qvecs[0], K, [lib.id])
        out["first_dense_search_ms"] = round(first * 1000, 1)  # builds the sign codes once
        for q, v in zip(qs[:3], qvecs[:3]):  # warm DuckDB and the caches
            retrieve.hits_for(cur, retrieve.rank(cur, vectors, q, v, K, "hybrid", [lib.id], None))
        modes, dense_top, hybrid_ranked = {}, [], []
        for mode in ("dense", "keyword", "hybrid"):
            total, ranks, hits = [], [], []
            for q, v in zip(qs, qvecs):
                t0 = time.perf_counter()
                ranked = retrieve.rank(cur, vectors, q, v if mode != "keyword" else None, K, mode, [lib.id], None)
                t1 = time.perf_counter()
                retrieve.hits_for(cur, ranked)
                t2 = time.perf_counter()
                total.append(t2 - t0)
                ranks.append(t1 - t0)
                hits.append(t2 - t1)
                if mode == "dense":
                    dense_top.append([r.chunk_id for r in ranked])
                elif mode == "hybrid":
                    hybrid_ranked.append(ranked)
            modes[mode] = {**common.stats_ms(total), "rank_median_ms": common.stats_ms(ranks)["median_ms"],
                           "hits_for_median_ms": common.stats_ms(hits)["median_ms"]}
        # The parts of a hybrid query, timed alone at its depth (50).
        depth = max(50, 5 * K)
        parts: dict[str, list[float]] = {"dense_depth50": [], "keyword_depth50": []}
        for q, v in zip(qs, qvecs):
            parts["dense_depth50"].append(_timed(vectors.search, v, depth, [lib.id])[1])
            parts["keyword_depth50"].append(_timed(keyword.search, cur, q, depth, [lib.id])[1])
        modes["hybrid"]["parts_median_ms"] = {k: common.stats_ms(v)["median_ms"] for k, v in parts.items()}
        e2e = [_timed(engine.search, q, K, "hybrid")[1] for q in qs[: min(10, len(qs))]]
        modes["hybrid"]["engine_search_with_embedding"] = common.stats_ms(e2e)
        out["modes"] = modes
        out["memory_after_search"] = common.memory()
        out["memory_delta_mib"] = round((out["memory_after_search"]["rss_mib"] or 0)
                                        - (out["memory_before"]["rss_mib"] or 0), 1)
        duck = scalar(cur, "SELECT sum(memory_usage_bytes) FROM duckdb_memory()")
        out["duckdb_buffer_mib"] = round((duck or 0) / 2**20, 1)
        out["vector_index_mib"] = _index_mib(vectors)
        out["keyword_postings_per_query"] = diagnose.postings_touched(cur, qs)
        out["keyword_profile"] = diagnose.keyword_profile(cur, qs, lib.id)
        out["keyword_fixes_ms"] = diagnose.keyword_fixes(cur, qs[:15], lib.id)
        max_id = scalar(cur, "SELECT max(id) FROM chunks")
        # Adding 1,000 chunks, then searching (the first search merges them into the index).
        add = _add_1000(engine._store, comp, lib.id, meta["avgdl"], vectors)
        _, s1 = _timed(lambda: retrieve.hits_for(cur, retrieve.rank(cur, vectors, qs[0], qvecs[0], K, "hybrid",
                                                                       [lib.id], None)))
        _, s2 = _timed(lambda: retrieve.hits_for(cur, retrieve.rank(cur, vectors, qs[1], qvecs[1], K, "hybrid",
                                                                       [lib.id], None)))
        add["first_search_after_ms"] = round(s1 * 1000, 1)
        add["next_search_ms"] = round(s2 * 1000, 1)
        add["reference_empty_store"] = _empty_store_add(comp, tmp, embedder)
        add["ratio_vs_empty_store"] = common.ratio(add["total_s"], add["reference_empty_store"]["total_s"])
        out["add_1000"] = add
        out["memory_after_add"] = common.memory()
        out["memory_limit_trial"] = diagnose.memory_limit_trial(
            cur, lambda i: retrieve.hits_for(cur, retrieve.rank(cur, vectors, qs[i], qvecs[i], K, "hybrid",
                                                                [lib.id], None)), qs)
        out["hits_for_uncompressed_text_ms"] = diagnose.hits_uncompressed(cur, hybrid_ranked, tmp)
        # The reference: exact float32 brute force over the same stored vectors.
        ids, x = _exact_matrix(cur, max_id, embedder.dim)
        exact, ex_times = [], []
        for v in qvecs:
            top, dt = _timed(_exact_top, x, ids, v, K)
            exact.append(top)
            ex_times.append(dt)
        out["exact"] = common.stats_ms(ex_times)
        out["recall_at_10"] = round(float(np.mean([len(set(a) & set(b)) / K for a, b in zip(dense_top, exact)])), 4)
        del x, ids
        gc.collect()
        out["dense_profile"] = diagnose.dense_profile(vectors, qvecs, lib.id, exact)
        # Last, as it may fail under the engine's memory limit (and a failed rollback ends the connection).
        main_rows, tail_rows = keyword.tail_rows(cur)
        out["compaction"] = {"seconds": None, "kw_main_rows": main_rows, "kw_tail_rows": tail_rows,
                             "needed_now": bool(keyword.needs_compaction(cur))}
        try:
            t0 = time.perf_counter()
            with engine._store.transaction() as tx:
                keyword.compact(tx)
            out["compaction"]["seconds"] = round(time.perf_counter() - t0, 2)
        except Exception as exc:  # noqa: BLE001 - reported, not raised: the other figures stand
            out["compaction"]["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        out["compaction"]["memory_after"] = common.memory()
    finally:
        for closing in (cur.close, engine.close):
            try:
                closing()
            except Exception:  # noqa: BLE001 - after a fatal DuckDB error
                pass
        work.unlink(missing_ok=True)
        Path(str(work) + ".wal").unlink(missing_ok=True)
    ex = out["exact"]["median_ms"]
    for mode in out["modes"].values():
        mode["ratio_vs_exact"] = common.ratio(mode["median_ms"], ex)  # rank + hits_for vs X@q top-10
        mode["rank_ratio_vs_exact"] = common.ratio(mode["rank_median_ms"], ex)
    peak = max(out["memory_after_add"]["peak_since_reset_mib"] or 0, out["memory_after_search"]["rss_mib"] or 0)
    out["goals"] = {
        "hybrid_median_ms": {"goal": _goal_ms(size), "value": out["modes"]["hybrid"]["median_ms"],
                             "pass": out["modes"]["hybrid"]["median_ms"] <= _goal_ms(size)},
        "rss_mib": {"goal": GOAL_RSS_MIB, "value": peak, "pass": peak <= GOAL_RSS_MIB},
        "add_1000_s": {"goal": GOAL_ADD_S, "value": out["add_1000"]["total_s"],
                       "pass": out["add_1000"]["total_s"] <= GOAL_ADD_S},
    }
    return out


def _report(result: dict) -> str:
    lines = [f"bunko bench search: {result['queries']} queries, k={K}, embedder {result['embedder']}", ""]
    for s in result["sizes"]:
        m, g, a = s["modes"], s["goals"], s["add_1000"]
        ex = s["exact"]["median_ms"]
        mem = s["memory_after_search"]
        rows = [
            ["load vector index (s)", s["load_s"], None, None, None, None],
            ["query embedding (ms, median/p95)", s["query_embedding"]["median_ms"], s["query_embedding"]["p95_ms"],
             None, None, None],
            ["exact float32 X@q top-10 (reference)", ex, s["exact"]["p95_ms"], 1.0, None, None],
        ]
        for mode in ("dense", "keyword", "hybrid"):
            goal = g["hybrid_median_ms"] if mode == "hybrid" else None
            rows.append([f"{mode} rank+hits_for (ms)", m[mode]["median_ms"], m[mode]["p95_ms"],
                         m[mode]["ratio_vs_exact"], f"<= {goal['goal']:g}" if goal else None,
                         goal["pass"] if goal else None])
            rows.append([f"  {mode} rank only (ms)", m[mode]["rank_median_ms"], None,
                         m[mode]["rank_ratio_vs_exact"], None, None])
        rows += [
            ["  hits_for only (ms, hybrid)", m["hybrid"]["hits_for_median_ms"], None,
             common.ratio(m["hybrid"]["hits_for_median_ms"], ex), None, None],
            ["dense recall@10 vs exact", s["recall_at_10"], None, None, None, None],
            ["RSS now / peak (MiB)", mem["rss_mib"], g["rss_mib"]["value"],
             common.ratio(g["rss_mib"]["value"], s["size"] * 384 * 4 / 2**20), f"<= {GOAL_RSS_MIB:g}",
             g["rss_mib"]["pass"]],
            ["add 1,000 chunks (s) vs empty store", a["total_s"], a["reference_empty_store"]["total_s"],
             a["ratio_vs_empty_store"], f"<= {GOAL_ADD_S:g}", g["add_1000_s"]["pass"]],
            ["first / next search after add (ms)", a["first_search_after_ms"], a["next_search_ms"], None, None, None],
            ["keyword compaction (s)", s["compaction"]["seconds"] if s["compaction"]["seconds"] is not None
             else "ERROR", None, None, None, None],
        ]
        lines.append(f"== {s['size']:,} chunks ({s['store_mib']:,} MiB store, "
                     f"{s['generator']['postings_per_chunk']} postings/chunk) ==")
        lines.append(common.table(["stage", "median", "p95 / 2nd", "ratio", "goal", "result"], rows))
        h = m["hybrid"]
        lines.append(f"  hybrid parts (median ms): dense@50 {h['parts_median_ms']['dense_depth50']}, keyword@50 "
                     f"{h['parts_median_ms']['keyword_depth50']}, hits_for {h['hits_for_median_ms']}; "
                     f"engine.search with embedding {h['engine_search_with_embedding']['median_ms']} ms")
        prof = s["dense_profile"]
        lines.append("  dense recall@10 / median ms by candidates rescored: " + ", ".join(
            f"{v['candidates']}: {v['recall_at_10']} / {v['median_ms']}" for v in prof["rescoring"].values()))
        lines.append(f"  dense hot spots (ms/query, depth 50): {prof['top_functions_ms_per_query']}")
        lines.append(f"  keyword postings touched per query: {s['keyword_postings_per_query']}")
        lines.append(f"  keyword SQL profile: {s['keyword_profile']}")
        lines.append(f"  keyword prototypes (median ms at depth 50): {s['keyword_fixes_ms']}")
        lines.append(f"  hits_for on an uncompressed-text copy of chunks (median ms): "
                     f"{s['hits_for_uncompressed_text_ms']}")
        if s["compaction"].get("error"):
            lines.append(f"  compaction failed: {s['compaction']['error']}")
        lines.append(f"  with DuckDB memory_limit: {s['memory_limit_trial']}")
        lines.append("  ratio: latency rows / exact float32 brute force (median); RSS / raw float32 vectors; "
                     "add / the same add into an empty store")
        lines.append(f"  memory: vector index {s['vector_index_mib']} MiB, DuckDB buffers {s['duckdb_buffer_mib']} MiB;"
                     f" realism {s['generator'].get('realism')}")
        lines.append("")
    return "\n".join(lines)


def run_search_bench(args) -> int:
    from ..embed import load_embedder

    sizes = [int(float(s)) for s in str(args.sizes).replace("_", "").split(",") if s.strip()]
    embedder = load_embedder(getattr(args, "embedder", None))
    result = {"bench": "search", "embedder": embedder.model_id, "queries": args.queries, "k": K,
              "machine": common.machine(), "sizes": []}
    with tempfile.TemporaryDirectory(prefix="bunko-bench-") as tmp:
        for size in sorted(sizes):
            common.say(f"bench search: {size:,} chunks")
            comp = synth.Composer(size, synth.pool_vectors(embedder, size))
            result["sizes"].append(bench_size(size, embedder, embedder.model_dir, comp, args.queries, Path(tmp)))
            common.say(_report({**result, "sizes": result["sizes"][-1:]}))  # each size as soon as it is done
            del comp
            gc.collect()
    result["pass"] = all(g["pass"] for s in result["sizes"] for g in s["goals"].values())
    common.emit(result, args.json, _report(result))
    return 0
