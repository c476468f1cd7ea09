"""Chat history in a real DuckDB file: it must survive closing and reopening."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.chat.conversations import DEFAULT_TITLE, Conversations, auto_title
from engine.errors import BunkoError, ConversationNotFoundError, MessageNotFoundError
from engine.store import open_store


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "b.duckdb"


@pytest.fixture
def chats(db: Path):
    store = open_store(db)
    yield Conversations(store)
    store.close()


SOURCES = [{"n": 1, "path": "規程/就業規則.pdf", "page": 3, "text": "有給休暇は年20日", "score": 0.83}]


def test_create_and_get(chats: Conversations) -> None:
    c = chats.create(system_prompt="丁寧に答えて", model="qwen", adapter="hr-lora",
                     adapter_scale=0.5, libraries=["社内規程", "manuals"], settings={"temperature": 0.2})
    assert c.title == DEFAULT_TITLE
    assert (c.system_prompt, c.model, c.adapter, c.adapter_scale) == ("丁寧に答えて", "qwen", "hr-lora", 0.5)
    assert c.libraries == ("社内規程", "manuals")
    assert c.settings == {"temperature": 0.2}
    assert c.n_messages == 0
    assert chats.get(c.id) == c
    plain = chats.create("Plain")
    assert (plain.title, plain.libraries, plain.settings, plain.adapter_scale) == ("Plain", (), {}, 1.0)
    assert plain.id == c.id + 1


def test_messages_in_order_and_first_question_names_the_chat(chats: Conversations) -> None:
    c = chats.create()
    q = chats.add_message(c.id, "user", "有給休暇は何日ありますか？\n詳しく教えてください。")
    a = chats.add_message(c.id, "assistant", "年20日です[1]。", sources=SOURCES, citations=[1],
                          model="qwen", settings={"temperature": 0.2},
                          stats={"tokens": 7, "ttft_s": 0.12})
    assert (q.seq, a.seq) == (1, 2)
    assert q.role == "user" and q.sources == [] and q.citations == [] and q.status == "complete"
    assert a.sources == SOURCES and a.citations == [1] and a.stats["tokens"] == 7
    got = chats.get(c.id)
    assert got.title == "有給休暇は何日ありますか？"
    assert got.n_messages == 2
    assert got.updated_at >= c.updated_at
    assert [m.id for m in chats.messages(c.id)] == [q.id, a.id]
    chats.add_message(c.id, "user", "別の質問")  # only the first question names it
    assert chats.get(c.id).title == "有給休暇は何日ありますか？"
    named = chats.create("Kept")
    chats.add_message(named.id, "user", "something else")
    assert chats.get(named.id).title == "Kept"


def test_list_newest_activity_first_and_search(chats: Conversations) -> None:
    a = chats.create("Vacation rules")
    b = chats.create("Expenses")
    c = chats.create("経費精算について")
    assert [x.id for x in chats.list()] == [c.id, b.id, a.id]
    chats.add_message(a.id, "user", "出張の日当はいくらですか")
    assert [x.id for x in chats.list()] == [a.id, c.id, b.id]
    assert [x.id for x in chats.list(limit=2)] == [a.id, c.id]
    assert [x.id for x in chats.list("日当")] == [a.id]  # a Japanese word in a message
    assert [x.id for x in chats.list("経費")] == [c.id]  # a Japanese word in a title
    assert [x.id for x in chats.list("vacATION")] == [a.id]  # case does not matter
    assert [x.id for x in chats.list("  ")] == [a.id, c.id, b.id]
    assert chats.list("no such thing") == []


def test_search_escapes_like_wildcards(chats: Conversations) -> None:
    pct = chats.create("Growth 100% sure")
    under = chats.create("snake_case names")
    chats.create("Growth 1000 sure")
    chats.create("snakeXcase names")
    assert [x.id for x in chats.list("100%")] == [pct.id]
    assert [x.id for x in chats.list("e_c")] == [under.id]
    assert chats.list("%") == [chats.get(pct.id)]
    assert chats.list("\\") == []


def test_rename_and_update(chats: Conversations) -> None:
    c = chats.create()
    assert chats.rename(c.id, "  給与の質問  ").title == "給与の質問"
    assert chats.rename(c.id, "").title == DEFAULT_TITLE
    assert chats.update(c.id, libraries="社内規程").libraries == ("社内規程",)
    u = chats.update(c.id, settings={"temperature": 0.7, "top_p": 0.9}, libraries=("A",),
                     model="llama", adapter=None, adapter_scale=0.8, system_prompt="短く")
    assert u.settings == {"temperature": 0.7, "top_p": 0.9}
    assert (u.libraries, u.model, u.adapter, u.adapter_scale, u.system_prompt) == (("A",), "llama", None, 0.8, "短く")
    assert u.updated_at == c.updated_at  # settings are not activity: the chat keeps its place
    with pytest.raises(ValueError, match="colour"):
        chats.update(c.id, colour="red")


def test_update_message_while_streaming_and_when_stopped(chats: Conversations) -> None:
    c = chats.create()
    chats.add_message(c.id, "user", "質問")
    m = chats.add_message(c.id, "assistant", "", status="streaming", sources=SOURCES)
    m = chats.update_message(m.id, content="途中まで")
    assert (m.content, m.status, m.sources) == ("途中まで", "streaming", SOURCES)
    m = chats.update_message(m.id, content="途中まで書いた", status="stopped", citations=[1],
                             stats={"tokens": 5})
    assert (m.status, m.citations, m.stats) == ("stopped", [1], {"tokens": 5})
    with pytest.raises(ValueError, match="role"):
        chats.update_message(m.id, role="user")
    with pytest.raises(ValueError, match="status"):
        chats.update_message(m.id, status="finished")
    with pytest.raises(ValueError, match="role"):
        chats.add_message(c.id, "tool", "x")


def test_truncate_for_regenerate_and_edit(chats: Conversations) -> None:
    c = chats.create()
    chats.add_message(c.id, "user", "Q1")
    chats.add_message(c.id, "assistant", "A1")
    chats.add_message(c.id, "user", "Q2")
    a2 = chats.add_message(c.id, "assistant", "A2")
    # Regenerate: drop the answer, write a new one in its place.
    assert chats.truncate(c.id, a2.seq) == 1
    new = chats.add_message(c.id, "assistant", "A2, again")
    assert new.seq == a2.seq
    assert [m.content for m in chats.messages(c.id)] == ["Q1", "A1", "Q2", "A2, again"]
    # Edit and resend: drop the question and all after it.
    assert chats.truncate(c.id, 3) == 2
    chats.add_message(c.id, "user", "Q2 (edited)")
    assert [(m.seq, m.content) for m in chats.messages(c.id)] == [(1, "Q1"), (2, "A1"), (3, "Q2 (edited)")]
    assert chats.truncate(c.id, 99) == 0


def test_delete_message_and_conversation(chats: Conversations) -> None:
    c = chats.create()
    q = chats.add_message(c.id, "user", "Q")
    a = chats.add_message(c.id, "assistant", "A")
    other = chats.create("other")
    kept = chats.add_message(other.id, "user", "stays")
    chats.delete_message(a.id)
    assert [m.id for m in chats.messages(c.id)] == [q.id]
    chats.delete(c.id)
    with pytest.raises(ConversationNotFoundError):
        chats.get(c.id)
    with pytest.raises(MessageNotFoundError):
        chats.message(q.id)
    assert chats.messages(other.id) == [kept]
    assert [x.id for x in chats.list()] == [other.id]


def test_unknown_ids_raise_errors_people_can_read(chats: Conversations) -> None:
    for call in (lambda: chats.get(42), lambda: chats.messages(42), lambda: chats.rename(42, "x"),
                 lambda: chats.update(42, model="m"), lambda: chats.delete(42),
                 lambda: chats.add_message(42, "user", "hi"), lambda: chats.truncate(42, 1)):
        with pytest.raises(ConversationNotFoundError, match="42"):
            call()
    for call in (lambda: chats.message(7), lambda: chats.update_message(7, content="x"),
                 lambda: chats.delete_message(7)):
        with pytest.raises(MessageNotFoundError, match="7"):
            call()
    assert issubclass(ConversationNotFoundError, BunkoError)
    assert issubclass(MessageNotFoundError, BunkoError)


def test_everything_survives_reopening(db: Path) -> None:
    store = open_store(db)
    chats = Conversations(store)
    c = chats.create(libraries=["社内規程"], settings={"max_tokens": 512}, adapter="hr")
    chats.add_message(c.id, "user", "退職金の計算方法は？")
    chats.add_message(c.id, "assistant", "勤続年数で決まります[1]。", sources=SOURCES, citations=[1],
                      status="stopped", stats={"tokens_per_s": 41.5})
    chats.create("空のチャット")
    before = (chats.list(), chats.messages(c.id))
    store.close()

    store = open_store(db)
    try:
        chats = Conversations(store)
        assert (chats.list(), chats.messages(c.id)) == before
        assert [x.id for x in chats.list("勤続")] == [c.id]
        again = chats.get(c.id)
        assert again.libraries == ("社内規程",) and again.settings == {"max_tokens": 512}
        last = chats.messages(c.id)[-1]
        assert last.sources == SOURCES and last.status == "stopped"
        assert chats.add_message(c.id, "user", "続き").id == last.id + 1
    finally:
        store.close()


@pytest.mark.parametrize(
    "text, title",
    [
        ("  有給休暇は\t何日 ありますか？  \n二行目", "有給休暇は 何日 ありますか？"),
        ("\n\n  How many   days of leave?\nmore", "How many days of leave?"),
        ("x" * 40, "x" * 40),
        ("x" * 41, "x" * 39 + "…"),
        ("あ" * 100, "あ" * 39 + "…"),
        ("   \n\t", DEFAULT_TITLE),
    ],
)
def test_auto_title(text: str, title: str) -> None:
    assert auto_title(text) == title == Conversations.auto_title(text)
    assert len(auto_title(text)) <= 40
