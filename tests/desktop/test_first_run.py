"""The first-run guide, the "which model answers" line and the Models page's empty state:
real widgets offscreen against a real engine (the built-in SmolLM2, which writes no Japanese)."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication

from engine.bench.hub_server import write_test_gguf
from engine.models.registry import SMOLLM2_NAME

TIMEOUT = 30_000


@pytest.fixture
def made(ctx, qtbot):
    """Widgets to delete (not just close) before the engine closes: a page left alive would
    answer a later test's language switch by asking the closed engine."""
    widgets = []
    yield widgets
    for widget in widgets:
        if shiboken6.isValid(widget):
            widget.close()
            widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def window(ctx, qtbot, made):
    from desktop.main_window import MainWindow

    win = MainWindow(ctx)
    ctx.window = win
    made.append(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def loaded(guide) -> bool:
    return guide.state.get("advice") is not None


def add_japanese_model(ctx, tmp_path) -> str:
    """A real GGUF whose catalog origin says it writes Japanese (as a download records it)."""
    path = write_test_gguf(tmp_path / "ja-Q4_K_M.gguf", 64 * 1024)
    model = ctx.engine.models.add(path, "ja-model")
    ctx.engine.models.registry.set_origin(model.name, {"languages": ["ja", "en"], "licence": "Apache-2.0"})
    return model.name


def test_the_guide_ticks_its_steps_off_and_is_not_shown_again(window, ctx, qtbot, tmp_path, made):
    from desktop.first_run import DONE_KEY, FirstRunGuide

    guide = window.hint
    qtbot.waitUntil(lambda: loaded(guide), timeout=TIMEOUT)
    assert guide.isVisible()
    assert [s.done for s in (guide.library, guide.model, guide.question)] == [False, False, False]
    assert guide.library.button.isVisible() and guide.model.button.isVisible()
    text = guide.model.text.text()  # which model answers, why it is not enough, and what fits here
    assert f"{SMOLLM2_NAME} will answer" in text and "cannot write Japanese" in text
    assert "Recommended for this computer:" in text and "tokens/s" in text

    # The sample question is one click away: it fills the question box, nothing is sent.
    qtbot.mouseClick(guide.question.button, Qt.MouseButton.LeftButton)
    chat = window.page("chat")
    assert chat.input.toPlainText() == guide.sample() and not chat.transcript.views

    (tmp_path / "docs").mkdir()
    ctx.engine.libraries.add(tmp_path / "docs", "rules")
    ctx.notify("libraries")
    qtbot.waitUntil(lambda: guide.library.done, timeout=TIMEOUT)
    assert "rules" in guide.library.text.text() and not guide.library.button.isVisible()

    other = add_japanese_model(ctx, tmp_path)
    ctx.notify("models")
    qtbot.waitUntil(lambda: guide.model.done, timeout=TIMEOUT)
    assert f"Japanese questions go to {other}" in guide.model.text.text()
    assert not guide.model.button.isVisible() and not ctx.settings.get(DONE_KEY, False, bool)

    ctx.engine.conversations.create("")
    ctx.notify("conversations")
    qtbot.waitUntil(lambda: guide.question.done, timeout=TIMEOUT)
    assert ctx.settings.get(DONE_KEY, False, bool) and guide.isVisible()  # all ticked, until hidden
    later = FirstRunGuide(ctx)  # the next start: all done, so no guide
    made.append(later)
    assert not later.wanted() and later.isHidden()


def test_a_user_who_has_everything_already_never_sees_the_guide(ctx, qtbot, tmp_path, made):
    from desktop.first_run import DONE_KEY, FirstRunGuide

    (tmp_path / "docs").mkdir()
    ctx.engine.libraries.add(tmp_path / "docs", "rules")
    add_japanese_model(ctx, tmp_path)
    ctx.engine.conversations.create("")
    guide = FirstRunGuide(ctx)
    made.append(guide)
    guide.refresh()
    qtbot.waitUntil(lambda: loaded(guide), timeout=TIMEOUT)
    assert guide.isHidden() and ctx.settings.get(DONE_KEY, False, bool)


def test_get_models_in_the_guide_opens_the_catalog(window, ctx, qtbot):
    from desktop.models.catalog_dialog import CatalogDialog

    guide = window.hint
    qtbot.waitUntil(lambda: loaded(guide), timeout=TIMEOUT)
    qtbot.mouseClick(guide.model.button, Qt.MouseButton.LeftButton)
    assert window.current_page_name() == "models"
    qtbot.waitUntil(lambda: any(isinstance(w, CatalogDialog) and w.isVisible()
                                for w in QApplication.topLevelWidgets()), timeout=TIMEOUT)
    for w in QApplication.topLevelWidgets():
        if isinstance(w, CatalogDialog):
            w.close()


def test_hiding_the_guide_is_remembered(ctx, qtbot, made):
    from desktop.first_run import DISMISSED_KEY, FirstRunGuide

    guide = FirstRunGuide(ctx)
    made.append(guide)
    guide.show()
    qtbot.mouseClick(guide.hide_button, Qt.MouseButton.LeftButton)
    assert guide.isHidden() and ctx.settings.get(DISMISSED_KEY, False, bool)
    again = FirstRunGuide(ctx)
    made.append(again)
    again.refresh()
    assert again.isHidden()


def test_the_empty_chat_says_which_model_answers_and_why(ctx, qtbot, tmp_path, made):
    from desktop.chat import ChatPage

    page = ChatPage(ctx)
    made.append(page)
    qtbot.waitUntil(lambda: page.advice is not None, timeout=TIMEOUT)
    text = page.transcript.placeholder.text.text()
    assert f"{SMOLLM2_NAME} will answer: the default, but it cannot write Japanese." in text
    assert "Get models" in text  # and what to do about it
    other = add_japanese_model(ctx, tmp_path)
    ctx.notify("models")
    qtbot.waitUntil(lambda: page.advice.reason == "routed", timeout=TIMEOUT)
    assert f"Japanese questions go to {other}" in page.transcript.placeholder.text.text()


def test_the_models_page_with_no_chat_model_says_what_to_do(ctx, qtbot, monkeypatch, made):
    from desktop.models import ModelsPage
    from desktop.models.catalog_dialog import CatalogDialog

    monkeypatch.setenv("BUNKO_DEFAULT_MODEL", "not-installed")  # no built-in model gets registered
    page = ModelsPage(ctx)
    made.append(page)
    page.show()
    qtbot.waitUntil(lambda: page.advice is not None and page.empty.isVisible(), timeout=TIMEOUT)
    assert page.tree.isHidden() and page.empty.title.text() == "No chat model yet"
    assert "No chat model is ready yet" in page.answerer.text()
    qtbot.mouseClick(page.empty.button, Qt.MouseButton.LeftButton)
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, CatalogDialog) and w.isVisible()]
    assert dialogs
    dialogs[0].close()


def test_the_models_page_says_which_model_answers(ctx, qtbot, made):
    from desktop.models import ModelsPage

    page = ModelsPage(ctx)
    made.append(page)
    qtbot.waitUntil(lambda: page.advice is not None and SMOLLM2_NAME in page.models, timeout=TIMEOUT)
    assert page.answerer.text().startswith(f"{SMOLLM2_NAME} will answer:")
    assert page.empty.isHidden() and not page.tree.isHidden()
