"""The chat page against a real engine and the real SmolLM2 (greedy, short answers)."""

from __future__ import annotations

import statistics
import time

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QInputMethodEvent, QTextFormat, QTextTable
from PySide6.QtWidgets import QApplication

from engine.types import GenerationSettings, LoadSettings, Source

TIMEOUT = 60_000


@pytest.fixture
def docs(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "travel.md").write_text(
        "# Travel policy\n\n## Daily allowance\nEmployees on a business trip receive a daily travel allowance of "
        "4,700 yen per day. Overnight trips add a lodging allowance of 9,800 yen per night.\n", encoding="utf-8")
    (root / "security.md").write_text(
        "# Security rules\n\n## Passwords\nPasswords must be at least 14 characters long and are changed "
        "every 180 days.\n", encoding="utf-8")
    return root


def make_page(ctx, qtbot, max_tokens=24):
    from desktop.chat import ChatPage

    ctx.settings.set_generation(GenerationSettings(temperature=0.0, max_tokens=max_tokens))
    ctx.settings.set_loading(LoadSettings(n_ctx=2048, n_threads=1))
    page = ChatPage(ctx)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    qtbot.waitUntil(lambda: page.options.loaded and page.conversations.loaded, timeout=10_000)
    return page


def ask(qtbot, page, text):
    with qtbot.waitSignal(page.answer_finished, timeout=TIMEOUT) as finished:
        page.ask_text(text)
    return finished.args[0]


def test_rag_answer_cites_previews_regenerates_and_resends(ctx, qtbot, docs, monkeypatch):
    ctx.engine.libraries.add(docs, "docs")
    ctx.engine.libraries.index("docs")
    page = make_page(ctx, qtbot)
    assert page.options.options().libraries == ("docs",)  # a new chat uses every library

    answer = ask(qtbot, page, "How much is the daily travel allowance?")
    assert answer.status == "complete" and answer.text and answer.sources
    user, view = page.transcript.views
    assert user.text == "How much is the daily travel allowance?"
    assert view.text == answer.text and not page.is_streaming()
    first_words = answer.text.lstrip("> ").split()[0].strip("*#[]“”「」")  # it starts with a quoted sentence
    assert first_words in view.body.toPlainText()
    chip = next(c for c in view.chips if "travel.md" in c.text())
    assert chip.text().startswith("[")
    assert view.inferred_label.isVisibleTo(view) == answer.inferred

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    preview = view.preview
    assert preview is not None and preview.isVisible() and not preview.isModal()
    assert "4,700 yen" in preview.passage.toPlainText()
    assert "travel.md" in preview.path_label.text()
    assert preview.file_label.text() == str(docs.resolve() / "travel.md")
    assert preview.highlighted  # the sentences the answer used (or the whole passage)
    qtbot.mouseClick(preview.open_button, Qt.MouseButton.LeftButton)
    assert opened == [QUrl.fromLocalFile(str(docs.resolve() / "travel.md"))]
    preview.close()
    # a citation number in the text is a link to the same preview
    number = answer.citations[0]
    view.body.anchorClicked.emit(QUrl(f"cite:{number}"))
    assert view.preview.source.number == number
    view.preview.close()

    cid = answer.conversation_id
    assert page.conversation_id == cid
    qtbot.waitUntil(lambda: page.conversations.titles() == ["How much is the daily travel allowance?"],
                    timeout=5000)
    assert page.conversations.ids() == [cid]

    # regenerate: the last answer is replaced, in the window and in the database
    assert view.regenerate_button.isVisibleTo(view)
    with qtbot.waitSignal(page.answer_finished, timeout=TIMEOUT) as again:
        qtbot.mouseClick(view.regenerate_button, Qt.MouseButton.LeftButton)
    assert again.args[0].text == answer.text  # greedy: the same words
    assert [v.role for v in page.transcript.views] == ["user", "assistant"]
    assert [m.role for m in ctx.engine.conversations.messages(cid)] == ["user", "assistant"]

    # edit-and-resend: the question changes and is answered again
    user = page.transcript.views[0]
    user.start_edit()
    user.editor.setPlainText("How much is the lodging allowance per night?")
    with qtbot.waitSignal(page.answer_finished, timeout=TIMEOUT) as edited:
        qtbot.mouseClick(user.resend_button, Qt.MouseButton.LeftButton)
    messages = ctx.engine.conversations.messages(cid)
    assert [m.content for m in messages] == ["How much is the lodging allowance per night?", edited.args[0].text]
    assert page.transcript.views[0].body.toPlainText() == "How much is the lodging allowance per night?"
    assert page.transcript.views[1].text == edited.args[0].text


def test_stop_keeps_the_partial_answer(ctx, qtbot):
    page = make_page(ctx, qtbot, max_tokens=300)
    assert page.options.options().libraries == ()  # no library: the model alone
    tokens = []
    page.token_received.connect(tokens.append)
    page.ask_text("Write a long story about a dragon who learns to cook.")
    assert page.is_streaming() and page.send_button.text() == "Stop"
    qtbot.waitUntil(lambda: len(tokens) >= 4, timeout=TIMEOUT)
    with qtbot.waitSignal(page.answer_finished, timeout=TIMEOUT) as finished:
        page.stop()
    answer = finished.args[0]
    assert answer.status == "stopped" and answer.text
    assert answer.stats["completion_tokens"] < 300
    view = page.transcript.views[-1]
    assert view.text == answer.text and view.status == "stopped" and view.status_label.isVisibleTo(view)
    assert not page.is_streaming() and page.send_button.text() == "Send"
    stored = ctx.engine.conversations.messages(answer.conversation_id)[-1]
    assert stored.content == answer.text and stored.status == "stopped"


def test_engine_error_is_shown_and_marked(ctx, qtbot, no_dialogs):
    from desktop.chat import ChatOptions

    page = make_page(ctx, qtbot)
    page.options.set_options(ChatOptions(model="no-such-model"))
    with qtbot.waitSignal(page.answer_failed, timeout=TIMEOUT):
        page.ask_text("Hello?")
    assert no_dialogs and no_dialogs[-1][0] == "warning" and "no-such-model" in no_dialogs[-1][1]
    view = page.transcript.views[-1]
    assert view.status == "error" and "no-such-model" in view.status_label.text()
    assert not page.is_streaming()


def test_search_rename_and_delete_conversations(ctx, qtbot, no_dialogs):
    conversations = ctx.engine.conversations
    a = conversations.create("Budget")
    conversations.add_message(a.id, "user", "What is the budget for 2025?")
    b = conversations.create("出張")
    conversations.add_message(b.id, "user", "出張の日当はいくらですか?")
    c = conversations.create("Passwords")
    page = make_page(ctx, qtbot)
    assert page.conversations.ids() == [c.id, b.id, a.id]  # newest activity first

    page.conversations.search.setText("日当")
    qtbot.waitUntil(lambda: page.conversations.ids() == [b.id], timeout=5000)
    page.conversations.search.setText("BUDGET")  # title or message text, any case
    qtbot.waitUntil(lambda: page.conversations.ids() == [a.id], timeout=5000)
    page.conversations.search.clear()
    qtbot.waitUntil(lambda: len(page.conversations.ids()) == 3, timeout=5000)

    page.conversations.item_for(c.id).setText("Password rules")  # what an inline edit does
    qtbot.waitUntil(lambda: conversations.get(c.id).title == "Password rules", timeout=5000)

    page.conversations.list.setCurrentItem(page.conversations.item_for(a.id))
    qtbot.waitSignal(page.conversation_shown, timeout=5000)
    qtbot.waitUntil(lambda: len(page.transcript.views) == 1, timeout=5000)
    qtbot.mouseClick(page.conversations.delete_button, Qt.MouseButton.LeftButton)
    assert no_dialogs and no_dialogs[-1][0] == "question"
    qtbot.waitUntil(lambda: a.id not in page.conversations.ids(), timeout=5000)
    assert [x.id for x in conversations.list()] == [c.id, b.id]
    assert page.conversation_id is None and not page.transcript.views  # back to a new chat

    page.new_conversation()
    assert page.conversation_id is None and page.conversations.list.currentItem() is None


def test_stored_answer_renders_markdown_and_citations(ctx, qtbot, docs):
    conversations = ctx.engine.conversations
    conv = conversations.create("Markdown")
    conversations.add_message(conv.id, "user", "Show me a table")
    source = Source(1, "docs", "travel.md", str(docs / "travel.md"), "Daily allowance",
                    "Employees receive a daily travel allowance of 4,700 yen per day.")
    answer = ("Here it is [1]:\n\n| Item | Yen |\n|---|---|\n| Daily | 4,700 |\n\n"
              "```python\nprint(a[1])\n```\n\n- one\n- two\n")
    conversations.add_message(conv.id, "assistant", answer, sources=[source.as_dict()], citations=[1],
                              stats={"citations_inferred": True})
    page = make_page(ctx, qtbot)
    with qtbot.waitSignal(page.conversation_shown, timeout=5000):
        page.conversations.list.setCurrentItem(page.conversations.item_for(conv.id))
    user, view = page.transcript.views
    assert user.body.toPlainText() == "Show me a table"
    doc = view.body.document()
    assert any(isinstance(f, QTextTable) for f in doc.rootFrame().childFrames())
    blocks, block = [], doc.begin()
    while block.isValid():
        blocks.append(block)
        block = block.next()
    code = [b for b in blocks if b.blockFormat().hasProperty(QTextFormat.Property.BlockCodeFence)]
    assert code and code[0].text() == "print(a[1])"  # code keeps its [1]: not a link
    assert any(b.textList() is not None for b in blocks)
    assert 'href="cite:1"' in doc.toHtml()
    assert [c.text() for c in view.chips] == ["[1] travel.md · Daily allowance"]
    assert view.inferred_label.isVisibleTo(view)
    assert not view.sources_list.isVisibleTo(view)
    view.sources_toggle.click()
    assert view.sources_list.isVisibleTo(view) and len(view.source_buttons) == 1

    # the chat's options are stored on it
    dialog = page.options.edit_system_prompt()
    dialog.editor.setPlainText("Answer briefly, in Japanese.")
    dialog.accept()
    qtbot.waitUntil(lambda: conversations.get(conv.id).system_prompt == "Answer briefly, in Japanese.",
                    timeout=5000)


def test_enter_sends_but_not_while_an_input_method_composes(qtbot):
    from desktop.chat import ChatInput

    box = ChatInput()
    qtbot.addWidget(box)
    box.show()
    box.setFocus()
    sent = []
    box.submitted.connect(lambda: sent.append(box.toPlainText()))

    QApplication.sendEvent(box, QInputMethodEvent("にほんご", []))
    assert box.composing
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert sent == []  # this Enter confirms the conversion
    commit = QInputMethodEvent("", [])
    commit.setCommitString("日本語")
    QApplication.sendEvent(box, commit)
    assert not box.composing and box.toPlainText() == "日本語"
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert sent == [] and box.toPlainText() == "日本語\n"
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert sent == ["日本語\n"]


def test_citation_links_skip_code():
    from desktop.chat.markdown import link_citations

    assert link_citations("Yes [1] and [2, 3].", {1, 2, 3}) == \
        "Yes [\\[1\\]](cite:1) and [\\[2\\]](cite:2)[\\[3\\]](cite:3)."
    assert link_citations("`a[1]` [9] [1]", {1}) == "`a[1]` [9] [\\[1\\]](cite:1)"
    assert link_citations("```\nx[1]\n```\n[1]", {1}) == "```\nx[1]\n```\n[\\[1\\]](cite:1)"
    assert link_citations("Here [1]:\n[1]: https://example.com", {1}) == \
        "Here [\\[1\\]](cite:1):\n[1]: https://example.com"


def test_a_2000_token_stream_keeps_each_update_cheap(qtbot):
    """Sanity check (the benchmark measures for real): per-update cost must not grow with the answer."""
    from desktop.chat import MessageView, Transcript

    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.resize(800, 600)
    transcript.show()
    view = transcript.add(MessageView("assistant"))
    view.start_stream()
    words = "The daily allowance is **4,700 yen** [1], paid per `day` of travel.".split(" ")
    pieces = []
    for i in range(2000):
        pieces.append(words[i % len(words)] + " ")
        if i % 80 == 79:
            pieces.append("\n\n")
        if i % 500 == 499:
            pieces.append("\n\n```python\nx = 1\n\ny = 2\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n")
    costs = []
    bar = transcript.verticalScrollBar()
    for i, piece in enumerate(pieces):
        if i == len(pieces) // 2:  # the reader scrolls up: the view stays where they are
            bar.setValue(0)
            assert not transcript.follow
        if i == len(pieces) // 2 + 100:
            assert bar.value() == 0
            bar.setValue(bar.maximum())  # and back to the end: following again
        view.append_text(piece)
        if i % 4 == 3:  # about one update per 50 ms at 80 tokens/s
            start = time.perf_counter()
            view.flush()
            QApplication.processEvents()
            costs.append(time.perf_counter() - start)
    tenth = len(costs) // 10
    first, last = statistics.median(costs[:tenth]), statistics.median(costs[-tenth:])
    assert last < 3 * first + 0.002, (first, last)
    assert transcript.follow and bar.value() == bar.maximum() > 0
    view.finish(None)
    assert "4,700 yen" in view.body.toPlainText() and "**" not in view.body.toPlainText()
    assert view.text == "".join(pieces)


def test_switching_to_japanese_while_running_translates_the_chat_page(ctx, qtbot):
    """The chat's own words (search box, New chat, the options bar, the question box, Send)
    follow a language change at once, as the navigation does; before, they stayed English."""
    from desktop.i18n import apply_language

    page = make_page(ctx, qtbot)

    def words() -> dict[str, str]:
        return {"search": page.conversations.search.placeholderText(),
                "new": page.conversations.new_button.text(), "mode": page.options.mode.itemText(0),
                "prompt": page.options.prompt_text, "input": page.input.placeholderText(),
                "send": page.send_button.text()}

    english = words()
    assert english["new"] == "New chat" and english["send"] == "Send"
    try:
        apply_language("ja")
        QApplication.processEvents()
        japanese = words()
        for key, text in japanese.items():
            assert text and text != english[key], key
            assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text), (key, text)
        assert page.options.mode.count() == 4
    finally:
        apply_language("en")
    QApplication.processEvents()
    assert page.conversations.new_button.text() == "New chat"
    assert page.options.mode.itemText(0) == "Model alone"
