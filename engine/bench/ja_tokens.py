"""Japanese keyword terms compared on a development set: character bigrams against
Sudachi morphemes (an optional package, not a dependency of Bunko).

    python -m engine.bench.ja_tokens ../shared/data/jaquad-train [--max-docs N] [--variants ...]

For each variant the keyword index of the whole corpus is built with that variant's
terms (as `bunko eval retrieval` builds its store) and every judged query searched;
queries are scored in two halves (the first half for choosing, the second to check),
keyword alone and fused with the dense list (passage vectors from the eval cache,
so run `bunko eval retrieval` on the same data first for the hybrid columns).
Tokenising time per passage and per query is reported on its own.

Result on the whole of jaquad-train (2026-11-30; halves of 1,000 queries, nDCG@10):
keyword bigrams 0.904/0.903, Sudachi A normalised 0.904/0.916, C 0.901/0.913, A plus
bigrams 0.908/0.913; hybrid at weight 0.7 0.916/0.915, 0.913/0.928, 0.913/0.928,
0.918/0.924. About +0.005 over both halves, none on the first (the choosing) half, for a
198 MB dictionary and 4-5x the tokenising time: bigrams kept. Sudachi alone holds 3.7x
fewer postings (0.86 M against 3.17 M), which matters for memory more than quality.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from ..ingest.normalize import normalize_for_search
from ..search import keyword, retrieve
from ..search.vectors import VectorIndex
from ..store import open_store
from .retrieval_eval import K, _cache_path, build_store, load_dataset, ndcg_at_k

DEPTH = 50
# Parts of speech that carry no topic: particles, auxiliaries, symbols, blanks.
_DROP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}


def sudachi_terms(mode_name: str, form: str, with_bigrams: bool):
    """A `tokenize` replacement: Latin words as the current rules, CJK runs as Sudachi
    morphemes (content words only), with the bigrams kept beside them if asked."""
    from sudachipy import Dictionary, SplitMode

    tok = Dictionary(dict="core").tokenizer(getattr(SplitMode, mode_name))
    base = keyword.tokenize

    def tokenize(text: str, version: int = keyword.KW_VERSION) -> list[str]:
        terms: list[str] = []
        for match in keyword._TOKEN.finditer(normalize_for_search(text)):
            cjk, word = match.groups()
            if word:
                terms.extend(base(word, version))
                continue
            if with_bigrams:
                terms.extend(base(cjk, version))
            for m in tok.tokenize(cjk):
                if m.part_of_speech()[0] in _DROP_POS:
                    continue
                surface = m.normalized_form() if form == "norm" else m.surface()
                terms.append("\u0001" + surface)  # apart from bigrams of the same two characters
        return terms

    return tokenize


def variants():
    yield "bigrams", None
    for mode in ("A", "C"):
        for form in ("surface", "norm"):
            yield f"sudachi {mode} {form}", (mode, form, False)
    yield "sudachi A norm + bigrams", ("A", "norm", True)
    yield "sudachi C norm + bigrams", ("C", "norm", True)


def _keyword_lists(ds, embedder, spec, qids):
    """Every query's keyword list (depth 50) from an index built with the variant's terms,
    and (tokenise ms/passage, build s, search ms/query, distinct terms, postings)."""
    original = keyword.tokenize
    keyword.tokenize = sudachi_terms(*spec) if spec else original
    zeros = np.zeros((len(ds.doc_ids), embedder.dim), np.float32)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(Path(tmp) / "kw.duckdb")
            t = time.perf_counter()
            for text in ds.doc_texts:
                keyword.tokenize(text)
            tok_ms = (time.perf_counter() - t) * 1000 / len(ds.doc_texts)
            t = time.perf_counter()
            build_store(store, embedder, ds, zeros, [1] * len(ds.doc_ids), tmp)
            build_s = time.perf_counter() - t
            cur = store.cursor()
            t = time.perf_counter()
            kw = [keyword.search(cur, ds.queries[q].strip(), DEPTH) for q in qids]
            query_ms = (time.perf_counter() - t) * 1000 / len(qids)
            terms = cur.execute("SELECT count(*) FROM kw_df").fetchone()[0]
            postings = cur.execute("SELECT count(*) FROM kw_main").fetchone()[0]
            cur.close()
            store.close()
    finally:
        keyword.tokenize = original
    return kw, (round(tok_ms, 3), round(build_s, 1), round(query_ms, 2), terms, postings)


def run(folder: str, max_docs: int | None, names: list[str] | None, keep: Path | None = None) -> dict:
    from ..embed import load_embedder

    ds = load_dataset(folder, None, max_docs)
    embedder = load_embedder(None)
    qids = list(ds.queries)
    half = len(qids) // 2
    dense = None
    cache = _cache_path(embedder.model_id, ds)
    if cache.is_file():
        vecs = np.load(cache).astype(np.float32)
        index = VectorIndex(embedder.dim)
        index.add(np.arange(1, len(ds.doc_ids) + 1), np.ones(len(ds.doc_ids), np.int32), vecs)
        qv = embedder.embed_queries([ds.queries[q].strip() for q in qids])
        dense = [index.search(v, DEPTH) for v in qv]
    out = {}

    def nd(lists, part):
        sel = range(half) if part == 0 else range(half, len(qids))
        return round(float(np.mean([ndcg_at_k([ds.doc_ids[c - 1] for c in lists[i]], ds.qrels[qids[i]])
                                    for i in sel])), 4)

    for name, spec in variants():
        if names and name not in names:
            continue
        saved = keep / f"{name.replace(' ', '_')}.json" if keep else None
        if saved and saved.is_file():  # the keyword lists of an earlier run on the same data
            kw, stats = json.loads(saved.read_text())
            tok_ms, build_s, query_ms, terms, postings = stats
        else:
            kw, (tok_ms, build_s, query_ms, terms, postings) = _keyword_lists(ds, embedder, spec, qids)
            if saved and keep:
                keep.mkdir(parents=True, exist_ok=True)
                saved.write_text(json.dumps([kw, [tok_ms, build_s, query_ms, terms, postings]]))

        kw_ids = [[c for c, _ in r[:K]] for r in kw]
        row = {"keyword dev": nd(kw_ids, 0), "keyword check": nd(kw_ids, 1)}
        if dense is not None:
            for w in (0.5, 0.6, 0.7, 0.8):
                fused = [[r.chunk_id for r in retrieve.fuse_minmax(d, k, K, w)] for d, k in zip(dense, kw)]
                row[f"hybrid w={w} dev"] = nd(fused, 0)
                row[f"hybrid w={w} check"] = nd(fused, 1)
        row.update({"tokenise ms/passage": round(tok_ms, 3), "index build s": round(build_s, 1),
                    "search ms/query": round(query_ms, 2), "terms": terms, "postings": postings})
        out[name] = row
        print(json.dumps({name: row}, ensure_ascii=False), flush=True)
    if dense is not None:
        d_ids = [[c for c, _ in d[:K]] for d in dense]
        print(json.dumps({"dense": {"dev": nd(d_ids, 0), "check": nd(d_ids, 1)}}), flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("--max-docs", type=int)
    ap.add_argument("--variants", help="comma-separated names (default: all)")
    ap.add_argument("--keep", type=Path, help="a folder to keep each variant's keyword lists in (and reuse)")
    args = ap.parse_args(argv)
    run(args.dataset, args.max_docs, [v.strip() for v in args.variants.split(",")] if args.variants else None,
        args.keep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
