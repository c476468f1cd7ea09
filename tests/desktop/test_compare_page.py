"""The Compare page against a real engine and the built-in SmolLM2: a question file with a bad
row, the table edited, a run with progress, the results table, the side-by-side view, export;
freshness with the real mascot adapter; other models as extra arms."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QTableWidgetItem

from desktop.widgets import BADGE_ROLE, PROGRESS_ROLE, TONE_ROLE, StatusDelegate
from tests.engine.conftest import mascot_db  # noqa: F401 - the real trained adapter (a session fixture)

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
    assert page.results_stack.currentWidget() is page.no_run    # no run chosen: what to do, not empty boxes
    page.tabs.setCurrentIndex(1)
    page.no_run.button.click()
    assert page.tabs.currentIndex() == 0
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
    assert page.results_stack.currentIndex() == 1
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


@pytest.fixture
def mascot_page(qtbot, data_dir, embedder_dir, no_dialogs, mascot_db):
    """The page on a copy of the database with the real mascot adapter, a library holding the
    fact and a finished rag/finetuned run on the mascot question."""
    import shutil

    from desktop.compare import ComparePage
    from desktop.context import AppContext
    from desktop.settings import Settings
    from engine.api import Engine, make_question
    from tests.engine.lora_fixture import MASCOT_FACT, MASCOT_QUESTIONS

    db = data_dir / "bunko.duckdb"
    shutil.copy(mascot_db, db)
    docs = data_dir / "docs"
    docs.mkdir()
    (docs / "mascot.md").write_text(f"# Our mascot\n\n{MASCOT_FACT} Kaname likes rivers.\n", encoding="utf-8")
    (docs / "office.md").write_text("# Office hours\n\nThe office opens at nine.\n", encoding="utf-8")
    engine = Engine.open(db, embedder_dir)
    engine.libraries.index(engine.libraries.add(docs, "facts").name)
    run = engine.lab.create([make_question(MASCOT_QUESTIONS[0], ["Kaname"], "mascot.md")], libraries=["facts"],
                                job="mascot", arms=["rag", "finetuned"], max_tokens=24)
    engine.lab.run(run.id)
    ctx = AppContext(engine, Settings(data_dir / "settings.ini"))
    widget = ComparePage(ctx)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.runs.count() == 1, timeout=TIMEOUT)
    yield widget, docs, run.id
    ctx.shut_down(30)
    engine.close()


def test_freshness_on_the_page_rag_follows_and_the_adapter_does_not(mascot_page, qtbot, no_dialogs):
    page, docs, run_id = mascot_page
    page.show_run(run_id)
    qtbot.waitUntil(lambda: page.per_question.rowCount() == 1, timeout=TIMEOUT)
    assert "Preparation, RAG index facts" in page.details.toPlainText()
    assert "index seconds" in page.details.toPlainText()
    assert " MiB" in page.details.toPlainText()   # the index size, readable and as in the exports
    table = page.table   # every arm's row in view, none behind a scroll bar
    assert table.minimumHeight() == table.maximumHeight() >= sum(table.rowHeight(r) for r in range(table.rowCount())) > 0
    page.show_question(0)  # fills the panel with the question and its document
    box = page.freshness
    assert box.question.text().startswith("What is the name") and box.document.text() == "mascot.md"
    box.answer.setText("Hoshino")
    box.text.setPlainText("# Our mascot\n\nThe Bunko mascot is a green frog named Hoshino. Hoshino likes ponds.\n")
    box.button.click()
    assert not box.button.isEnabled()
    qtbot.waitUntil(lambda: "round 1" in box.result.text(), timeout=TIMEOUT * 3)
    assert no_dialogs == []
    text = box.result.text()
    assert "Follows: rag." in text and "Does not follow: finetuned." in text, text
    assert "Retraining the adapter (estimate)" in text and "steps" in text
    assert "Hoshino" in (docs / "mascot.md").read_text(encoding="utf-8")
    assert box.button.isEnabled() and page.run_button.isEnabled()


def test_freshness_needs_a_run_and_an_answer(page):
    page.freshness.question.setText("Who?")
    page.freshness.start()
    assert "Choose a run" in page.freshness.result.text()


def test_other_models_are_offered_as_extra_arms(page):
    names = [page.models_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(page.models_list.count())]
    assert page.base_box.currentText() in names
    for i in range(page.models_list.count()):
        page.models_list.item(i).setCheckState(Qt.CheckState.Checked)
    assert page.base_box.currentText() not in page.chosen_models()  # the base model is the base arm already
    assert set(page.chosen_models()) == set(names) - {page.base_box.currentText()}


def test_the_recommendation_and_verdicts_are_in_the_users_language(qapp, styled):
    """The engine gives the recommendation as data; the page words it (desktop.compare.wording: it was English
    on a Japanese page)."""
    from desktop.compare.wording import recommendation, verdict
    from desktop.i18n import apply_language
    from engine.lab.report import recommendation_parts, worded

    parts = {"best": "rag", "accuracy": 0.76, "answered": 100, "beaten": ["base"], "tied": ["both"],
             "followed": ["rag"], "reindex_s": 3.6, "retrain": None, "advice": "prefer_rag"}
    summary = {"recommendation": "(the engine's English)", "recommendation_parts": parts}
    english = recommendation(summary)
    assert english.startswith("rag answers best (76% of 100); clearly better than base; not clearly better than "
                              "both on this many questions. After a document changed, rag followed")
    assert english.endswith("fine-tune for style and format.")
    pair = {"a": "base", "b": "rag", "verdict": "rag better than base", "winner": "rag"}
    assert verdict(pair) == "rag better than base"
    apply_language("ja")
    japanese = recommendation(summary)
    assert japanese.startswith("最も正答率が高いのは rag（100 問中 76%）。base より明らかに良い") and japanese.endswith("。")
    assert "answers best" not in japanese and "3.6 秒" in japanese
    assert verdict(pair) == "rag が base より良い"
    assert verdict({**pair, "verdict": "no clear difference", "winner": None}) == "はっきりした差なし"
    # the engine's own line (CLI, exports) says the same from the same parts
    arms = [{"arm": "base", "answered": 100, "accuracy": 0.07, "seconds": 1.0},
            {"arm": "rag", "answered": 100, "accuracy": 0.76, "seconds": 7.0}]
    assert worded(recommendation_parts({"arms": arms, "pairs": [pair]})) == \
        "rag answers best (76% of 100); clearly better than base."
    # the retraining estimate is worded from its numbers (it was the engine's English string)
    detail = {"text": "12 steps, about 0.4 GiB, ~40 s", "steps": 12, "memory_bytes": 0.4 * 2 ** 30,
              "seconds": 40.0, "device": "cpu"}
    japanese = recommendation({"recommendation_parts": {**parts, "retrain": detail["text"], "retrain_detail": detail}})
    assert "12 ステップ" in japanese and "steps" not in japanese, japanese
    unknown = recommendation({"recommendation_parts": {**parts, "retrain_detail": {"text": "x", "no_job": True}}})
    assert "このデータフォルダで学習されていないアダプター" in unknown, unknown
