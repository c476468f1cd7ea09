"""`bunko bench index`: documents → searchable chunks, against the embedder alone on the same chunks.

In one run, on one loaded model:
1. parse + chunk every file alone (what the indexer's reader thread does);
2. the embedder alone on those chunk texts, in pools of `POOL_CHUNKS` (before);
3. the full `Engine.index` of the folder into a fresh store (wall clock);
4. the embedder alone again, on the texts read back from the store (after):
   the reference is the mean of 2 and 4, and their gap shows order effects;
5. re-indexing the unchanged folder, and a folder of 300 one-sentence files.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from ..api import Engine
from ..library.indexer import POOL_CHUNKS
from ..ingest.chunk import Chunk, chunk_sections
from ..ingest.parsers import parse_file
from ..ingest.scan import scan
from . import common

GOAL_RATIO = 0.90
GOAL_REINDEX_S = 2.0
TINY_FILES = 300


def generate_folder(folder: Path, files: int, seed: int = 3) -> dict:
    """Markdown and text files mixing Japanese and English, a quarter of the .txt in Shift_JIS."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = common.vocabulary()
    pool = common.pool_sentences()
    detail = common.detail_sentences(4000, vocab, seed=seed)
    sjis = total = 0
    for i in range(files):
        rng = random.Random(seed * 100_003 + i)
        target = int(300 * (4000 / 300) ** rng.random())  # 300 to 4,000 characters, log-uniform
        topic = rng.choice(common._JA_TOPIC)
        markdown = i % 3 != 2
        lines = [f"# {topic}規程" if markdown else f"{topic}規程", ""]
        size, section = 0, 0
        while size < target:
            if markdown and (section == 0 or rng.random() < 0.3):
                section += 1
                lines += [f"## 第{section}章 {rng.choice(common._JA_TOPIC)}", ""]
            n = rng.randint(2, 6)
            para = common.join_sentences([rng.choice(pool) if rng.random() < 0.6 else rng.choice(detail)
                                          for _ in range(n)])
            lines += [para, ""]
            size += len(para)
        text = "\n".join(lines)
        name = f"{i:03d}_{topic}.{'md' if markdown else 'txt'}"
        data = text.encode("utf-8")
        if not markdown and i % 2 == 0:
            try:
                data = text.encode("shift_jis")
                sjis += 1
            except UnicodeEncodeError:
                pass
        (folder / name).write_bytes(data)
        total += len(data)
    return {"files": files, "bytes": total, "shift_jis_files": sjis}


def generate_tiny(folder: Path, files: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pool = common.pool_sentences()
    for i in range(files):
        (folder / f"note_{i:03d}.txt").write_text(pool[i % len(pool)] + "\n", encoding="utf-8")


def parse_and_chunk(folder: Path, embedder) -> tuple[list[str], int]:
    """The embed texts of every chunk, in the indexer's order, and the number of files read."""
    limit = min(320, embedder.max_tokens - 16)  # as index_library
    texts: list[str] = []
    n = 0
    for found in sorted(scan(folder), key=lambda f: f.size):  # the indexer's order: smallest first
        if found.skip:
            continue
        try:
            doc = parse_file(folder / found.rel)
        except Exception:  # noqa: BLE001 - skipped and failed files embed nothing
            continue
        n += 1
        texts.extend(c.embed_text(doc.title) for c in chunk_sections(doc.sections, embedder.count_tokens, limit))
    return texts, n


def embed_alone(embedder, texts: list[str]) -> float:
    """Seconds for `embed_passages` over `texts` in pools of POOL_CHUNKS, as the indexer calls it."""
    t0 = time.perf_counter()
    for start in range(0, len(texts), POOL_CHUNKS):
        embedder.embed_passages(texts[start:start + POOL_CHUNKS])
    return time.perf_counter() - t0


def stored_texts(engine, library_id: int) -> list[str]:
    cur = engine._store.cursor()
    try:
        rows = cur.execute(
            "SELECT c.text, c.heading, d.title FROM chunks c JOIN documents d ON c.document_id = d.id "
            "WHERE c.library_id = ? ORDER BY c.id", [library_id]).fetchall()
    finally:
        cur.close()
    return [Chunk(text, None, heading, None, None, 0).embed_text(title) for text, heading, title in rows]


def _timed_index(engine, name: str):
    t0 = time.perf_counter()
    result = engine.libraries.index(name)
    return result, time.perf_counter() - t0


def run_index_bench(args) -> int:
    if getattr(args, "hostile", False):
        from .hostile_bench import run_hostile_bench

        return run_hostile_bench(args)
    result: dict = {"bench": "index", "machine": common.machine()}
    with tempfile.TemporaryDirectory(prefix="bunko-bench-index-") as tmp_name:
        tmp = Path(tmp_name)
        if getattr(args, "folder", None):
            folder = Path(args.folder).expanduser().resolve()
            result["folder"] = {"path": str(folder), "generated": False}
        else:
            folder = tmp / "documents"
            result["folder"] = {"path": "(generated)", "generated": True,
                                **generate_folder(folder, getattr(args, "files", 60) or 60)}
        engine = Engine.open(tmp / "bench.duckdb", getattr(args, "embedder", None))
        try:
            t0 = time.perf_counter()
            emb = engine.searcher.embedder
            result["model_load_s"] = round(time.perf_counter() - t0, 2)
            result["embedder"] = emb.model_id
            result["threads"] = getattr(emb, "threads", None)
            emb.embed_passages(["warm-up: 就業規則の適用範囲について"] * 8)
            common.say("bench index: parse + chunk alone")
            t0 = time.perf_counter()
            texts, n_files = parse_and_chunk(folder, emb)
            parse_s = time.perf_counter() - t0
            common.say(f"bench index: embedder alone on {len(texts)} chunks (before)")
            alone_before = embed_alone(emb, texts)
            common.say("bench index: end-to-end index")
            lib = engine.libraries.add(folder, "bench")
            full, e2e_s = _timed_index(engine, lib.name)
            again = stored_texts(engine, lib.id)
            common.say(f"bench index: embedder alone on {len(again)} stored chunks (after)")
            alone_after = embed_alone(emb, again)
            unchanged, reindex_s = _timed_index(engine, lib.name)
            common.say(f"bench index: {TINY_FILES} tiny files")
            generate_tiny(tmp / "tiny", TINY_FILES)
            tiny_lib = engine.libraries.add(tmp / "tiny", "tiny")
            tiny, tiny_s = _timed_index(engine, tiny_lib.name)
            tiny_again, tiny_reindex_s = _timed_index(engine, tiny_lib.name)
        finally:
            engine.close()
    chunks = full.chunks
    alone_s = (alone_before + alone_after) / 2
    ref_cps = len(again) / alone_s if alone_s else None
    e2e_cps = chunks / e2e_s if e2e_s else None
    ratio = common.ratio(e2e_cps, ref_cps)
    result.update({
        "files": n_files, "files_indexed": full.added, "files_failed": full.failed, "chunks": chunks,
        "same_chunks_as_parse": texts == again,
        "stages": {
            "parse_chunk": {"seconds": round(parse_s, 3), "chunks_per_s": round(len(texts) / parse_s, 1)},
            "embedder_alone_before": {"seconds": round(alone_before, 3),
                                      "chunks_per_s": round(len(texts) / alone_before, 2)},
            "embedder_alone_after": {"seconds": round(alone_after, 3),
                                     "chunks_per_s": round(len(again) / alone_after, 2)},
            "end_to_end": {"seconds": round(e2e_s, 3), "chunks_per_s": round(e2e_cps or 0, 2),
                           "files_per_s": round(full.added / e2e_s, 2), "embed_seconds": round(full.embed_seconds, 3),
                           "embed_share": round(full.embed_seconds / e2e_s, 3), "ratio_vs_embedder_alone": ratio},
            "reindex_unchanged": {"seconds": round(reindex_s, 3), "files": unchanged.unchanged},
            "tiny_index": {"seconds": round(tiny_s, 3), "files": tiny.added, "chunks": tiny.chunks},
            "tiny_reindex_unchanged": {"seconds": round(tiny_reindex_s, 3), "files": tiny_again.unchanged},
        },
        "order_effect": common.ratio(alone_after, alone_before),
        "goals": {
            "ratio_vs_embedder_alone": {"goal": GOAL_RATIO, "value": ratio, "pass": (ratio or 0) >= GOAL_RATIO},
            "reindex_unchanged_s": {"goal": GOAL_REINDEX_S, "value": round(reindex_s, 3),
                                    "pass": reindex_s < GOAL_REINDEX_S},
            "reindex_300_unchanged_s": {"goal": GOAL_REINDEX_S, "value": round(tiny_reindex_s, 3),
                                        "pass": tiny_reindex_s < GOAL_REINDEX_S},
        },
    })
    result["pass"] = all(g["pass"] for g in result["goals"].values())
    common.emit(result, getattr(args, "json", False), _report(result, ref_cps))
    return 0


def _report(r: dict, ref_cps: float | None) -> str:
    s, g = r["stages"], r["goals"]

    def rat(cps):
        return common.ratio(cps, ref_cps)

    rows = [
        ["parse + chunk alone", s["parse_chunk"]["seconds"], r["chunks"], s["parse_chunk"]["chunks_per_s"],
         rat(s["parse_chunk"]["chunks_per_s"]), None, None],
        ["embedder alone (before index)", s["embedder_alone_before"]["seconds"], r["chunks"],
         s["embedder_alone_before"]["chunks_per_s"], rat(s["embedder_alone_before"]["chunks_per_s"]), None, None],
        ["embedder alone (after index)", s["embedder_alone_after"]["seconds"], r["chunks"],
         s["embedder_alone_after"]["chunks_per_s"], rat(s["embedder_alone_after"]["chunks_per_s"]), None, None],
        ["end-to-end index (Engine.index)", s["end_to_end"]["seconds"], r["chunks"], s["end_to_end"]["chunks_per_s"],
         g["ratio_vs_embedder_alone"]["value"], f">= {GOAL_RATIO:g}", g["ratio_vs_embedder_alone"]["pass"]],
        [f"re-index unchanged ({s['reindex_unchanged']['files']} files)", s["reindex_unchanged"]["seconds"], 0, None,
         None, f"< {GOAL_REINDEX_S:g} s", g["reindex_unchanged_s"]["pass"]],
        [f"index {TINY_FILES} one-sentence files", s["tiny_index"]["seconds"], s["tiny_index"]["chunks"],
         round(s["tiny_index"]["chunks"] / s["tiny_index"]["seconds"], 1), None, None, None],
        [f"re-index unchanged ({s['tiny_reindex_unchanged']['files']} files)", s["tiny_reindex_unchanged"]["seconds"],
         0, None, None, f"< {GOAL_REINDEX_S:g} s", g["reindex_300_unchanged_s"]["pass"]],
    ]
    folder = r["folder"]
    head = (f"bunko bench index: {r['files']} files ({folder.get('bytes', '?')} bytes, "
            f"{folder.get('shift_jis_files', '?')} Shift_JIS) -> {r['chunks']} chunks; embedder {r['embedder']}, "
            f"{r['threads']} threads")
    notes = [
        f"ratio = chunks/s of the stage / chunks/s of the embedder alone (mean of before and after: "
        f"{ref_cps:.2f} chunks/s)" if ref_cps else "ratio: no reference",
        f"order effect: embedder alone after / before = {r['order_effect']}; same chunks as parse+chunk: "
        f"{r['same_chunks_as_parse']}",
        f"inside the index run the embedder was busy {s['end_to_end']['embed_share']:.0%} of the wall clock "
        f"({s['end_to_end']['embed_seconds']} s); {s['end_to_end']['files_per_s']} files/s",
    ]
    return "\n".join([head, "", common.table(
        ["stage", "seconds", "chunks", "chunks/s", "ratio", "goal", "result"], rows), "", *notes])

