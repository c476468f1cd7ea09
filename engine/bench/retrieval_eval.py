"""`bunko eval retrieval`: nDCG@10 and recall@10 of each search mode on a BEIR-layout dataset.

The dataset folder holds `corpus.jsonl` (`_id`, `title`, `text`), `queries.jsonl`
(`_id`, `text`) and `qrels/test.tsv` (`query-id<TAB>corpus-id<TAB>score`, score > 0
relevant, graded). Every corpus document becomes one chunk (title + " " + text, not
chunked further; the embedder cuts it at its token limit) in a throw-away Bunko store
filled with the indexer's own helpers, and every query is answered by
`retrieve.rank`, so the figures measure the code users run.

Passage vectors are cached under the data folder (`eval-cache/`), keyed by the model
and the exact texts, so a second run on the same data skips the embedding.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..search import keyword, retrieve
from .. import paths
from ..errors import BunkoError, DatasetError
from ..library.rows import insert_chunks
from ..store import open_store
from ..timefmt import clock
from ..search.vectors import VectorIndex

log = logging.getLogger(__name__)

K = 10
EMBED_BLOCK = 64  # passages per embedder call: small enough for a lively progress line


# -- the dataset ---------------------------------------------------------------------
@dataclass
class Dataset:
    name: str
    doc_ids: list[str]
    doc_texts: list[str]
    queries: dict[str, str]  # id -> text, in file order, only judged queries
    qrels: dict[str, dict[str, float]] = field(default_factory=dict)  # query -> doc -> grade


def json_lines(path: Path):
    """(line number, parsed value) of a dataset's JSON-lines file; a bad line is a DatasetError
    naming it (a benchmark set is not repaired row by row)."""
    if not path.is_file():
        raise DatasetError(f"The dataset has no {path.name} (looked for {path}).")
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except ValueError as exc:
                raise DatasetError(f"{path}, line {n}: not valid JSON ({exc}).") from exc


def _read_jsonl(path: Path, need_title: bool) -> list[tuple[int, str, str, str]]:
    """(line number, id, title, text) rows; bad rows raise DatasetError naming the line."""
    rows, seen = [], set()
    for n, obj in json_lines(path):
        if not isinstance(obj, dict):
            raise DatasetError(f"{path}, line {n}: expected a JSON object.")
        rid, text, title = obj.get("_id"), obj.get("text"), obj.get("title", "") if need_title else ""
        if isinstance(rid, int) and not isinstance(rid, bool):
            rid = str(rid)
        if not isinstance(rid, str) or not rid:
            raise DatasetError(f"{path}, line {n}: missing or empty \"_id\".")
        if not isinstance(text, str):
            raise DatasetError(f"{path}, line {n}: \"text\" is missing or not a string.")
        if title is None:
            title = ""
        if not isinstance(title, str):
            raise DatasetError(f"{path}, line {n}: \"title\" is not a string.")
        if rid in seen:
            raise DatasetError(f"{path}, line {n}: the id {rid!r} appears twice.")
        seen.add(rid)
        rows.append((n, rid, title, text))
    return rows


def _read_qrels(path: Path) -> dict[str, dict[str, float]]:
    if not path.is_file():
        raise DatasetError(f"The dataset has no qrels/{path.name} (looked for {path}).")
    qrels: dict[str, dict[str, float]] = {}
    with path.open(encoding="utf-8") as f:
        first = True
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t")
            if first and len(fields) == 3 and fields[0].strip().lower() in ("query-id", "query_id", "qid"):
                first = False
                continue
            first = False
            if len(fields) != 3:
                raise DatasetError(f"{path}, line {n}: expected 3 tab-separated fields "
                                   f"(query-id, corpus-id, score), found {len(fields)}.")
            qid, did, score = (x.strip() for x in fields)
            if not qid or not did:
                raise DatasetError(f"{path}, line {n}: empty query-id or corpus-id.")
            try:
                grade = float(score)
            except ValueError:
                raise DatasetError(f"{path}, line {n}: the score {score!r} is not a number.") from None
            if not math.isfinite(grade):
                raise DatasetError(f"{path}, line {n}: the score {score!r} is not a number.")
            qrels.setdefault(qid, {})[did] = grade
    return qrels


def doc_text(title: str, text: str) -> str:
    """MTEB's convention: title and text joined by a space, or the text alone."""
    title = title.strip()
    return f"{title} {text}" if title else text


def load_dataset(folder: Path | str, max_queries: int | None = None, max_docs: int | None = None) -> Dataset:
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DatasetError(f"The dataset folder {folder} does not exist.")
    corpus = _read_jsonl(folder / "corpus.jsonl", need_title=True)
    query_rows = _read_jsonl(folder / "queries.jsonl", need_title=False)
    qrels = _read_qrels(folder / "qrels" / "test.tsv")
    # A query counts only with at least one relevant (score > 0) judgement.
    queries = {qid: text for _, qid, _, text in query_rows
               if any(g > 0 for g in qrels.get(qid, {}).values())}
    if max_queries is not None:
        queries = dict(list(queries.items())[: max(0, max_queries)])
    if not queries:
        raise DatasetError(f"No query in {folder} has a relevant document in qrels/test.tsv.")
    qrels = {qid: qrels[qid] for qid in queries}
    if max_docs is not None:
        judged = {did for rels in qrels.values() for did in rels}
        room = max(0, max_docs - sum(1 for _, did, _, _ in corpus if did in judged))
        kept = []
        for row in corpus:
            if row[1] in judged:
                kept.append(row)
            elif room > 0:
                kept.append(row)
                room -= 1
        corpus = kept
    known = {did for _, did, _, _ in corpus}
    missing = sum(1 for rels in qrels.values() for did, g in rels.items() if g > 0 and did not in known)
    if missing:
        log.warning("%d relevant judgements name documents that are not in the corpus", missing)
    return Dataset(folder.resolve().name, [r[1] for r in corpus],
                   [doc_text(r[2], r[3]) for r in corpus], queries, qrels)


# -- metrics -------------------------------------------------------------------------
def ndcg_at_k(ranked: list[str], rels: dict[str, float], k: int = K) -> float:
    """nDCG@k with linear graded gains and a log2(rank + 1) discount, as trec_eval/BEIR."""
    dcg = sum(rels.get(did, 0.0) / math.log2(i + 2) for i, did in enumerate(ranked[:k]) if rels.get(did, 0) > 0)
    ideal = sorted((g for g in rels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: list[str], rels: dict[str, float], k: int = K) -> float:
    relevant = {did for did, g in rels.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


# -- progress --------------------------------------------------------------------------
class _Progress:
    """done/total, rate and time left on one stderr line (a line every 10 s if not a tty)."""

    def __init__(self, what: str, total: int, quiet: bool) -> None:
        self.what, self.total, self.quiet = what, total, quiet
        self.tty = sys.stderr.isatty()
        self.start = self.shown = time.monotonic()

    def __call__(self, done: int, frac: float, final: bool = False) -> None:
        now = time.monotonic()
        if self.quiet or (not final and now - self.shown < (0.5 if self.tty else 10.0)):
            return
        self.shown = now
        elapsed = now - self.start
        left = elapsed * (1 - frac) / frac if frac > 0 else None
        text = (f"{self.what}: {done}/{self.total}, {done / elapsed if elapsed > 0 else 0:.1f}/s, "
                f"{clock(elapsed)} elapsed, {clock(0 if final else left)} left")
        sys.stderr.write(("\r" + text.ljust(100) + ("\n" if final else "")) if self.tty else text + "\n")
        sys.stderr.flush()


# -- indexing ------------------------------------------------------------------------------
def _cache_path(model_id: str, ds: Dataset) -> Path:
    h = hashlib.sha256(model_id.encode("utf-8"))
    for did, text in zip(ds.doc_ids, ds.doc_texts):
        h.update(b"\0" + did.encode("utf-8") + b"\1" + text.encode("utf-8"))
    return paths.data_dir() / "eval-cache" / f"{h.hexdigest()[:32]}.npy"


def embed_corpus(embedder, ds: Dataset, n_tokens: list[int], quiet: bool) -> tuple[np.ndarray, float | None]:
    """Passage vectors for the corpus, from the cache when possible; (vectors, texts/s or None)."""
    path = _cache_path(embedder.model_id, ds)
    if path.is_file():
        try:
            vecs = np.load(path)
            if vecs.shape == (len(ds.doc_ids), embedder.dim):
                log.info("passage vectors from %s", path)
                return vecs.astype(np.float32, copy=False), None
        except (OSError, ValueError):
            log.warning("ignoring the unreadable cache file %s", path)
    # Similar lengths in one call pad little; the work left is estimated from tokens.
    cost = np.minimum(np.asarray(n_tokens, np.float64), embedder.max_tokens)
    order = np.argsort(-cost, kind="stable")
    vecs = np.empty((len(ds.doc_ids), embedder.dim), np.float32)
    progress = _Progress("embedding passages", len(order), quiet)
    t0, done_cost, total_cost = time.monotonic(), 0.0, float(cost.sum()) or 1.0
    for start in range(0, len(order), EMBED_BLOCK):
        block = order[start:start + EMBED_BLOCK]
        vecs[block] = embedder.embed_passages([ds.doc_texts[i] for i in block])
        done_cost += float(cost[block].sum())
        progress(start + len(block), done_cost / total_cost)
    progress(len(order), 1.0, final=True)
    rate = len(order) / max(time.monotonic() - t0, 1e-9)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, vecs)
    os.replace(tmp, path)
    return vecs, rate


def build_store(store, embedder, ds: Dataset, vecs: np.ndarray, n_tokens: list[int], root: str) -> int:
    """One library with one document and one chunk per corpus entry; returns the library id."""
    lib, n = 1, len(ds.doc_ids)
    ids = np.arange(1, n + 1, dtype=np.int64)
    # BM25's length norm, as the indexer sets it: the mean terms per chunk.
    avgdl = keyword.mean_terms(f"\n{t}" for t in ds.doc_texts)
    with store.transaction() as cur:
        cur.execute("INSERT INTO libraries (id, name, root, embedder_id, embedder_name, dim) VALUES (?, ?, ?, ?, ?, ?)",
                    [lib, ds.name, root, embedder.model_id, embedder.name, embedder.dim])
        docs = {
            "id": ids, "path": np.array(ds.doc_ids, dtype=object),
            "size": np.array([len(t.encode("utf-8")) for t in ds.doc_texts], np.int64),
        }
        cur.register("bunko_eval_docs", docs)
        cur.execute("INSERT INTO documents (id, library_id, path, size, mtime, kind, status, n_chunks) "
                    f"SELECT id, {lib}, path, size, 0, 'text', 'indexed', 1 FROM bunko_eval_docs")
        cur.unregister("bunko_eval_docs")
        # duckdb 1.5.5 fails to register an all-None object column (heading) of 2000+ rows.
        step = 1000
        for a in range(0, n, step):
            b = min(n, a + step)
            rows = [(int(ids[i]), int(ids[i]), lib, 0, ds.doc_texts[i], None, None, None, None, n_tokens[i])
                    for i in range(a, b)]
            insert_chunks(cur, rows, ids[a:b], lib, vecs[a:b])
            # The indexer puts the (here absent) heading on a line before the text.
            keyword.add_postings(cur, keyword.postings_for(
                ((int(ids[i]), lib, f"\n{ds.doc_texts[i]}") for i in range(a, b)), avgdl))
        keyword.compact(cur)
    return lib


# -- the run ----------------------------------------------------------------------------------
def evaluate(ds: Dataset, embedder, modes: list[str], quiet: bool = True) -> dict:
    started = time.monotonic()
    n_tokens = embedder.count_tokens(ds.doc_texts)
    vecs, rate = embed_corpus(embedder, ds, n_tokens, quiet)
    embed_seconds = time.monotonic() - started
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bunko-eval-") as tmp:
        store = open_store(Path(tmp) / "eval.duckdb")
        try:
            t = time.monotonic()
            lib = build_store(store, embedder, ds, vecs, n_tokens, tmp)
            vectors = VectorIndex(embedder.dim)
            vectors.add(np.arange(1, len(ds.doc_ids) + 1, dtype=np.int64),
                        np.full(len(ds.doc_ids), lib, np.int32), vecs)
            len(vectors)  # merge now, not inside the first timed search
            store_seconds = time.monotonic() - t
            qids = list(ds.queries)
            qvecs: dict[str, np.ndarray] = {}
            embed_ms = 0.0
            if any(m != "keyword" for m in modes):
                progress = _Progress("embedding queries", len(qids), quiet)
                embedder.embed_queries([ds.queries[qids[0]].strip()])  # warm-up
                for i, qid in enumerate(qids, 1):
                    t = time.perf_counter()
                    qvecs[qid] = embedder.embed_queries([ds.queries[qid].strip()])[0]
                    embed_ms += (time.perf_counter() - t) * 1000
                    progress(i, i / len(qids))
                progress(len(qids), 1.0, final=True)
                embed_ms /= len(qids)
            cur = store.cursor()
            try:
                for mode in modes:
                    progress = _Progress(f"searching ({mode})", len(qids), quiet)
                    ndcg = recall = search_ms = 0.0
                    for i, qid in enumerate(qids, 1):
                        t = time.perf_counter()
                        ranked = retrieve.rank(cur, vectors, ds.queries[qid].strip(), qvecs.get(qid), K, mode,
                                               [lib], None)
                        search_ms += (time.perf_counter() - t) * 1000
                        got = [ds.doc_ids[r.chunk_id - 1] for r in ranked]
                        ndcg += ndcg_at_k(got, ds.qrels[qid])
                        recall += recall_at_k(got, ds.qrels[qid])
                        progress(i, i / len(qids))
                    progress(len(qids), 1.0, final=True)
                    n = len(qids)
                    q_embed = embed_ms if mode != "keyword" else 0.0
                    results[mode] = {"ndcg@10": round(ndcg / n, 4), "recall@10": round(recall / n, 4),
                                     "ms_per_query": round(search_ms / n + q_embed, 2),
                                     "search_ms_per_query": round(search_ms / n, 2),
                                     "embed_ms_per_query": round(q_embed, 2)}
            finally:
                cur.close()
        finally:
            store.close()
    return {
        "dataset": ds.name, "model": embedder.name, "model_id": embedder.model_id,
        "documents": len(ds.doc_ids), "queries": len(ds.queries), "results": results,
        "index_seconds": round(embed_seconds + store_seconds, 1), "embed_seconds": round(embed_seconds, 1),
        "store_seconds": round(store_seconds, 1),
        "embed_texts_per_s": round(rate, 2) if rate is not None else None,
        "cached_vectors": rate is None,
        "elapsed_seconds": round(time.monotonic() - started, 1),
    }


def format_report(r: dict) -> str:
    lines = [
        f"Dataset {r['dataset']}: {r['documents']} documents, {r['queries']} queries; model {r['model']}",
        f"Index built in {r['index_seconds']:.1f} s (passages tokenised and embedded in {r['embed_seconds']:.1f} s"
        + (", vectors from the cache" if r["cached_vectors"] else f", {r['embed_texts_per_s']:.1f} passages/s")
        + f"; store {r['store_seconds']:.1f} s); whole run {r['elapsed_seconds']:.1f} s",
        "",
        f"{'mode':<9} {'nDCG@10':>8} {'recall@10':>10} {'ms/query':>9} {'(search':>8} {'+ embed)':>9}",
    ]
    for mode, m in r["results"].items():
        lines.append(f"{mode:<9} {m['ndcg@10']:>8.4f} {m['recall@10']:>10.4f} {m['ms_per_query']:>9.1f} "
                     f"{m['search_ms_per_query']:>8.1f} {m['embed_ms_per_query']:>9.1f}")
    return "\n".join(lines)


def run_retrieval_eval(args) -> int:
    from ..embed import load_embedder

    modes = [m.strip() for m in str(args.modes).split(",") if m.strip()]
    bad = [m for m in modes if m not in retrieve.MODES]
    if bad or not modes:
        raise BunkoError(f"Unknown search mode(s) {', '.join(bad) or '(none)'}; use {', '.join(retrieve.MODES)}.")
    for name in ("max_queries", "max_docs"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise BunkoError(f"--{name.replace('_', '-')} must be at least 1.")
    ds = load_dataset(args.dataset, args.max_queries, args.max_docs)
    embedder = load_embedder(args.embedder)
    report = evaluate(ds, embedder, modes, quiet=bool(args.json))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(format_report(report))
    return 0
