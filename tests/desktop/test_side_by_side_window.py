"""The side-by-side window with real widgets offscreen, the real engine and SmolLM2: one question
to two choices, both answers with their citations and times, the better one marked from the
keyboard and saved for the comparison lab; screenshots in Japanese and English, light and
dark, checked for clipped text."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engine.types import GenerationSettings, LoadSettings

sys.path.insert(0, str(Path(__file__).parent / "scripts"))

import page_shots  # noqa: E402

TIMEOUT = 120_000


@pytest.fixture
def library(ctx, tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "travel.md").write_text(
        "# Travel policy\n\n## Daily allowance\nEmployees on a business trip receive a daily travel allowance of "
        "4,700 yen per day.\n", encoding="utf-8")
    ctx.engine.libraries.add(root, "docs")
    ctx.engine.libraries.index("docs")
    return root


def open_dialog(ctx, qtbot, question):
    from desktop.chat.side_by_side import SideBySideDialog

    ctx.settings.set_generation(GenerationSettings(temperature=0.0, max_tokens=16))
    ctx.settings.set_loading(LoadSettings(n_ctx=2048, n_threads=1))
    dialog = SideBySideDialog(ctx, question)
    qtbot.addWidget(dialog)
    dialog.resize(1240, 780)
    dialog.show()
    qtbot.waitUntil(lambda: all(c.options.loaded for c in dialog.columns), timeout=10_000)
    return dialog


@pytest.mark.slow
def test_two_answers_side_by_side_marked_and_saved(ctx, qtbot, styled, library, data_dir, tmp_path):
    from desktop.i18n import apply_language

    dialog = open_dialog(ctx, qtbot, "How much is the daily travel allowance?")
    a, b = dialog.columns
    assert a.side().libraries == ("docs",) and b.side().libraries == ()   # A from the library, B alone
    assert "one after the other" in dialog.note.text()
    assert not dialog.save_button.isEnabled()

    qtbot.mouseClick(dialog.ask_button, Qt.MouseButton.LeftButton)
    assert dialog.ask_button.text() == "Stop"
    qtbot.waitUntil(lambda: not dialog.is_streaming(), timeout=TIMEOUT)
    assert a.answer.sources and a.answer.sources[0].path == "travel.md" and not b.answer.sources
    assert a.view.text and b.view.text and a.view.citations_box is not None
    assert "first token" in a.timing.text() and "s in all" in b.timing.text()
    assert not dialog.save_button.isEnabled()            # nothing marked yet

    dialog.activateWindow()
    dialog._mark_key(1)                                   # what Alt+2 does
    assert b.better.isChecked() and not a.better.isChecked() and dialog.better() == 1
    qtbot.mouseClick(a.better, Qt.MouseButton.LeftButton)
    assert dialog.better() == 0 and not b.better.isChecked()
    assert dialog.save_button.isEnabled()
    dialog.save()
    qtbot.waitUntil(lambda: dialog.saved_path is not None, timeout=10_000)
    rows = [json.loads(x) for x in Path(dialog.saved_path).read_text(encoding="utf-8").splitlines()]
    assert Path(dialog.saved_path) == data_dir / "lab" / "side_by_side.jsonl"
    assert rows[0]["question"] == "How much is the daily travel allowance?" and rows[0]["better"] == "A"
    assert rows[0]["answer"] == a.answer.text.strip() and rows[0]["source"] == "travel.md"
    assert dialog.saved_label.isVisible() and str(dialog.saved_path) in dialog.saved_label.text()

    out = Path(os.environ.get("BUNKO_SCREENSHOTS") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    problems = []
    for lang, theme_name in (("en", "light"), ("ja", "dark")):
        apply_language(lang)
        styled.apply_theme(theme_name)
        QApplication.processEvents()
        dialog.resize(1240, 780)
        page_shots.settle(QApplication.instance(), ctx)
        path = out / f"side-by-side-{lang}-{theme_name}.png"
        assert dialog.grab().save(str(path))
        problems += [f"{lang}/{theme_name}: {p}" for p in page_shots.clipped(dialog)]
    print(f"\nscreenshots: {out}")
    assert dialog.ask_button.text() == "両方に質問" and "順番に" in dialog.note.text()   # followed the language
    assert not problems, problems


def test_opened_from_the_chat_with_its_question_and_choices(ctx, qtbot, library):
    from desktop.chat import ChatPage

    page = ChatPage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.options.loaded, timeout=10_000)
    page.input.setPlainText("Who approves trips?")
    qtbot.keyClick(page.input, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialogs = [w for w in QApplication.topLevelWidgets() if w.objectName() == "sideBySide" and w.isVisible()]
    assert len(dialogs) == 1
    dialog = dialogs[0]
    qtbot.waitUntil(lambda: all(c.options.loaded for c in dialog.columns), timeout=10_000)
    assert dialog.input.toPlainText() == "Who approves trips?"
    assert dialog.columns[0].side().libraries == page.options.options().libraries == ("docs",)
    dialog.close()
