"""The comparison lab's pure parts: question files with bad rows, the scores, the statistics,
the report's recommendation and exports (no model needed)."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser

import pytest

from engine.errors import DatasetError
from engine.lab import questions, report, scoring, stats
from engine.lab.runs import AnswerRow, RunConfig, RunInfo


def test_jsonl_questions_with_bad_rows_listed_by_line(tmp_path):
    path = tmp_path / "qs.jsonl"
    path.write_text("\n".join([
        json.dumps({"question": "日当はいくら?", "answers": ["3,000円", "三千円"], "source": "旅費規程.md"}, ensure_ascii=False),
        '{"question": "broken',
        json.dumps({"question": "宿泊費は?"}, ensure_ascii=False),
        "",
        json.dumps({"messages": [{"role": "user", "content": "Who?"}, {"role": "assistant", "content": "Kaname"}]}),
        json.dumps({"質問": "誰?", "回答": "要"}, ensure_ascii=False),
    ]), encoding="utf-8")
    qs = questions.read_file(path)
    assert [q.text for q in qs.questions] == ["日当はいくら?", "Who?", "誰?"]
    assert qs.questions[0].references == ("3,000円", "三千円") and qs.questions[0].source == "旅費規程.md"
    assert [(p.line, p.reason.split(" (")[0]) for p in qs.problems] == [(2, "not valid JSON"), (3, "no reference answer")]


def test_shift_jis_csv_with_several_answer_columns(tmp_path):
    path = tmp_path / "qs.csv"
    path.write_bytes("質問,回答,回答2,出典\n日当は?,3000円,三千円|3千円,旅費.md\n宿泊費は?,,,\n,x,,\n".encode("shift_jis"))
    qs = questions.read_file(path)
    assert len(qs.questions) == 1 and qs.questions[0].references == ("3000円", "三千円", "3千円")
    assert qs.questions[0].source == "旅費.md"
    assert [p.line for p in qs.problems] == [3, 4]
    path.write_bytes(b"foo,bar\n1,2\n")
    with pytest.raises(DatasetError, match="question and an answer column"):
        questions.read_file(path)


def test_match_folds_width_case_and_spaces():
    assert scoring.match("答えは　３，０００円 です", ["3,000円"])
    assert scoring.match("It is KANAME.", ["Kaname"])
    assert scoring.match("『来るべき世界』です", ["「来るべき世界」"])
    assert not scoring.match("2,000円", ["3,000円"])
    assert not scoring.match("anything", [""])


def test_f1_uses_bigrams_for_japanese_and_words_for_english():
    assert scoring.tokens("東京都 Tokyo") == ["東京", "京都", "tokyo"]
    assert scoring.f1("東京都の豊島区", ["豊島区"]) == pytest.approx(2 * (2 / 6) * 1 / (2 / 6 + 1))
    assert scoring.f1("the purple otter", ["a purple otter"]) == pytest.approx(2 / 3)
    assert scoring.f1("", ["x"]) == 0.0
    # whitespace tokens would see one Japanese "word" and score 0 here
    assert scoring.f1("日当は三千円です", ["三千円"]) > 0.4


def test_judge_score_weights_the_grades_and_grounding():
    assert scoring.judge_score([0, 0, 0, 0, 1.0]) == 1.0
    assert scoring.judge_score([0.5, 0, 0, 0, 0.5]) == pytest.approx(0.5)
    assert scoring.judge_score([0, 0, 0, 0, 0]) is None
    assert scoring.grounded(["... named Kaname."], ["kaname"]) and not scoring.grounded([], ["kaname"])


def test_intervals_and_the_paired_test():
    lo, hi = stats.bootstrap_ci([1] * 50 + [0] * 50)
    assert 0.38 < lo < 0.5 < hi < 0.62
    assert stats.bootstrap_ci([1, 1, 1]) == (1.0, 1.0)
    assert stats.mcnemar_exact([True] * 10, [False] * 10)["p"] == pytest.approx(2 / 1024)
    assert stats.mcnemar_exact([True, False], [True, False])["p"] == 1.0
    clear = stats.compare("base", [False] * 20, "rag", [True] * 20)
    assert clear["verdict"] == "rag better than base" and clear["diff"] == 1.0
    close = stats.compare("base", [True, False, True, False], "rag", [False, True, True, False])
    assert close["verdict"] == "no clear difference"


def _run(n: int) -> tuple[RunInfo, list, list]:
    qs = [questions.make(f"q{i}?", [f"r{i}"]) for i in range(n)]
    rows = []
    for i, q in enumerate(qs):
        for arm, right in (("base", i < 2), ("rag", True)):
            rows.append(AnswerRow(q.key, arm, 0, f"r{i}" if right else "no", "complete", [],
                                  {"time_to_first_token": 0.1, "tokens_per_second": 20.0, "prompt_tokens": 30},
                                  {"match": right, "f1": 1.0 if right else 0.0}, 0.5))
    info = RunInfo(1, "t", "done", RunConfig("m", ("lib",)), {"RAG index lib": {"chunks": 3}}, [], None, None, None)
    return info, qs, rows


def test_summary_known_new_split_recommendation_and_exports():
    info, qs, rows = _run(20)
    s = report.summary(info, qs, rows)
    arms = {a["arm"]: a for a in s["arms"]}
    assert s["known"] == 2 and arms["base"]["known"]["accuracy"] == 1 and arms["base"]["new"]["accuracy"] == 0
    assert arms["rag"]["accuracy"] == 1 and s["pairs"][0]["verdict"] == "rag better than base"
    assert s["recommendation"].startswith("rag answers best (100% of 20); clearly better than base")
    page = report.to_html(s, qs, rows)
    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append(tag)

    P().feed(page)
    assert found.count("svg") == 2 and found.count("tr") >= 20
    table = list(csv.DictReader(io.StringIO(report.to_csv({0: qs}, rows, {q.key for q in qs[:2]}))))
    assert len(table) == 40 and {r["arm"] for r in table} == {"base", "rag"}
    # on three questions the same gap is not claimed
    info, qs, rows = _run(3)
    assert "not clearly better than base" in report.summary(info, qs, rows)["recommendation"]


def test_a_freshness_round_is_in_the_summary_the_line_and_the_report():
    q = questions.make("What is the mascot called?", ["Kaname"])
    q2 = questions.make("What is the mascot called?", ["Hoshino"])
    rows = [AnswerRow(q.key, arm, 0, "Kaname", "complete", [], {}, {"match": arm != "base", "f1": 1.0}, 1.0)
            for arm in ("base", "rag", "finetuned")]
    rows += [AnswerRow(q.key, "rag", 1, "It is Hoshino.", "complete", [], {}, {"match": True}, 1.0),
             AnswerRow(q.key, "finetuned", 1, "Kaname", "complete", [], {}, {"match": False}, 0.4)]
    info = RunInfo(1, "t", "done", RunConfig("m", ("lib",), "ad"), {},
                   [{"round": 1, "reindex_s": 0.5, "questions": 1, "changed_files": 1,
                     "retrain_estimate": "12 steps, about 0.4 GiB, ~40 s"}], None, None, None)
    s = report.summary(info, [q], rows, {1: [q2]})
    [fresh] = s["freshness"]
    assert fresh["arms"]["rag"]["accuracy"] == 1 and fresh["arms"]["finetuned"]["accuracy"] == 0
    assert "rag followed after re-indexing (0.5 s); the adapter did not (retraining: 12 steps" in s["recommendation"]
    page = report.to_html(s, [q], rows)
    assert "round 1: What is the mascot called?" in page and "It is Hoshino." in page and "ref: Hoshino" in page


def test_freshness_and_advice_count_every_adapter_arm_not_only_the_first():
    """A second adapter (issue #27's RAFT arm) is NAME and NAME+rag: after a change NAME+rag follows
    and NAME does not, like rag/both and finetuned; a best NAME+rag arm gets the RAG advice."""
    q = questions.make("What is the mascot called?", ["Kaname"])
    arms = ("base", "rag", "finetuned", "both", "raft", "raft+rag", "other-model")
    rows = [AnswerRow(q.key, arm, 0, "Kaname", "complete", [], {}, {"match": arm == "raft+rag"}, 1.0) for arm in arms]
    rows += [AnswerRow(q.key, arm, 1, "Hoshino" if "rag" in arm else "Kaname", "complete", [], {},
                       {"match": "rag" in arm}, 1.0) for arm in ("raft", "raft+rag", "other-model")]
    info = RunInfo(1, "t", "done", RunConfig("m", ("lib",), "ad", more_adapters=("raft",), other_models=("other-model",)),
                   {}, [{"round": 1, "reindex_s": 0.5, "questions": 1, "changed_files": 1}], None, None, None)
    parts = report.summary(info, [q], rows)["recommendation_parts"]
    assert parts["best"] == "raft+rag" and parts["followed"] == ["raft+rag"] and parts["advice"] == "prefer_rag"
