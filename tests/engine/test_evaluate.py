"""`bunko eval retrieval`: the metrics, the BEIR loader and one small end-to-end run."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest

from engine.cli import commands as cli
from engine.errors import DatasetError
from engine.bench.retrieval_eval import doc_text, load_dataset, ndcg_at_k, recall_at_k

# -- metrics -------------------------------------------------------------------------


def test_perfect_ranking_scores_one():
    rels = {"a": 2, "b": 1}
    assert ndcg_at_k(["a", "b", "x"], rels) == pytest.approx(1.0)
    assert recall_at_k(["a", "b", "x"], rels) == pytest.approx(1.0)


def test_nothing_relevant_found_scores_zero():
    assert ndcg_at_k(["x", "y"], {"a": 1}) == 0.0
    assert recall_at_k(["x", "y"], {"a": 1}) == 0.0
    assert ndcg_at_k([], {"a": 1}) == 0.0


def test_graded_example_by_hand():
    # Ranking: x (0), b (1), y (0), a (3). Judged: a=3, b=1, c=2, z=0 (not relevant).
    rels = {"a": 3, "b": 1, "c": 2, "z": 0}
    ranked = ["x", "b", "y", "a", "z"]
    dcg = 1 / math.log2(3) + 3 / math.log2(5)  # b at rank 2, a at rank 4
    idcg = 3 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)  # a, c, b
    assert ndcg_at_k(ranked, rels) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(ranked, rels) == pytest.approx(0.4038, abs=1e-4)  # 1.9229 / 4.7619
    assert recall_at_k(ranked, rels) == pytest.approx(2 / 3)


def test_only_top_ten_counts():
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert ndcg_at_k(ranked, {"a": 1}) == 0.0
    assert recall_at_k(ranked, {"a": 1}) == 0.0
    assert ndcg_at_k(ranked, {"a": 1}, k=11) == pytest.approx(1 / math.log2(12))
    # The ideal list is cut at k as well: 12 relevant documents, the first 10 found.
    rels = {f"r{i}": 1 for i in range(12)}
    assert ndcg_at_k([f"r{i}" for i in range(10)], rels) == pytest.approx(1.0)
    assert recall_at_k([f"r{i}" for i in range(10)], rels) == pytest.approx(10 / 12)


# -- the loader ------------------------------------------------------------------------


def write_dataset(folder: Path, corpus: list[dict], queries: list[dict], qrels: list[tuple]) -> Path:
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in corpus), encoding="utf-8")
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), encoding="utf-8")
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels), encoding="utf-8")
    return folder


def small(tmp_path: Path) -> Path:
    corpus = [{"_id": f"d{i}", "title": f"T{i}" if i % 2 else "", "text": f"text {i}"} for i in range(6)]
    queries = [{"_id": "q1", "text": "one"}, {"_id": "q2", "text": "two"}, {"_id": "q3", "text": "three"},
               {"_id": "q4", "text": "unjudged"}]
    qrels = [("q1", "d1", 1), ("q2", "d4", 2), ("q2", "d5", 1), ("q3", "d2", 0)]
    return write_dataset(tmp_path / "ds", corpus, queries, qrels)


def test_loader_reads_and_drops_unjudged_queries(tmp_path):
    ds = load_dataset(small(tmp_path))
    assert ds.name == "ds"
    assert list(ds.queries) == ["q1", "q2"]  # q3 has only a 0 judgement, q4 none
    assert ds.qrels["q2"] == {"d4": 2.0, "d5": 1.0}
    assert ds.doc_ids == [f"d{i}" for i in range(6)]
    assert ds.doc_texts[0] == "text 0" and ds.doc_texts[1] == "T1 text 1"
    assert doc_text("", "x") == "x" and doc_text("T", "x") == "T x"


def test_loader_limits(tmp_path):
    folder = small(tmp_path)
    ds = load_dataset(folder, max_queries=1)
    assert list(ds.queries) == ["q1"]
    ds = load_dataset(folder, max_queries=1, max_docs=3)
    assert ds.doc_ids == ["d0", "d1", "d2"]  # judged d1 plus the first others
    ds = load_dataset(folder, max_docs=2)
    assert ds.doc_ids == ["d1", "d4", "d5"]  # every judged document stays


def test_loader_missing_files(tmp_path):
    folder = small(tmp_path)
    (folder / "qrels" / "test.tsv").unlink()
    with pytest.raises(DatasetError, match="test.tsv"):
        load_dataset(folder)
    (folder / "queries.jsonl").unlink()
    with pytest.raises(DatasetError, match="queries.jsonl"):
        load_dataset(folder)
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")


@pytest.mark.parametrize("line, message", [
    ("{not json", "line 3: not valid JSON"),
    ('["a list"]', "line 3: expected a JSON object"),
    ('{"title": "t", "text": "x"}', "line 3: missing or empty \"_id\""),
    ('{"_id": "d9", "title": "t"}', "line 3: \"text\" is missing"),
    ('{"_id": "d0", "text": "again"}', "line 3: the id 'd0' appears twice"),
])
def test_corpus_errors_name_the_line(tmp_path, line, message):
    folder = small(tmp_path)
    lines = (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    lines.insert(2, line)
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="corpus.jsonl, " + message.replace("(", r"\(")):
        load_dataset(folder)


@pytest.mark.parametrize("line, message", [
    ("q1\td1", "line 3: expected 3 tab-separated fields"),
    ("q1\td1\tyes", "line 3: the score 'yes' is not a number"),
    ("\td1\t1", "line 3: empty query-id"),
])
def test_qrels_errors_name_the_line(tmp_path, line, message):
    folder = small(tmp_path)
    path = folder / "qrels" / "test.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="test.tsv, " + message):
        load_dataset(folder)


def test_cli_reports_dataset_errors(tmp_path, capsys):
    assert cli.main(["eval", "retrieval", "--dataset", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


# -- end to end ----------------------------------------------------------------------------

TOY_CORPUS = [
    ("ja1", "出張旅費規程", "国内出張の日当は一日につき二千円とし、宿泊費は実費精算とする。"),
    ("ja2", "有給休暇", "年次有給休暇は入社六か月後に十日付与され、最大二十日まで繰り越せる。"),
    ("ja3", "富士山", "富士山は静岡県と山梨県にまたがる標高三七七六メートルの日本最高峰の山である。"),
    ("ja4", "寿司", "寿司は酢飯に魚介類を組み合わせた日本料理で、江戸時代に握り寿司が広まった。"),
    ("ja5", "新幹線", "東海道新幹線は一九六四年に東京と新大阪の間で開業した高速鉄道である。"),
    ("ja6", "", "会議室の予約は社内ポータルから前日までに行ってください。"),
    ("en1", "Password reset", "To reset your password, open Settings, choose Security and follow the link sent by email."),
    ("en2", "Quarterly report", "The quarterly revenue grew by twelve percent compared with the same quarter last year."),
    ("en3", "Photosynthesis", "Plants convert sunlight, water and carbon dioxide into glucose and oxygen."),
    ("en4", "Volcanoes", "A volcano is an opening in the crust through which lava, ash and gases escape."),
    ("en5", "", "The library is open from nine in the morning until eight in the evening on weekdays."),
    ("en6", "Coffee", "Coffee beans are the roasted seeds of the coffea plant, first cultivated in Yemen."),
]
TOY_QUERIES = [
    ("q1", "出張の日当はいくらですか?", "ja1"),
    ("q2", "富士山の標高は何メートル?", "ja3"),
    ("q3", "How do I reset my password?", "en1"),
    ("q4", "How do plants make oxygen from sunlight?", "en3"),
]


@pytest.mark.slow
def test_end_to_end_json(tmp_path, monkeypatch, capsys, embedder_dir):
    data = tmp_path / "data"
    monkeypatch.setenv("BUNKO_DATA_DIR", str(data))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    folder = write_dataset(
        tmp_path / "toy",
        [{"_id": i, "title": t, "text": x} for i, t, x in TOY_CORPUS],
        [{"_id": q, "text": x} for q, x, _ in TOY_QUERIES],
        [(q, d, 1) for q, _, d in TOY_QUERIES],
    )
    argv = ["--db", str(tmp_path / "unused.duckdb"), "--embedder", str(embedder_dir),
            "eval", "retrieval", "--dataset", str(folder), "--json"]
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)  # exactly one JSON object
    assert err == ""
    assert report["dataset"] == "toy" and report["documents"] == 12 and report["queries"] == 4
    assert set(report["results"]) == {"dense", "keyword", "hybrid"}
    for figures in report["results"].values():
        assert 0.0 <= figures["ndcg@10"] <= 1.0 and 0.0 <= figures["recall@10"] <= 1.0
        assert figures["ms_per_query"] > 0
    assert report["results"]["hybrid"]["ndcg@10"] > 0.5
    assert report["results"]["hybrid"]["recall@10"] == 1.0
    assert report["cached_vectors"] is False and report["embed_texts_per_s"] > 0
    assert len(list((data / "eval-cache").glob("*.npy"))) == 1

    # A second run reads the passage vectors from the cache and agrees.
    assert cli.main(argv[:-1] + ["--modes", "hybrid,keyword"]) == 0
    table = capsys.readouterr().out
    assert "vectors from the cache" in table and "nDCG@10" in table
    assert "hybrid" in table and "dense" not in table.split("nDCG@10", 1)[1]
    row = next(line for line in table.splitlines() if line.startswith("hybrid"))
    assert float(row.split()[1]) == pytest.approx(report["results"]["hybrid"]["ndcg@10"])
    assert not list(scratch.iterdir())  # the temporary store is gone


def test_unknown_mode(tmp_path, capsys):
    assert cli.main(["eval", "retrieval", "--dataset", str(small(tmp_path)), "--modes", "dense,bm42"]) == 2
    assert "bm42" in capsys.readouterr().err
