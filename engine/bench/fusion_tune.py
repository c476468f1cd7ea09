"""Choosing the hybrid fusion on development sets (never on a published test set).

    python -m engine.bench.fusion_tune DATASET [DATASET ...] [--max-docs N] [--max-queries N]

For each dataset, the dense and keyword lists of every query are computed once (as
`bunko eval retrieval` builds its store, passage vectors from its cache); then each
fusion rule is scored by nDCG@10 from those lists, so trying a rule costs no search.
"""

from __future__ import annotations

from typing import Any
import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from ..search import keyword, retrieve
from ..search.vectors import VectorIndex
from ..store import open_store
from .retrieval_eval import K, build_store, embed_corpus, load_dataset, ndcg_at_k

DEPTH = 50


def lists_for(folder: str, embedder, max_docs: int | None, max_queries: int | None, versions=(1, 2)):
    ds = load_dataset(folder, max_queries, max_docs)
    n_tokens = embedder.count_tokens(ds.doc_texts)
    vecs, _ = embed_corpus(embedder, ds, n_tokens, quiet=False)
    qids = list(ds.queries)
    qvecs = embedder.embed_queries([ds.queries[q].strip() for q in qids])
    out: dict[str, Any] = {"ds": ds, "qids": qids, "dense": [], "kw": {}}
    with tempfile.TemporaryDirectory() as tmp:
        vectors = VectorIndex(embedder.dim)
        vectors.add(np.arange(1, len(ds.doc_ids) + 1), np.ones(len(ds.doc_ids), np.int32), vecs)
        out["dense"] = [vectors.search(qv, DEPTH) for qv in qvecs]
        for version in versions:
            saved = keyword.KW_VERSION
            keyword.KW_VERSION = version  # build and search the index with these rules
            try:
                store = open_store(Path(tmp) / f"v{version}.duckdb")
                build_store(store, embedder, ds, vecs, n_tokens, tmp)
                with store.transaction() as tx:
                    tx.execute("INSERT OR REPLACE INTO meta VALUES ('kw_version', ?)", [str(version)])
                cur = store.cursor()
                out["kw"][version] = [keyword.search(cur, ds.queries[q].strip(), DEPTH) for q in qids]
                if version == max(versions):  # the query-side kana filter, off, for comparison
                    keyword.QUERY_KANA_FILTER = False
                    try:
                        out["kw_nofilter"] = [keyword.search(cur, ds.queries[q].strip(), DEPTH) for q in qids]
                    finally:
                        keyword.QUERY_KANA_FILTER = True
                store.close()
            finally:
                keyword.KW_VERSION = saved
    return out


def score(lists, ranked_per_query) -> float:
    ds = lists["ds"]
    return float(np.mean([ndcg_at_k([ds.doc_ids[c - 1] for c in ranked], ds.qrels[q])
                          for q, ranked in zip(lists["qids"], ranked_per_query)]))


def rules():
    for w in (0.3, 0.4, 0.5, 0.6, 0.7):
        yield f"minmax w_kw={w}", lambda d, k, w=w: retrieve.fuse_minmax(d, k, K, w)
    for c in (5, 10, 20, 40, 60):
        yield f"rrf k={c}", lambda d, k, c=c: retrieve.fuse_rrf(d, k, K, c)


def main(argv=None) -> int:
    from ..embed import load_embedder

    ap = argparse.ArgumentParser()
    ap.add_argument("datasets", nargs="+")
    ap.add_argument("--max-docs", type=int)
    ap.add_argument("--max-queries", type=int)
    args = ap.parse_args(argv)
    embedder = load_embedder(None)
    table = {}
    for folder in args.datasets:
        lists = lists_for(folder, embedder, args.max_docs, args.max_queries)
        name = Path(folder).name
        row = {"dense": score(lists, [[c for c, _ in d] for d in lists["dense"]])}
        for version, kw in lists["kw"].items():
            row[f"keyword v{version}"] = score(lists, [[c for c, _ in r[:K]] for r in kw])
        row["keyword v2, no kana filter"] = score(lists, [[c for c, _ in r[:K]] for r in lists["kw_nofilter"]])
        kw = lists["kw"][max(lists["kw"])]
        for label, fuse in rules():
            row[label] = score(lists, [[r.chunk_id for r in fuse(d, k)] for d, k in zip(lists["dense"], kw)])
        table[name] = row
        print(json.dumps({name: {k: round(v, 4) for k, v in row.items()}}, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
