"""Question files for the comparison lab: numbers as answers are answers, not a crash."""

from __future__ import annotations

import json

from engine.lab.questions import read_jsonl


def test_a_numeric_answer_is_read_as_text_and_bad_rows_are_listed():
    lines = [json.dumps({"question": "How many days of leave?", "answers": [20, "二十日"]}),
             json.dumps({"question": "What is the fee?", "answer": 3000}),
             json.dumps({"question": "No answer here", "answers": [None]}),
             "not json"]
    qs = read_jsonl(lines, "q.jsonl")
    assert [q.references for q in qs.questions] == [("20", "二十日"), ("3000",)]
    assert [p.line for p in qs.problems] == [3, 4]
