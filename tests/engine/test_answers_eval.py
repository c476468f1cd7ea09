"""`bunko eval answers` on a tiny BEIR folder written by the test, with the real tiny model."""

from __future__ import annotations

import json

import pytest

from engine.bench.answers_eval import is_correct
from engine.cli import main

CORPUS = [
    ("p1", "Travel", "Employees on a business trip receive 4,700 yen per day. Taxis need a receipt."),
    ("p2", "Security", "Passwords must have at least 14 characters. They change every 180 days."),
    ("p3", "Cafeteria", "The cafeteria opens at noon and serves curry on Fridays."),
]
QUERIES = [("q1", "How much is the daily allowance on a business trip?", "p1", ["4,700 yen"]),
           ("q2", "How long must a password be?", "p2", ["14 characters"])]


def write_dataset(folder, answers=True):
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n"
                                                 for i, t, x in CORPUS), encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n"
                                                  for q, t, _, _ in QUERIES), encoding="utf-8")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{q}\t{d}\t1\n" for q, _, d, _ in QUERIES), encoding="utf-8")
    if answers:
        (folder / "answers.jsonl").write_text("".join(json.dumps({"_id": q, "answers": a}) + "\n"
                                                      for q, _, _, a in QUERIES), encoding="utf-8")
    return folder


def test_correct_means_the_reference_within_the_first_150_characters():
    assert is_correct("> 「会社は １０日 を与える。」", ["10日"])          # NFKC, spaces removed
    assert not is_correct("x" * 150 + "10日", ["10日"])
    assert is_correct("x" * 146 + "10日", ["10日", "十日"])


def test_eval_answers_reports_per_model_and_reuses_its_index(tmp_path, embedder_dir, capsys, monkeypatch):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    ds = write_dataset(tmp_path / "set")
    args = ["--embedder", str(embedder_dir), "eval", "answers", "--dataset", str(ds), "--max-questions", "2",
            "--docs", "3", "--max-tokens", "12"]
    assert main(args + ["--json", "--details", str(tmp_path / "rows.jsonl")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 2 and report["corpus_passages"] == 3 and not report["index_reused"]
    (name, r), = report["results"].items()
    assert name == "smollm2-135m"
    assert r["gold_in_sources"] == 1.0 and r["quote_only_correct"] == 1.0 and r["correct"] == 1.0
    assert r["seconds_per_question"] > 0
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["q1", "q2"] and rows[0]["answer"].startswith("> ")
    assert main(args) == 0  # the table; the index comes from the cache
    out = capsys.readouterr().out
    assert "reused from the cache" in out and "corpus of 3 passages" in out and "smollm2-135m" in out


def test_missing_answers_file_is_a_clear_error(tmp_path, capsys):
    ds = write_dataset(tmp_path / "set", answers=False)
    assert main(["eval", "answers", "--dataset", str(ds)]) == 2
    assert "answers.jsonl" in capsys.readouterr().err


@pytest.mark.slow
def test_eval_answers_on_a_folder_with_a_questions_file_reports_per_kind(tmp_path, embedder_dir, capsys,
                                                                         monkeypatch):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "travel.md").write_text("# Travel\n\nEmployees on a business trip receive 4,700 yen per day.\n"
                                    "<!-- Old rule: 9,999 yen per day. -->\n", encoding="utf-8")
    (docs / "security.md").write_text("# Security\n\nPasswords must have at least 14 characters.\n", encoding="utf-8")
    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in [
        {"question": "How much is the daily allowance on a business trip?", "answers": ["4,700 yen"],
         "gold_file": "travel.md", "kind": "factoid"},
        {"question": "How long must a password be?", "answers": ["14 characters"], "gold_file": "security.md",
         "kind": "rule"}]), encoding="utf-8")
    args = ["--embedder", str(embedder_dir), "eval", "answers", "--folder", str(docs), "--questions", str(questions),
            "--max-tokens", "12", "--read-first", "200"]
    assert main(args + ["--json", "--details", str(tmp_path / "rows.jsonl")]) == 0
    report = json.loads(capsys.readouterr().out)
    (name, r), = report["results"].items()
    assert report["questions"] == 2 and report["read_first"] == 200 and report["corpus_passages"] >= 2
    assert r["gold_in_sources"] == 1.0 and r["quote_only_correct"] == 1.0 and r["refused_under_gold_quote"] == 0.0
    assert r["kinds"] == {"factoid": {"questions": 1, "correct": r["kinds"]["factoid"]["correct"]},
                          "rule": {"questions": 1, "correct": r["kinds"]["rule"]["correct"]}}
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["kind"] for row in rows] == ["factoid", "rule"] and all(row["quote_from_gold"] for row in rows)
    assert not any("9,999" in row["answer"] for row in rows)  # the comment was not indexed
    assert main(args[:-2]) == 0  # the table, with a row per kind
    out = capsys.readouterr().out
    assert "factoid (1)" in out and "rule (1)" in out and "refused, gold quote" in out


def test_a_bad_questions_file_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"question": "no answers here"}\n', encoding="utf-8")
    assert main(["eval", "answers", "--folder", str(tmp_path / "docs"), "--questions", str(bad)]) == 2
    assert "line 1" in capsys.readouterr().err
    assert main(["eval", "answers", "--folder", str(tmp_path / "docs")]) == 2
    assert "--questions" in capsys.readouterr().err
