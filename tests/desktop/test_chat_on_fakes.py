"""The chat page's logic with the scripted model (tests/fakes.py) in place of llama.cpp: the
streamed answer, its citation chips and preview, regenerate, stop, and the answer kept.
The same page with the real SmolLM2 is test_chat_page.py (the end-to-end tier)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl

from engine.types import GenerationSettings, LoadSettings

TIMEOUT = 20_000
ANSWER = "Each trip day is paid at 4,700 yen [1]."


@pytest.fixture
def page(ctx, qtbot, tmp_path, scripted_model):
    from desktop.chat import ChatPage

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "travel.md").write_text("# Travel policy\n\n## Daily allowance\nEmployees on a business trip receive a "
                                    "daily travel allowance of 4,700 yen per day.\n", encoding="utf-8")
    (docs / "security.md").write_text("# Security rules\n\nPasswords must be at least 14 characters long.\n",
                                      encoding="utf-8")
    ctx.engine.libraries.index(ctx.engine.libraries.add(docs, "docs").name)
    scripted_model.on("How much is the daily", ANSWER)   # the question, not its sources
    ctx.settings.set_generation(GenerationSettings(temperature=0.0, max_tokens=64))
    ctx.settings.set_loading(LoadSettings(n_ctx=2048, n_threads=1))
    widget = ChatPage(ctx)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitUntil(lambda: widget.options.loaded and widget.conversations.loaded, timeout=10_000)
    return widget


def ask(qtbot, page, text):
    with qtbot.waitSignal(page.answer_finished, timeout=TIMEOUT) as finished:
        page.ask_text(text)
    return finished.args[0]


def test_a_scripted_answer_is_shown_cited_and_regenerated(page, ctx, qtbot, scripted_model):
    answer = ask(qtbot, page, "How much is the daily travel allowance?")
    assert answer.status == "complete" and answer.text.endswith(ANSWER)
    assert answer.sources[0].path == "travel.md" and answer.cited[0].path == "travel.md"
    user, view = page.transcript.views
    assert user.text == "How much is the daily travel allowance?" and view.text == answer.text
    assert "Each trip day is paid at 4,700 yen" in view.body.toPlainText()
    chip = next(c for c in view.chips if "travel.md" in c.text())
    assert chip.text().startswith("[")
    view.body.anchorClicked.emit(QUrl(f"cite:{answer.citations[0]}"))
    assert view.preview is not None and "4,700 yen" in view.preview.passage.toPlainText()
    view.preview.close()
    qtbot.waitUntil(lambda: page.conversations.titles() == ["How much is the daily travel allowance?"],
                    timeout=5000)

    scripted_model.rules.insert(0, ("How much is the daily", "Trips pay 4,700 yen for every day [1]."))
    with qtbot.waitSignal(page.answer_finished, timeout=TIMEOUT) as again:
        view.regenerate_button.click()
    assert again.args[0].text.endswith("Trips pay 4,700 yen for every day [1].")
    assert [v.role for v in page.transcript.views] == ["user", "assistant"]
    messages = ctx.engine.conversations.messages(answer.conversation_id)
    assert [m.content for m in messages] == ["How much is the daily travel allowance?", again.args[0].text]
    assert len(scripted_model.models) == 1   # loaded once for both answers


def test_stop_keeps_the_partial_scripted_answer(page, ctx, qtbot, scripted_model):
    scripted_model.default = " ".join(f"word{i}" for i in range(200))
    scripted_model.delay_s = 0.02
    tokens = []
    page.token_received.connect(tokens.append)
    page.ask_text("Tell me a long story")
    assert page.is_streaming() and page.send_button.text() == "Stop"
    qtbot.waitUntil(lambda: len(tokens) >= 4, timeout=TIMEOUT)
    with qtbot.waitSignal(page.answer_finished, timeout=TIMEOUT) as finished:
        page.stop()
    answer = finished.args[0]
    assert answer.status == "stopped" and "word0 word1 word2" in answer.text
    assert answer.stats["completion_tokens"] < 200 and not page.is_streaming()
    view = page.transcript.views[-1]
    assert view.text == answer.text and view.status == "stopped" and page.send_button.text() == "Send"
    [_, kept] = ctx.engine.conversations.messages(answer.conversation_id)
    assert kept.status == "stopped" and kept.content == answer.text
