"""Answers with the real embedded SmolLM2 model through llama.cpp: greedy, short, repeatable."""

from __future__ import annotations

import json
import shutil

import pytest

from engine.api import Engine
from engine.cancel import CancelToken
from engine.errors import BunkoError, ChatTemplateError, ContextOverflowError, ModelLoadError
from engine.llm import template
from engine.models.gguf_file import read_gguf_info
from engine.models.registry import smollm2_path
from engine.types import GenerationSettings, LoadSettings

from tests.engine.lora_fixture import write_test_adapter

GREEDY = GenerationSettings(temperature=0.0, max_tokens=24, seed=1)


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    (root / "travel.md").write_text(
        "# Travel policy\n\n## Daily allowance\nEmployees on a business trip receive a daily allowance of "
        "4,700 yen per day. Overnight trips add a lodging allowance of 9,800 yen per night.\n", encoding="utf-8")
    (root / "security.md").write_text(
        "# Security rules\n\n## Passwords\nPasswords must be at least 14 characters long and are changed "
        "every 180 days.\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embedder_dir, docs):
    db = tmp_path_factory.mktemp("chat") / "b.duckdb"
    with Engine.open(db, embedder_dir) as e:
        e.libraries.add(docs, "docs")
        e.libraries.index("docs")
        e.models.load(None, LoadSettings(n_ctx=2048, n_threads=2))
        yield e


def answer_of(events):
    streamed, answer, sources = [], None, None
    for ev in events:
        if ev.kind == "token":
            streamed.append(ev.text)
        elif ev.kind == "sources":
            sources = ev.sources
        elif ev.kind == "done":
            answer = ev.answer
    return "".join(streamed), sources, answer


def test_greedy_answer_is_real_and_repeatable(engine):
    text1, _, a1 = answer_of(engine.chat.stream("What is the capital of France?", settings=GREEDY))
    text2, _, a2 = answer_of(engine.chat.stream("What is the capital of France?", settings=GREEDY))
    assert "Paris" in a1.text
    assert a1.text == a2.text == text1.strip()
    assert a1.status == "complete" and a1.model == "smollm2-135m"
    assert a1.stats["completion_tokens"] > 0 and a1.stats["tokens_per_second"] > 0
    # the second identical prompt found all but its last token in the KV cache
    assert a2.stats["reused_tokens"] == a2.stats["prompt_tokens"] - 1


def test_rag_answer_cites_the_right_document(engine):
    events = engine.ask("How much is the daily allowance on a business trip?", libraries=["docs"],
                        settings=GREEDY)
    text, sources, answer = answer_of(events)
    assert sources and sources[0].path == "travel.md"
    assert "4,700" in answer.text
    assert answer.cited and answer.cited[0].path == "travel.md"
    assert all(s.path == "travel.md" for s in answer.cited)
    # stored: the question, the answer with its sources and citations
    msgs = engine.conversations.messages(answer.conversation_id)
    assert [m.role for m in msgs] == ["user", "assistant"]
    assert msgs[1].content == answer.text and msgs[1].status == "complete"
    assert msgs[1].sources[0]["path"] == "travel.md" and msgs[1].citations == list(answer.citations)
    assert msgs[1].stats["citations_inferred"] == answer.inferred


def test_follow_up_reuses_the_kv_cache(engine):
    _, _, first = answer_of(engine.ask("What is the capital of France?", libraries=[], settings=GREEDY))
    _, _, second = answer_of(engine.ask("And of Germany?", first.conversation_id, settings=GREEDY))
    assert second.stats["reused_tokens"] >= first.stats["prompt_tokens"] - 1
    assert second.stats["prompt_tokens"] > first.stats["prompt_tokens"]
    history = engine.chat.history(engine.conversations.messages(first.conversation_id))
    assert [t.question for t in history] == ["What is the capital of France?", "And of Germany?"]


def test_stop_mid_answer_keeps_what_was_generated(engine):
    cancel = CancelToken()
    pieces = []
    events = engine.ask("Write a long story about a cat.", libraries=[],
                        settings=GenerationSettings(temperature=0.0, max_tokens=200), cancel=cancel)
    for ev in events:
        if ev.kind == "token":
            pieces.append(ev.text)
            if len(pieces) == 5:
                cancel.cancel()
        elif ev.kind == "done":
            answer = ev.answer
    assert answer.status == "stopped"
    assert answer.stats["completion_tokens"] <= 7
    msg = engine.conversations.messages(answer.conversation_id)[-1]
    assert msg.status == "stopped" and msg.content == "".join(pieces).strip() != ""


def test_closing_the_stream_saves_a_stopped_answer(engine):
    events = engine.ask("Write a long story about a dog.", libraries=[],
                        settings=GenerationSettings(temperature=0.0, max_tokens=200))
    got = []
    for ev in events:
        if ev.kind == "token":
            got.append(ev.text)
            if len(got) == 4:
                break
    events.close()
    conv = engine.conversations.list()[0]
    msg = engine.conversations.messages(conv.id)[-1]
    assert msg.role == "assistant" and msg.status == "stopped" and msg.content


def test_regenerate_and_edit(engine):
    _, _, a = answer_of(engine.ask("What is the capital of France?", libraries=[], settings=GREEDY))
    _, _, again = answer_of(engine.chat.regenerate(a.conversation_id, settings=GREEDY))
    msgs = engine.conversations.messages(a.conversation_id)
    assert [m.role for m in msgs] == ["user", "assistant"] and msgs[1].id == again.message_id
    _, _, edited = answer_of(engine.chat.edit(msgs[0].id, "What is the capital of Italy?", settings=GREEDY))
    msgs = engine.conversations.messages(a.conversation_id)
    assert msgs[0].content == "What is the capital of Italy?" and len(msgs) == 2
    assert "Rome" in edited.text


def test_special_tokens_in_text_stay_text(engine):
    with engine.models.host.use() as (llm, state):
        end = llm.tokenize("<|im_end|>", special=True)
        assert len(end) == 1
        def tokens_for(text):
            parts = template.render_parts(state.chat_template, [template.Message("user", text)],
                                          llm.special_texts())
            return template.tokenize_parts(llm, parts)

        plain, injected = tokens_for("hi there"), tokens_for("hi <|im_end|> there")
    # the question's "<|im_end|>" is plain text: no more end-of-turn tokens than without it
    assert injected.count(end[0]) == plain.count(end[0]) >= 1
    assert len(injected) > len(plain) + 1


def test_template_errors_are_clear():
    bad = "{% for m in messages %}{{ raise_exception('no system role') if m.role == 'system' }}{{ m.content }}{% endfor %}"
    msgs = [template.Message("system", "be brief"), template.Message("user", "hi")]
    parts = template.render_parts(bad, msgs, {})  # the system text is folded into the question
    assert "".join(t for t, _ in parts) == "be brief\n\nhi"
    with pytest.raises(ChatTemplateError, match="chat template"):
        template.render_parts("{{ messages[0].nope() }}", [template.Message("user", "hi")], {})
    with pytest.raises(ChatTemplateError, match="not valid Jinja"):
        template.render_parts("{% for %}", [template.Message("user", "hi")], {})


def test_context_overflow_and_fitting(engine, tmp_path, embedder_dir):
    with Engine.open(tmp_path / "small.duckdb", embedder_dir) as small:
        small.models.load(None, LoadSettings(n_ctx=256, n_threads=2))
        with pytest.raises(ContextOverflowError, match="too long"):
            answer_of(small.chat.stream("word " * 400, settings=GREEDY))
        # too many passages: the lowest-ranked ones are left out, the question stays
        hits = engine.chat.retrieve("allowance passwords", ["docs"], k=4)
        many = [type(h)(i + 1, h.library, h.path, h.abs_path, h.location, h.text * 3) for i, h in enumerate(hits)]
        _, kept, answer = answer_of(small.chat.stream("How much is the allowance?", rag=True, sources=many,
                                                      settings=GREEDY))
        assert 0 < len(kept) < len(many) and [s.number for s in kept] == list(range(1, len(kept) + 1))
        assert answer.status == "complete"


def test_adapter_attach_detach_and_refusal(engine, tmp_path):
    base = read_gguf_info(smollm2_path())
    path = write_test_adapter(tmp_path / "tiny.gguf", base, tensors=("blk.2.ffn_down.weight", "blk.3.ffn_down.weight"),
                              rank=4, scale_values=1.0)
    engine.models.add_adapter(path, base="smollm2-135m", name="tiny")
    q = "What is the capital of France? Answer in one sentence."
    _, _, plain = answer_of(engine.chat.stream(q, settings=GREEDY))
    _, _, tuned = answer_of(engine.chat.stream(q, adapter="tiny", settings=GREEDY))
    assert tuned.adapter == "tiny" and tuned.text != plain.text
    _, _, back = answer_of(engine.chat.stream(q, settings=GREEDY))
    assert back.adapter is None and back.text == plain.text
    # an adapter is refused on any other model
    other = tmp_path / "other.gguf"
    shutil.copy(smollm2_path(), other)
    engine.models.add(other, name="other")
    try:
        with pytest.raises(ModelLoadError, match="trained for smollm2-135m"):
            answer_of(engine.chat.stream(q, model="other", adapter="tiny", settings=GREEDY))
    finally:
        engine.models.load(None, LoadSettings(n_ctx=2048, n_threads=2))


def test_no_model_installed_is_a_clear_error(tmp_path, embedder_dir, monkeypatch):
    import engine.models.registry as models

    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with Engine.open(tmp_path / "none.duckdb", embedder_dir) as e:
        with pytest.raises(BunkoError, match="pip install"):
            answer_of(e.chat.stream("hello", settings=GREEDY))


def test_cli_ask(engine, tmp_path, capsys, docs, embedder_dir):
    from engine.cli.commands import main

    db = tmp_path / "cli.duckdb"
    assert main(["--db", str(db), "--embedder", str(embedder_dir), "index", str(docs), "--name", "docs",
                 "--quiet"]) == 0
    capsys.readouterr()
    rc = main(["--db", str(db), "--embedder", str(embedder_dir), "ask", "How much is the daily allowance?",
               "--temperature", "0", "--max-tokens", "30", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["status"] == "complete" and out["sources"][0]["path"] == "travel.md"
    rc = main(["--db", str(db), "--embedder", str(embedder_dir), "ask", "What is the capital of France?",
               "--no-rag", "--temperature", "0", "--max-tokens", "20"])
    text = capsys.readouterr().out
    assert rc == 0 and "Paris" in text and "Sources:" not in text
    # the answers are kept in conversations: the model that answered (the default here) has a last speed
    assert main(["--db", str(db), "models", "--json"]) == 0
    row = {r["name"]: r for r in json.loads(capsys.readouterr().out)}["smollm2-135m"]
    assert row["last_tokens_per_second"] > 0 and row["last_ran_on"]
    assert main(["--db", str(db), "models"]) == 0
    assert "tok/s" in capsys.readouterr().out


def test_model_larger_than_free_memory_is_refused(tmp_path, embedder_dir, monkeypatch):
    from engine.llm import host

    monkeypatch.setattr(host, "available_memory", lambda: 50_000_000)
    with Engine.open(tmp_path / "mem.duckdb", embedder_dir) as e:
        with pytest.raises(ModelLoadError, match="GB of memory"):
            e.models.load()


def test_cli_chat_remembers_turns_and_system_prompt(tmp_path, embedder_dir, monkeypatch, capsys):
    from engine.cli.commands import main

    lines = iter(["What is the capital of France?", "/regen", "And of Germany?", "/quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    db = tmp_path / "chat.duckdb"
    rc = main(["--db", str(db), "--embedder", str(embedder_dir), "chat", "--no-rag", "--temperature", "0",
               "--max-tokens", "16", "--system", "You are a helpful assistant."])
    out = capsys.readouterr().out
    assert rc == 0 and "Paris" in out and "Berlin" in out
    with Engine.open(db, embedder_dir) as e:
        [conv] = e.conversations.list()
        assert conv.system_prompt == "You are a helpful assistant."
        msgs = e.conversations.messages(conv.id)
        assert [m.role for m in msgs] == ["user", "assistant", "user", "assistant"]  # /regen replaced, not added
