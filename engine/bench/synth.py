"""Synthetic Bunko stores of any size for `bench search`, cached between runs.

Embedding a million chunks is out of reach on a laptop CPU (~15 chunks/s), so a
store is built straight into DuckDB through the indexer's own `insert_chunks`:

* text: each chunk is a heading, 3-6 "pool" handbook sentences and 2-4
  "detail" sentences with Zipf-distributed content words (see `common`);
* vectors: the pool sentences are embedded for real with the e5 model once;
  a chunk's vector is normalise(mean of its pool sentences' vectors + noise),
  so vectors carry the anisotropy and cluster structure of real e5 output;
* postings: exactly what `keyword.postings_for` gives for the chunk's
  heading + text, computed with numpy from each sentence's terms (terms never
  span sentences: 。 and '. ' split tokens), then sorted by `keyword.compact`.

Generation runs in a child process, so its memory never counts against the
search process, and writes `bench-cache/search-g{GEN}-{size}-{model}.duckdb`.
"""

from __future__ import annotations

from typing import Any
import hashlib
import json
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np

from ..search import keyword
from .. import paths
from ..library.rows import insert_chunks
from ..store import open_store, scalar
from ..store.schema import SCHEMA_VERSION
from . import common

GEN_VERSION = 1
DOC_CHUNKS = 20  # chunks per synthetic document
BATCH = 50_000  # chunks per generation transaction (a multiple of DOC_CHUNKS)
NOISE = 0.15  # norm of the noise added to a chunk's mean pool vector
N_DETAIL = 200_000
SMALL = 50_000  # below this, a smaller vocabulary keeps quick runs (and tests) quick


def text_plan(size: int) -> dict:
    """Pool and detail sentence counts for a store of `size` chunks."""
    if size >= SMALL:
        return {"n_ja": 200, "n_en": 100, "n_detail": N_DETAIL}
    return {"n_ja": 40, "n_en": 20, "n_detail": 5_000}
LIBRARY_ID = 1


def cache_dir() -> Path:
    folder = paths.data_dir() / "bench-cache"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _model_key(model_id: str) -> str:
    return hashlib.blake2b(model_id.encode(), digest_size=6).hexdigest()


def _pool_path(embedder, size: int) -> Path:
    p = text_plan(size)
    return cache_dir() / f"pool-g{GEN_VERSION}-{p['n_ja']}-{p['n_en']}-{_model_key(embedder.model_id)}.npy"


def pool_vectors(embedder, size: int) -> np.ndarray:
    """Real passage vectors of the pool sentences, cached per model."""
    path = _pool_path(embedder, size)
    if path.is_file():
        return np.load(path)
    common.say("bench: embedding the pool sentences once (cached for later runs)")
    p = text_plan(size)
    vecs = embedder.embed_passages(common.pool_sentences(p["n_ja"], p["n_en"])).astype(np.float32)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, vecs)
    os.replace(tmp, path)
    return vecs


class Composer:
    """Chunks as rows of sentence ids: [heading, pool..., detail...], -1 for none."""

    def __init__(self, size: int, pool_vecs: np.ndarray | None = None) -> None:
        plan = text_plan(size)
        self.vocab = common.vocabulary()
        self.pool = common.pool_sentences(plan["n_ja"], plan["n_en"])
        rng = np.random.default_rng(5)
        self.headings = [f"第{i + 1}章 {t}" for i, t in enumerate(rng.permutation(common._JA_TOPIC))]
        self.headings += [f"Section {i + 1}: {t}" for i, t in enumerate(common._EN_TOPIC)]
        self.detail = common.detail_sentences(plan["n_detail"], self.vocab)
        self.sentences = self.headings + self.pool + self.detail
        self.n_head, self.n_pool = len(self.headings), len(self.pool)
        terms: dict[str, int] = {}
        lists = [[terms.setdefault(t, len(terms)) for t in keyword.tokenize(s)] for s in self.sentences]
        self.lens = np.array([len(x) for x in lists], np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.lens)[:-1]])
        self.flat = np.fromiter((t for x in lists for t in x), np.int64, int(self.lens.sum()))
        self.n_terms = len(terms)
        self.hashes = np.array([keyword.term_hash(t) for t in terms], np.int64)
        self.pool_vecs = pool_vecs

    def compose(self, rng: np.random.Generator, n: int, first_ord: int = 0) -> np.ndarray:
        rows = np.full((n, 11), -1, np.int64)
        doc_section = (np.arange(first_ord, first_ord + n) // 5)  # a heading every ~5 chunks
        rows[:, 0] = (doc_section * 7919) % self.n_head
        n_pool = rng.integers(3, 7, n)
        n_det = rng.integers(2, 5, n)
        pool = self.n_head + rng.integers(0, self.n_pool, (n, 6))
        det = self.n_head + self.n_pool + rng.integers(0, len(self.detail), (n, 4))
        cols = np.arange(6)
        rows[:, 1:7] = np.where(cols < n_pool[:, None], pool, -1)
        rows[:, 7:11] = np.where(cols[:4] < n_det[:, None], det, -1)
        # Shuffle the sentence order inside each chunk (pool and detail interleaved).
        body = rows[:, 1:]
        order = np.argsort(rng.random(body.shape) + (body < 0) * 2.0, axis=1)
        rows[:, 1:] = np.take_along_axis(body, order, axis=1)
        return rows

    def texts(self, rows: np.ndarray) -> tuple[list[str], list[str]]:
        s = self.sentences
        headings = [s[h] for h in rows[:, 0].tolist()]
        texts = [common.join_sentences([s[i] for i in r if i >= 0]) for r in rows[:, 1:].tolist()]
        return headings, texts

    def postings(self, rows: np.ndarray, chunk_ids: np.ndarray, library_id: int,
                 avgdl: float) -> tuple[dict, np.ndarray]:
        """`keyword.postings_for` of heading + '\\n' + text, vectorised."""
        n = len(rows)
        valid = rows >= 0
        chunk_of = np.broadcast_to(np.arange(n)[:, None], rows.shape)[valid]
        sent = rows[valid]
        lens = self.lens[sent]
        total = int(lens.sum())
        tok_chunk = np.repeat(chunk_of, lens)
        offsets = np.repeat(self.starts[sent] - (np.cumsum(lens) - lens), lens) + np.arange(total)
        terms = self.flat[offsets]
        dl = np.bincount(tok_chunk, minlength=n)
        keys, tf = np.unique(tok_chunk * self.n_terms + terms, return_counts=True)
        r, t = keys // self.n_terms, keys % self.n_terms
        norm = keyword.K1 * (1 - keyword.B + keyword.B * dl[r] / max(avgdl, 1.0))
        w = tf * (keyword.K1 + 1) / (tf + norm)
        return {"term": self.hashes[t], "chunk_id": np.asarray(chunk_ids, np.int64)[r],
                "library_id": np.full(len(r), library_id, np.int32), "w": w.astype(np.float32)}, dl

    def vectors(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        assert self.pool_vecs is not None, "made without vectors"
        pv = np.vstack([self.pool_vecs, np.zeros((1, self.pool_vecs.shape[1]), np.float32)])
        idx = rows[:, 1:] - self.n_head
        idx = np.where((idx >= 0) & (idx < self.n_pool), idx, self.n_pool)
        acc = np.zeros((len(rows), pv.shape[1]), np.float32)
        for j in range(idx.shape[1]):
            acc += pv[idx[:, j]]
        acc /= np.maximum((idx < self.n_pool).sum(axis=1), 1)[:, None]
        acc += rng.standard_normal(acc.shape, dtype=np.float32) * (NOISE / np.sqrt(acc.shape[1]))
        acc /= np.linalg.norm(acc, axis=1, keepdims=True)
        return acc


def add_chunks(cur, comp: Composer, rng, n: int, first_chunk: int, first_doc: int, library_id: int,
               avgdl: float, postings_with_engine: bool = False) -> dict:
    """Insert n chunks (with their documents, vectors and postings) through the indexer's code."""
    rows = comp.compose(rng, n, 0)
    headings, texts = comp.texts(rows)
    ids = np.arange(first_chunk, first_chunk + n, dtype=np.int64)
    vecs = comp.vectors(rows, rng)
    t0 = time.perf_counter()
    if postings_with_engine:
        posts = keyword.postings_for(((int(c), library_id, f"{h}\n{t}") for c, h, t in zip(ids, headings, texts)), avgdl)
        dl = None
    else:
        posts, dl = comp.postings(rows, ids, library_id, avgdl)
    t1 = time.perf_counter()
    n_docs = -(-n // DOC_CHUNKS)
    doc_ids = first_doc + np.arange(n_docs)
    topics = common._JA_TOPIC
    doc_rows = [(int(d), library_id, f"{topics[int(d) % len(topics)]}/規程_{int(d):07d}.md", 4000, 1.7e9,
                 f"{int(d):032x}", "markdown", f"{topics[int(d) % len(topics)]}規程 {int(d)}", "utf-8", "indexed",
                 None, min(DOC_CHUNKS, n - i * DOC_CHUNKS)) for i, d in enumerate(doc_ids)]
    ntok = [len(t) // 2 for t in texts]  # about 2 characters a token for this mix
    chunk_rows = [(int(c), int(doc_ids[i // DOC_CHUNKS]), library_id, i % DOC_CHUNKS, texts[i], None, headings[i],
                   None, None, int(ntok[i])) for i, c in enumerate(ids)]
    if not postings_with_engine:  # bulk generation: the same rows, without the slow object columns
        _bulk_insert(cur, doc_rows, chunk_rows, ids, library_id, vecs)
    else:  # as the indexer's _commit does it
        cur.executemany(
            "INSERT INTO documents (id, library_id, path, size, mtime, hash, kind, title, encoding,"
            " status, reason, n_chunks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", doc_rows)
        insert_chunks(cur, chunk_rows, ids, library_id, vecs)
    keyword.add_postings(cur, posts)
    return {"postings_s": t1 - t0, "postings": len(posts["term"]), "ids": ids, "vecs": vecs,
            "texts": texts, "headings": headings, "dl": dl}


def _bulk_insert(cur, doc_rows: list[tuple], chunk_rows: list[tuple], ids: np.ndarray, library_id: int,
                 vecs: np.ndarray) -> None:
    """Generation's fast path. DuckDB's `register` of numpy *object* arrays tries to import pandas for
    every element (~0.2 ms each when pandas is absent), so text goes in as numpy unicode arrays and
    vectors as hex strings turned back into BLOBs by `unhex`: ~10x faster, byte-identical rows."""
    d = list(zip(*doc_rows))
    cur.register("bench_docs", {"id": np.array(d[0], np.int64), "path": np.array(d[2]), "hash": np.array(d[5]),
                                "title": np.array(d[7]), "n_chunks": np.array(d[11], np.int32)})
    cur.execute(f"INSERT INTO documents (id, library_id, path, size, mtime, hash, kind, title, encoding, status,"
                f" n_chunks) SELECT id, {library_id}, path, 4000, 1.7e9, hash, 'markdown', title, 'utf-8',"
                " 'indexed', n_chunks FROM bench_docs")
    cur.unregister("bench_docs")
    c = list(zip(*chunk_rows))
    cur.register("bench_chunks", {"id": ids, "document_id": np.array(c[1], np.int64), "ord": np.array(c[3], np.int32),
                                  "text": np.array(c[4]), "heading": np.array(c[6]),
                                  "n_tokens": np.array(c[9], np.int32)})
    cur.execute(f"INSERT INTO chunks (id, document_id, library_id, ord, text, heading, n_tokens) "
                f"SELECT id, document_id, {library_id}, ord, text, heading, n_tokens FROM bench_chunks")
    cur.unregister("bench_chunks")
    width = vecs.shape[1] * 8
    for start in range(0, len(ids), 10_000):
        block = np.ascontiguousarray(vecs[start:start + 10_000], dtype="<f4")
        hexed = np.frombuffer(block.tobytes().hex().encode("ascii"), dtype=f"S{width}").astype(f"U{width}")
        cur.register("bench_vecs", {"chunk_id": ids[start:start + 10_000], "h": hexed})
        cur.execute(f"INSERT INTO embeddings SELECT chunk_id, {library_id}, unhex(h) FROM bench_vecs")
        cur.unregister("bench_vecs")


def _generate(size: int, out: str, pool_path: str, model: dict, report: str) -> None:
    """Child process: build the store at `out`, write stats to `report`."""
    os.dup2(2, 1)  # nothing from here may reach the parent's stdout
    t_start = time.perf_counter()
    comp = Composer(size, np.load(pool_path))
    rng = np.random.default_rng(size)
    store = open_store(Path(out))
    # Sorting all postings at once needs more than the app's buffer limit; generation is not measured.
    store.con.execute("SET memory_limit = '8GB'")
    with store.transaction() as cur:
        cur.execute("INSERT INTO libraries (id, name, root, embedder_id, embedder_name, dim) VALUES (?, ?, ?, ?, ?, ?)",
                    [LIBRARY_ID, "bench", str(Path(out).parent / "bench-library"), model["id"], model["name"],
                     model["dim"]])
    avgdl = None
    timings = {"postings_s": 0.0, "insert_s": 0.0}
    done = 0
    while done < size:
        n = min(BATCH, size - done)
        t0 = time.perf_counter()
        with store.transaction() as cur:
            if avgdl is None:  # like the indexer after its first run: mean document length
                probe = comp.compose(np.random.default_rng(1), 2000)
                avgdl = float(comp.postings(probe, np.arange(2000), LIBRARY_ID, 150.0)[1].mean())
                cur.execute("INSERT OR REPLACE INTO meta VALUES ('kw_avgdl', ?)", [str(avgdl)])  # as the indexer
            res = add_chunks(cur, comp, rng, n, done + 1, done // DOC_CHUNKS + 1, LIBRARY_ID, avgdl)
        timings["postings_s"] += res["postings_s"]
        timings["insert_s"] += time.perf_counter() - t0 - res["postings_s"]
        done += n
        common.say(f"bench: generated {done:,}/{size:,} chunks ({time.perf_counter() - t_start:.0f} s)")
    t0 = time.perf_counter()
    with store.transaction() as tx:
        keyword.compact(tx)
    timings["compact_s"] = time.perf_counter() - t0
    cur = store.cursor()
    n_post, n_terms = cur.execute("SELECT count(*), count(DISTINCT term) FROM kw_main").fetchone() or (0, 0)
    dfs: Any = cur.execute("SELECT quantile_cont(df, [0.5, 0.99]), max(df) FROM "
                      "(SELECT count(*) AS df FROM kw_main GROUP BY term)").fetchone()
    cur.execute("CHECKPOINT")
    cur.close()
    store.close()
    stats = {"size": size, "gen_version": GEN_VERSION, "avgdl": avgdl, "postings": n_post, "terms": n_terms,
             "postings_per_chunk": round(n_post / size, 1), "df_median": dfs[0][0], "df_p99": dfs[0][1],
             "df_max": dfs[1], "generate_s": round(time.perf_counter() - t_start, 1),
             **{k: round(v, 1) for k, v in timings.items()}}
    Path(report).write_text(json.dumps(stats), encoding="utf-8")


def ensure_store(size: int, embedder) -> tuple[Path, dict]:
    """The cached store of `size` chunks for this model, generated (in a child) if missing."""
    folder = cache_dir()
    base = folder / f"search-g{GEN_VERSION}s{SCHEMA_VERSION}-{size}-{_model_key(embedder.model_id)}"
    path, meta_path = base.with_suffix(".duckdb"), base.with_suffix(".json")
    if path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["cached"] = True
        return path, meta
    pool_vectors(embedder, size)
    pool_path = _pool_path(embedder, size)
    tmp = base.with_suffix(f".{os.getpid()}.tmp.duckdb")
    report = base.with_suffix(f".{os.getpid()}.tmp.json")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    common.say(f"bench: generating a synthetic store of {size:,} chunks into {path} (cached afterwards)")
    model = {"id": embedder.model_id, "name": embedder.name, "dim": embedder.dim}
    proc = multiprocessing.get_context("spawn").Process(
        target=_generate, args=(size, str(tmp), str(pool_path), model, str(report)), name="bunko-bench-generate")
    proc.start()
    proc.join()
    if proc.exitcode != 0 or not report.is_file():
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"generating the synthetic store failed (exit code {proc.exitcode})")
    meta = json.loads(report.read_text(encoding="utf-8"))
    meta["realism"] = _realism(tmp, embedder, 32 if size >= SMALL else 8)
    os.replace(tmp, path)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    report.unlink(missing_ok=True)
    meta["cached"] = False
    return path, meta


def _realism(path: Path, embedder, n: int = 32) -> dict:
    """How close synthetic vectors are to real e5 embeddings of the same chunk texts."""
    from ..ingest.chunk import Chunk

    store = open_store(path, read_only=True)
    try:
        cur = store.cursor()
        total = scalar(cur, "SELECT count(*) FROM chunks")
        picks = [int(i) for i in np.linspace(1, total, n).round()]
        rows = cur.execute(
            "SELECT c.id, c.text, c.heading, d.title, e.vec FROM chunks c JOIN documents d ON c.document_id = d.id "
            "JOIN embeddings e ON e.chunk_id = c.id WHERE c.id IN (SELECT unnest($ids)) ORDER BY c.id",
            {"ids": picks}).fetchall()
    finally:
        store.close()
    texts = [Chunk(text, None, heading, None, None, 0).embed_text(title) for _, text, heading, title, _ in rows]
    synth = np.stack([np.frombuffer(r[4], "<f4") for r in rows])
    real = embedder.embed_passages(texts)
    off = ~np.eye(len(rows), dtype=bool)
    return {"sample": len(rows),
            "cos_synthetic_vs_real_same_text": round(float((synth * real).sum(axis=1).mean()), 4),
            "mean_pair_cos_synthetic": round(float((synth @ synth.T)[off].mean()), 4),
            "mean_pair_cos_real": round(float((real @ real.T)[off].mean()), 4),
            "nn_cos_synthetic": round(float(np.where(off, synth @ synth.T, -1).max(axis=1).mean()), 4),
            "nn_cos_real": round(float(np.where(off, real @ real.T, -1).max(axis=1).mean()), 4)}
