"""`bunko bench index` and `bunko bench search`: tiny real runs, JSON shape and positive figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.search import keyword
from engine.bench import common, index_bench, synth
from engine.cli.commands import main


def _run_json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    out = capsys.readouterr().out
    return json.loads(out)  # exactly one JSON object, nothing else on stdout


def test_generated_text_is_deterministic_and_mixed():
    a = common.pool_sentences(20, 10)
    assert a == common.pool_sentences(20, 10)
    assert any("条" in s or "。" in s for s in a[:20]) and all(s.isascii() for s in a[20:])
    vocab = common.vocabulary(2000)
    assert common.detail_sentences(50, vocab) == common.detail_sentences(50, vocab)


def test_synthetic_postings_equal_the_engines():
    comp = synth.Composer(2000, np.random.default_rng(0).standard_normal((60, 8)).astype(np.float32))
    rows = comp.compose(np.random.default_rng(1), 200)
    headings, texts = comp.texts(rows)
    ids = np.arange(1, 201)
    fast, _ = comp.postings(rows, ids, 1, 180.0)
    ref = keyword.postings_for(((int(i), 1, f"{h}\n{t}") for i, h, t in zip(ids, headings, texts)), 180.0)

    def rows_of(p):
        return sorted(zip(p["term"].tolist(), p["chunk_id"].tolist(), p["w"].tolist()))

    assert rows_of(fast) == rows_of(ref)
    vecs = comp.vectors(rows, np.random.default_rng(2))
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_bulk_insert_writes_the_same_rows_as_the_indexer_path(tmp_path):
    from engine.store import open_store

    comp = synth.Composer(2000, np.random.default_rng(0).standard_normal((60, 16)).astype(np.float32))
    tables = {}
    for name, engine_path in (("bulk", False), ("engine", True)):
        store = open_store(tmp_path / f"{name}.duckdb")
        with store.transaction() as cur:
            synth.add_chunks(cur, comp, np.random.default_rng(4), 45, 1, 1, 1, 150.0, postings_with_engine=engine_path)
        cur = store.cursor()
        tables[name] = [cur.execute("SELECT * EXCLUDE (indexed_at) FROM documents ORDER BY id").fetchall(),
                        cur.execute("SELECT * FROM chunks ORDER BY id").fetchall(),
                        cur.execute("SELECT * FROM embeddings ORDER BY chunk_id").fetchall(),
                        cur.execute("SELECT * FROM kw_tail ORDER BY term, chunk_id").fetchall()]
        store.close()
    assert tables["bulk"][:3] == tables["engine"][:3]
    assert len(tables["bulk"][3]) == len(tables["engine"][3])


def test_bench_search_json(embedder_dir, embedder, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path))
    result = _run_json(capsys, ["--embedder", str(embedder_dir), "bench", "search", "--sizes", "2000",
                                "--queries", "5", "--json"])
    assert result["bench"] == "search" and len(result["sizes"]) == 1
    s = result["sizes"][0]
    assert s["size"] == 2000
    assert s["load_s"] >= 0 and s["query_embedding"]["median_ms"] > 0
    for mode in ("dense", "keyword", "hybrid"):
        assert s["modes"][mode]["median_ms"] > 0 and s["modes"][mode]["p95_ms"] >= s["modes"][mode]["median_ms"]
    assert s["exact"]["median_ms"] > 0
    assert 0.0 <= s["recall_at_10"] <= 1.0
    assert s["memory_after_search"]["rss_mib"] > 0
    assert s["add_1000"]["total_s"] > 0 and s["add_1000"]["reference_empty_store"]["total_s"] > 0
    assert s["compaction"]["seconds"] > 0
    assert set(s["goals"]) == {"hybrid_median_ms", "rss_mib", "add_1000_s"}
    assert isinstance(result["pass"], bool)
    assert (tmp_path / "bench-cache").is_dir()
    # The generated store is cached for the next run.
    path, meta = synth.ensure_store(2000, embedder)
    assert meta["cached"] is True and path.parent == tmp_path / "bench-cache"
    assert s["generator"]["postings"] > 0 and s["generator"]["realism"]["sample"] > 0


def test_bench_index_json(embedder_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(index_bench, "TINY_FILES", 20)  # the real run re-indexes 300
    result = _run_json(capsys, ["--embedder", str(embedder_dir), "bench", "index", "--files", "3", "--json"])
    assert result["bench"] == "index"
    assert result["files"] == 3 and result["chunks"] > 0
    assert result["same_chunks_as_parse"] is True
    st = result["stages"]
    for name in ("parse_chunk", "embedder_alone_before", "embedder_alone_after", "end_to_end"):
        assert st[name]["seconds"] > 0 and st[name]["chunks_per_s"] > 0
    assert st["end_to_end"]["ratio_vs_embedder_alone"] > 0
    assert st["reindex_unchanged"]["files"] == 3 and st["reindex_unchanged"]["seconds"] > 0
    assert st["tiny_index"]["files"] == 20 and st["tiny_reindex_unchanged"]["files"] == 20
    assert set(result["goals"]) == {"ratio_vs_embedder_alone", "reindex_unchanged_s", "reindex_300_unchanged_s"}


def test_bench_index_table(embedder_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(index_bench, "TINY_FILES", 5)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# 規程\n\n従業員は就業規則を守らなければならない。Employees must follow the rules.\n",
                               encoding="utf-8")
    assert main(["--embedder", str(embedder_dir), "bench", "index", "--folder", str(docs)]) == 0
    out = capsys.readouterr().out
    assert "end-to-end index" in out and "ratio" in out and "re-index unchanged" in out


@pytest.mark.parametrize("values", [[0.001, 0.002, 0.003], [0.5]])
def test_stats_ms(values):
    st = common.stats_ms(values)
    assert st["n"] == len(values) and st["median_ms"] > 0 and st["p95_ms"] >= st["median_ms"]


def test_bench_index_hostile_json(embedder_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path))
    result = _run_json(capsys, ["--embedder", str(embedder_dir), "bench", "index", "--hostile", "--max-mb", "2",
                                "--json"])
    assert result["bench"] == "index-hostile" and "zero vectors" in result["measured"]
    assert [s["mb"] for s in result["sizes"]] == [1, 2]
    assert all(s["indexed"] and s["chunks"] > 0 and s["seconds_per_mb"] > 0 for s in result["sizes"])
    assert result["rate_growth"] > 0 and set(result["goals"]) == {"rate_growth", "peak_above_baseline_mib"}
    assert isinstance(result["pass"], bool)


def test_bench_download_runs_all_three_paths_and_reports_json(capsys, monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    result = _run_json(capsys, ["bench", "download", "--size-mb", "2", "--runs", "2", "--json"])
    assert result["bench"] == "download" and result["bytes"] > 2 * 1024 * 1024
    for key in ("plain_http_mb_s", "plain_http_sha256_mb_s", "bunko_mb_s", "plain_http_cpu_s", "bunko_cpu_s"):
        assert result[key] > 0, key
    assert len(result["plain_http_s"]) == len(result["bunko_s"]) == 2
    assert abs(result["ratio"] - result["bunko_mb_s"] / result["plain_http_mb_s"]) < 0.01  # MB/s are rounded
    assert result["goal"] == 0.9 and isinstance(result["meets_goal"], bool)


@pytest.mark.slow
def test_bench_embed_json_and_table(embedder_dir, tmp_path, monkeypatch, capsys):
    """New path against the old in one run: per-round ratios, cosine to the old vectors, a table."""
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path))
    args = ["--embedder", str(embedder_dir), "bench", "embed", "--rounds", "2", "--texts", "6"]
    result = _run_json(capsys, [*args, "--json"])
    assert result["bench"] == "embed" and result["rounds"] == 2 and result["cuda_measured"] is False
    graphs = [e["graph"] for e in result["embedders"].values()]
    assert graphs == ["exact", "exact", "fast"]
    for s in result["sets"].values():
        old, new = list(s["configs"].values())[0], list(s["configs"].values())[-1]
        assert old["ratio_median"] == 1.0 and new["texts_per_s"] > 0 and new["ratio_min"] <= new["ratio_max"]
        assert 0.98 <= new["cosine_min"] <= 1.0 and old["cosine_min"] == pytest.approx(1.0, abs=1e-5)
    assert result["goal"]["speedup"] == 3.0
    from engine.cli.commands import main

    assert main(args) == 0
    table = capsys.readouterr().out
    assert "ja short passages" in table and "en abstracts" in table and "GPU path is not measured" in table


def test_hostile_folder_is_written_as_described(tmp_path):
    from engine.bench import hostile_folder

    ordinary, info = hostile_folder.generate(tmp_path / "f", big_mb=1, files=4)
    names = {p.name for p in (tmp_path / "f").iterdir()}
    assert len(ordinary) == 4 and set(info["hostile"]) <= names and "node_modules" in names
    log = (tmp_path / "f" / "big.log").read_bytes()
    assert len(log) <= 1_000_000 and b"\n" not in log and log.decode("utf-8")
    for i, path in enumerate(ordinary):  # each ordinary file holds its own marker (ASCII in any encoding)
        assert hostile_folder.marker(i).encode("ascii") in path.read_bytes(), path


@pytest.mark.slow
def test_bench_index_hostile_folder_json(embedder_dir, tmp_path, monkeypatch, capsys):
    from engine.bench import hostile_folder
    from engine.ingest import sparse

    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(hostile_folder, "ORDINARY_FILES", 3)
    monkeypatch.setattr(sparse, "MAX_LINELESS_CHUNKS", 5)
    result = _run_json(capsys, ["--embedder", str(embedder_dir), "bench", "index", "--hostile-folder",
                                "--big-mb", "1", "--json"])
    assert result["bench"] == "index-hostile-folder" and result["ordinary_searchable"] == 3
    files = {Path(f["path"]).name: f for f in result["hostile_files"]}
    assert files["big.log"]["chunks"] == 5 and files["big.log"]["note"].startswith("indexed in part")
    assert files["aaaa.txt"]["status"] == "skipped" and files["bundle.min.js"]["status"] == "skipped"
    assert any(path.startswith("node_modules") for path, _ in result["skips"])
    assert result["run"]["peak_mib"] > 0 and result["ratio_vs_ordinary_alone"] > 0
    assert set(result["goals"]) == {"seconds", "peak_mib", "ordinary_searchable"}
    assert result["goals"]["ordinary_searchable"]["pass"] is True
