"""The repetition guard: unit checks, then real models that loop, stopped in the engine, CLI and API."""

from __future__ import annotations

import json

import pytest

from engine.api import Engine
from engine.chat.prompt import Turn
from engine.llm.repetition import RepetitionGuard
from engine.types import GenerationSettings, LoadSettings


def feed_all(text: str, step: int = 3) -> RepetitionGuard:
    guard = RepetitionGuard()
    for i in range(0, len(text), step):
        if guard.feed(text[i:i + step]):
            break
    return guard


def test_a_phrase_looping_back_to_back_is_caught_and_kept_once():
    guard = feed_all("答えは次のとおりです。" + "年次有給休暇は" * 40)
    assert guard.looping
    assert guard.kept().count("年次有給休暇は") <= 2 and guard.kept().startswith("答えは次のとおりです。")
    assert len(guard.text) < 11 + 7 * 25  # stopped soon after the loop began, not at the end


def test_a_sentence_repeated_with_text_between_is_caught():
    text = "".join(f"休暇は十日です。条項{i}を見てください。" for i in range(6))
    guard = feed_all(text)
    assert guard.looping
    assert guard.kept().count("休暇は十日です。") == 1


def test_ordinary_answers_are_not_stopped():
    varied = " ".join(f"Step {i}: open the file number {i * 7} and check line {i * 3}." for i in range(40))
    table = "| a | b |\n|---|---|\n" + "".join(f"| {i} | {i * i} |\n" for i in range(30))
    for text in (varied, table, "短い答えです。" * 2, "x" * 50):
        assert not feed_all(text).looping, text[:40]


@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory, embedder_dir):
    db = tmp_path_factory.mktemp("loop") / "b.duckdb"
    with Engine.open(db, embedder_dir) as e:
        e.models.load(None, LoadSettings(n_ctx=1024, n_threads=2))
        yield e


# A real loop: the tiny model, shown an earlier answer that loops, loops again (greedy).
LOOP_PROMPT = "Say hello again, the same way."
LOOPED = [Turn("Say hello in Japanese.", "Hello! " * 12)]
LOOP = GenerationSettings(temperature=0.0, max_tokens=300, repeat_penalty=1.0, seed=0)


def test_real_model_loop_is_stopped_with_a_reason(tiny_engine):
    events = list(tiny_engine.chat.stream(LOOP_PROMPT, history=LOOPED, settings=LOOP))
    answer = events[-1].answer
    notes = [e.notice for e in events if e.kind == "notice"]
    assert answer.stats["finish_reason"] == "repetition", answer.text[:300]
    assert answer.stats["completion_tokens"] < 100
    assert notes and notes[0]["kind"] == "repetition" and answer.notices == tuple(notes)
    assert len(answer.text) < len("".join(e.text for e in events if e.kind == "token"))  # the loop cut to one copy


def test_cli_and_api_say_why(tiny_engine, tmp_path, embedder_dir, capsys):
    from engine.cli import main
    from engine.serve.server import _finish

    db = tmp_path / "cli.duckdb"
    with Engine.open(db, embedder_dir) as e:
        conv = e.conversations.create("loop")
        e.conversations.add_message(conv.id, "user", LOOPED[0].question)
        e.conversations.add_message(conv.id, "assistant", LOOPED[0].answer)
    ask = ["--db", str(db), "--embedder", str(embedder_dir), "ask", LOOP_PROMPT, "--no-rag", "--conversation",
           str(conv.id), "--temperature", "0", "--max-tokens", "300"]
    rc = main(ask + ["--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["finish_reason"] == "repetition" and out["notices"][0]["kind"] == "repetition"

    answer = list(tiny_engine.chat.stream(LOOP_PROMPT, history=LOOPED, settings=LOOP))[-1].answer
    assert _finish(answer) == "repetition"
