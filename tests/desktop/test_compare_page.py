"""The Compare page against a real engine and the built-in SmolLM2: a question file with a bad
row, the table edited, a run with progress, the results table, the side-by-side view, export."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from PySide6.QtWidgets import QFileDialog, QTableWidgetItem

from desktop.widgets import BADGE_ROLE, PROGRESS_ROLE, TONE_ROLE, StatusDelegate

TIMEOUT = 120_000


@pytest.fixture
def page(ctx, qtbot):
    from desktop.compare import ComparePage

    widget = ComparePage(ctx)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.base_box.count() > 0, timeout=TIMEOUT)
    return widget


def test_loads_runs_and_shows_a_comparison(page, qtbot, tmp_path, monkeypatch, no_dialogs):
    path = tmp_path / "qs.jsonl"
    path.write_text("\n".join([json.dumps({"question": "What is 2 + 2?", "answers": ["4", "four"]}),
                               '{"question": "broken',
                               json.dumps({"question": "What colour is the sky?", "answer": "blue"})]),
                    encoding="utf-8")
    page.load_questions_file(str(path))
    qtbot.waitUntil(lambda: page.questions.rowCount() == 2, timeout=TIMEOUT)
    assert "line 2" in page.problems.text()
    page.questions.setItem(1, 1, QTableWidgetItem("blue | azure"))  # reviewed and edited before use
    assert page.edited_questions()[1].references == ("blue", "azure")
    page.max_tokens.setValue(8)
    seen = []
    page.ctx.runner._relay.progress.connect(lambda _t, p: seen.append(p))
    page.start_run()
    assert not page.run_button.isEnabled() and page.stop_button.isEnabled()
    qtbot.waitUntil(lambda: page.run_button.isEnabled() and page.table.rowCount() == 1, timeout=TIMEOUT)
    assert no_dialogs == []
    assert seen and seen[-1].done == seen[-1].total == 2 and seen[-1].eta_s == 0
    assert "Finished" in page.progress_label.text()
    assert page.table.item(0, 0).text() == "base" and page.table.item(0, 1).text() == "2"
    assert page.runs.count() == 1 and page.per_question.rowCount() == 2 and page.per_question.columnCount() == 2
    run = page.runs.item(0)   # the run's status as the same badge as the other pages' tables
    assert (run.data(BADGE_ROLE), run.data(TONE_ROLE), run.data(PROGRESS_ROLE)) == ("done", "success", None)
    assert isinstance(page.runs.itemDelegate(), StatusDelegate)
    page.show_question(1)
    assert "azure" in page.side_by_side.toHtml()
    out = tmp_path / "r.html"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    page.export()
    qtbot.waitUntil(out.exists, timeout=TIMEOUT)
    HTMLParser().feed(out.read_text(encoding="utf-8"))
    assert "What colour is the sky?" in out.read_text(encoding="utf-8")


def test_a_refused_choice_is_said_in_words(page, no_dialogs):
    page.questions.setRowCount(1)
    page.questions.setItem(0, 0, QTableWidgetItem("Who?"))
    page.questions.setItem(0, 1, QTableWidgetItem("me"))
    page.base_box.addItem("not-installed")
    page.base_box.setCurrentText("not-installed")
    page.start_run()
    assert no_dialogs and "not installed" in no_dialogs[0][1]
    assert page.run_button.isEnabled()


def test_no_questions_no_run(page):
    page.start_run()
    assert "questions first" in page.progress_label.text()
