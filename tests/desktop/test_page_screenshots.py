"""Every page in light and dark, Japanese and English, with realistic content (an indexed
library, a cited Japanese answer with a table and code, fine-tuning jobs with a loss curve)
and empty (first run): drawn offscreen, saved as PNGs, and checked for labels and buttons
whose text does not fit. Runs at 125, 150 and 200 % (QT_SCALE_FACTOR, so each in a child process).

The images go to $BUNKO_SCREENSHOTS when set, else to the test's tmp folder; the path is printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).parent / "scripts"
sys.path.insert(0, str(SCRIPTS))

import page_shots  # noqa: E402


@pytest.fixture
def out_dir(tmp_path):
    folder = Path(os.environ.get("BUNKO_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder


def _not_blank(path: Path) -> None:
    image = QImage(str(path))
    assert not image.isNull() and image.width() >= 800, path
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 12, f"{path.name} is nearly blank"


def test_every_page_light_dark_japanese_english(ctx, qtbot, styled, out_dir, tmp_path):
    from desktop.context import AppContext
    from desktop.i18n import apply_language
    from desktop.main_window import MainWindow

    app = QApplication.instance()
    window = MainWindow(ctx)
    ctx.window = window
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.create_pages()
    files, problems = [], []

    # first run: nothing yet, each page says what to do next with its button
    for lang, theme_name in (("ja", "light"), ("en", "dark")):
        apply_language(lang)
        styled.apply_theme(theme_name)
        shot, bad = page_shots.shoot(app, window, ctx, out_dir, f"empty-{lang}-{theme_name}",
                                     ("chat", "libraries", "finetune"))
        files += shot
        problems += bad
    libraries, finetune = window.page("libraries"), window.page("finetune")
    assert libraries.empty.isVisibleTo(libraries) and libraries.empty.button.text()
    assert finetune.empty.isVisibleTo(finetune) and not finetune.detail.isVisibleTo(finetune)
    assert not finetune.new_button.isVisibleTo(finetune)       # one "New fine-tune…": the empty state's
    assert window.page("chat").transcript.placeholder.isVisibleTo(window.page("chat"))

    conversation = page_shots.add_content(ctx.engine, tmp_path / "docs")
    window.hide()
    contexts = []
    for lang in ("ja", "en"):  # a window built in each language, as after a restart
        apply_language(lang)
        # its own context (runner): the hidden window's keyed reads must not answer this one's
        own = AppContext(ctx.engine, ctx.settings)
        contexts.append(own)
        window = MainWindow(own)
        own.window = window
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        window.create_pages()
        page_shots.settle(app, own, 0.5)
        page_shots.show_content(app, window, own, conversation)
        libraries, finetune = window.page("libraries"), window.page("finetune")
        qtbot.waitUntil(lambda: libraries.table.rowCount() == 1, timeout=10000)  # noqa: B023 (waited on here)
        assert not libraries.empty.isVisibleTo(libraries)
        assert finetune.model.rowCount() == 2 and finetune.detail.view.curve.points
        for theme_name in ("light", "dark"):
            styled.apply_theme(theme_name)
            shot, bad = page_shots.shoot(app, window, own, out_dir, f"{lang}-{theme_name}")
            files += shot
            problems += bad
        window.hide()
    chat = window.page("chat")
    answer = chat.transcript.views[-1]
    assert [c.text() for c in answer.chips] == ["[1] 旅費規程.md · 旅費規程 > 第3条 日当",
                                                "[2] 旅費規程.md · 旅費規程 > 第4条 宿泊費"]
    assert "4,700" in answer.chips[0].toolTip()               # the hover preview shows the passage
    assert "38.4" in answer.meta_label.text() and "CPU" in answer.meta_label.text()
    question = chat.transcript.views[0]
    assert question.geometry().right() > answer.geometry().center().x()  # the question sits on the right
    assert question.width() < answer.width()

    for path in files:
        _not_blank(path)
    assert len(files) == 6 + 4 * len(page_shots.PAGE_NAMES)
    for own in contexts:
        own.shut_down(10)
    assert not problems, "\n".join(problems)


def test_collapsed_navigation_is_remembered(ctx, qtbot, styled):
    from desktop.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    wide = window.nav.width()
    window.collapse_button.click()
    assert window.navigation_collapsed() and window.nav.width() < wide / 2
    assert window.nav.item(1).text() == "" and window.nav.item(1).toolTip() == "Libraries"
    again = MainWindow(ctx)
    qtbot.addWidget(again)
    assert again.navigation_collapsed()
    again.set_navigation_collapsed(False)
    assert again.nav.item(1).text() == "Libraries" and not again.nav.item(1).icon().isNull()


@pytest.mark.parametrize("factor, lang, theme_name", [("1.25", "en", "dark"), ("1.5", "ja", "dark"),
                                                     ("2", "ja", "light")])
def test_pages_at_125_150_200_percent_have_no_clipped_text(tmp_path, out_dir, factor, lang, theme_name):
    """Each scale in its own process (QT_SCALE_FACTOR is read when Qt starts): every page drawn,
    nothing clipped, and the 1280×800 window keeps its size in device-independent pixels."""
    data = tmp_path / "data"
    data.mkdir()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": factor, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(SCRIPTS / "page_shots.py"), str(data), str(out_dir), lang, theme_name],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(result["files"]) == len(page_shots.PAGE_NAMES)
    for path in result["files"]:
        _not_blank(Path(path))
        image = QImage(path)
        assert (image.width(), image.height()) == (round(1280 * float(factor)), round(800 * float(factor))), path
    assert not result["problems"], "\n".join(result["problems"])
