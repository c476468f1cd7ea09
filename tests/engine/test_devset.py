"""The English development sets made from Markdown pages (engine/bench/devset.py): generated
queries, or hand-written questions from a file, each judged against the section named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.bench.devset import build
from engine.bench.retrieval_eval import load_dataset

PAGE = """---
title: Leave
keywords: sick leave, vacation
---
Intro text that is long enough to be kept as a passage of its own, more than eighty characters.

## Getting approval for advanced sick leave

Ask your supervisor first, then file the request in the HR system with the dates and the reason.

## Other kinds of leave

Annual leave accrues every pay period; a part of it carries over to the next year as set by law.
"""


def pages(tmp_path: Path) -> Path:
    folder = tmp_path / "pages"
    folder.mkdir(exist_ok=True)
    (folder / "leave.md").write_text(PAGE, encoding="utf-8")
    return folder


def test_generated_queries_are_headings_and_keywords(tmp_path: Path) -> None:
    assert build(pages(tmp_path), tmp_path / "out") == {"passages": 3, "queries": 3, "judgements": 5}
    ds = load_dataset(tmp_path / "out")
    assert ds.queries["h:leave#1"] == "getting approval for advanced sick leave"
    assert ds.qrels["k:leave"] == {"leave#0": 1.0, "leave#1": 1.0, "leave#2": 1.0}


def test_a_questions_file_replaces_them_and_names_a_missing_passage(tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"text": "Who approves advanced sick leave?", "passage": "leave#1"}) + "\n")
    assert build(pages(tmp_path), tmp_path / "out", questions)["queries"] == 1
    ds = load_dataset(tmp_path / "out")
    assert ds.queries == {"q1": "Who approves advanced sick leave?"} and ds.qrels["q1"] == {"leave#1": 1.0}
    questions.write_text(json.dumps({"text": "?", "passage": "leave#9"}) + "\n")
    with pytest.raises(SystemExit, match="line 1: no passage 'leave#9'"):
        build(pages(tmp_path), tmp_path / "out2", questions)


def test_the_shipped_questions_name_passages_of_the_handbook_form() -> None:
    path = Path(__file__).resolve().parents[2] / "engine" / "bench" / "data" / "en_18f_questions.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == 21 and all(r["text"].endswith("?") and "#" in r["passage"] for r in rows)
