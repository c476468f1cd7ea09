"""The engine's logic on the fakes (tests/fakes.py): a real DuckDB file, real parsing, chunking,
keyword index and fusion, the real host, chat, lab, serve, MCP and CLI code, with the hash
embedder and the scripted model in place of e5 and llama.cpp. Seconds, not minutes; the same
paths with the real models are the end-to-end tier (test_chat.py, test_compare_lab.py,
test_serve.py, test_mcp.py, test_cli.py)."""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from engine.api import CancelToken, Engine, make_question
from engine.errors import EmbedderMismatchError, ModelLoadError
from engine.types import GenerationSettings
from tests.fakes import HashEmbedder

DOCS = {
    "travel.md": "# Travel policy\n\n## Daily allowance\nEmployees on a business trip receive a daily allowance "
                 "of 4,700 yen per day.\n",
    "security.md": "# Security rules\n\n## Passwords\nPasswords must be at least 14 characters long and are "
                   "changed every 180 days.\n",
    "規程/出張.md": "# 出張旅費規程\n\n出張の日当は、国内については一日につき三千円とする。\n",
}
ALLOWANCE = "How much is the daily allowance on a business trip?"
GREEDY = GenerationSettings(temperature=0.0, max_tokens=32, seed=1)


@pytest.fixture
def docs(tmp_path):
    root = tmp_path / "docs"
    for name, text in DOCS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def engine(fast_engine, docs, tmp_path, monkeypatch):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    fast_engine.libraries.index(fast_engine.libraries.add(docs, "docs").name)
    return fast_engine


def done(events):
    events = list(events)
    assert events[-1].kind == "done", [e.kind for e in events]
    return events[-1].answer, events


# -- embed, ingest, library, search, store ---------------------------------------------------------

def test_the_hash_embedder_is_deterministic_and_near_for_shared_words() -> None:
    emb = HashEmbedder()
    a, b, c = emb.embed_passages(["daily allowance on a trip", "the daily allowance", "password length"])
    assert np.allclose(emb.embed_queries(["daily allowance on a trip"])[0], a)
    assert a.dtype == np.float32 and a.shape == (emb.dim,) and abs(float(np.linalg.norm(a)) - 1) < 1e-5
    assert float(a @ b) > float(a @ c)
    assert emb.count_tokens(["出張の日当", "two words"]) == [2 + 4, 2 + 2]
    with pytest.raises(TypeError):
        emb.embed_passages("one string")


def test_index_search_and_reindex_on_the_hash_embedder(engine, docs) -> None:
    [lib] = engine.libraries.list()
    assert lib.embedder_id == engine.searcher.embedder.model_id == "hash-embedder@64"
    for mode in ("hybrid", "dense", "keyword"):
        hits = engine.search("daily allowance business trip", mode=mode)
        assert hits and hits[0].path == "travel.md" and "4,700 yen" in hits[0].text, mode
    assert engine.search("出張の日当", k=1)[0].path == "規程/出張.md"
    # the path glob narrows the search to the folder
    assert [h.path for h in engine.search("passwords 出張", path="規程/*")] == ["規程/出張.md"]
    assert engine.search("   ") == []

    (docs / "security.md").write_text("# Security\n\nBadges are worn at all times.\n", encoding="utf-8")
    (docs / "travel.md").unlink()
    (docs / "parking.md").write_text("# Parking\n\nVisitors park in the south lot.\n", encoding="utf-8")
    result = engine.libraries.index("docs")
    assert (result.added, result.updated, result.removed, result.unchanged) == (1, 1, 1, 1)
    assert engine.search("visitors park south lot", k=1)[0].path == "parking.md"
    assert all(h.path != "travel.md" for h in engine.search("daily allowance", k=10))
    assert engine.libraries.index("docs").unchanged == 3


class SlowHashEmbedder(HashEmbedder):
    """Takes a while per call, as a real model does, so progress is reported (at most every 0.2 s)."""

    def embed_passages(self, texts, batch_size=32, background=False):
        time.sleep(0.08)
        return super().embed_passages(texts, batch_size, background)


def test_progress_moves_while_one_big_file_is_embedded(tmp_path) -> None:
    from engine.api import Engine

    root = tmp_path / "share"
    root.mkdir()
    for i in range(3):
        (root / f"note{i}.md").write_text(f"# Note {i}\n\nThe meeting room {i} is on floor {i + 2}.\n", encoding="utf-8")
    paragraphs = [f"Section {n}: the archive keeps record {n * 7} for audit year {2000 + n % 20}." for n in range(6000)]
    (root / "archive.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")
    events = []
    with Engine.open(tmp_path / "x.duckdb", embedder=SlowHashEmbedder()) as engine:
        engine.libraries.add(root, "share")
        engine.libraries.index("share", progress=events.append)
    embedding = [e for e in events if e.phase == "indexing"]
    # while the big file is embedded (it is written only once whole), chunks and bytes still move
    before = [e for e in embedding if e.files_done < 4]
    assert len({e.chunks_done for e in before}) >= 4 and len({e.done for e in before}) >= 4, [
        (e.files_done, e.chunks_done, e.done) for e in before]
    assert all(a.chunks_done <= b.chunks_done and a.done <= b.done for a, b in zip(embedding, embedding[1:]))
    assert events[-1].phase == "done" and events[-1].done == events[-1].total


def test_a_library_made_by_another_embedder_is_refused(tmp_path, docs, monkeypatch) -> None:
    import engine.embed

    db = tmp_path / "b.duckdb"
    monkeypatch.setattr(engine.embed, "load_embedder", lambda *a, **k: HashEmbedder(dim=64))
    with Engine.open(db) as first:
        first.libraries.index(first.libraries.add(docs, "docs").name)
    monkeypatch.setattr(engine.embed, "load_embedder", lambda *a, **k: HashEmbedder(dim=32, name="other"))
    with Engine.open(db) as second:
        with pytest.raises(EmbedderMismatchError, match="built with the embedding model hash-embedder"):
            second.libraries.index("docs")
        with pytest.raises(EmbedderMismatchError):
            second.search("allowance", libraries=["docs"])
        assert second.search("allowance") == []   # no library of this model: nothing, not vectors mixed


def test_the_store_fixture_is_a_migrated_duckdb_file(store) -> None:
    from engine.store.schema import SCHEMA_VERSION

    cur = store.cursor()
    try:
        tables = {r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        cur.close()
    assert {"documents", "chunks", "conversations", "messages"} <= tables
    assert SCHEMA_VERSION > 0 and store.path.suffix == ".duckdb"


# -- the host, chat and conversations ----------------------------------------------------------

def test_rag_answer_from_the_scripted_model_is_cited_and_stored(engine, scripted_model) -> None:
    scripted_model.on("daily allowance", "Trips are paid at 4,700 yen for each day [1].")
    answer, events = done(engine.ask(ALLOWANCE, libraries=["docs"], settings=GREEDY))
    assert [e.kind for e in events][0] == "sources" and events[0].sources[0].path == "travel.md"
    assert answer.status == "complete" and answer.model == "smollm2-135m"
    # the quoted sentence first, then the model's own text (it adds words the quote lacks)
    quote = "> “Employees on a business trip receive a daily allowance of 4,700 yen per day.”"
    assert answer.text.startswith(quote)
    assert answer.text.endswith("Trips are paid at 4,700 yen for each day [1].")
    assert answer.cited and answer.cited[0].path == "travel.md" and not answer.inferred
    asked = scripted_model.prompts[-1]
    assert "4,700 yen" in asked.question and ALLOWANCE in asked.question and asked.system  # sources, system prompt
    msgs = engine.conversations.messages(answer.conversation_id)
    assert [m.role for m in msgs] == ["user", "assistant"] and msgs[1].content == answer.text
    assert msgs[1].sources[0]["path"] == "travel.md" and msgs[1].status == "complete"
    # the next turn carries the first as history, in the same conversation
    scripted_model.on("And per night", "Nothing about nights is in the documents.")
    second, _ = done(engine.ask("And per night?", answer.conversation_id, libraries=["docs"], settings=GREEDY))
    assert second.conversation_id == answer.conversation_id
    assert [m["role"] for m in scripted_model.prompts[-1].messages][-3:] == ["user", "assistant", "user"]
    assert len(scripted_model.models) == 1   # loaded once, kept


def test_an_answer_cut_by_max_tokens_and_a_stopped_one_are_kept(engine, scripted_model) -> None:
    scripted_model.default = " ".join(f"word{i}" for i in range(50))
    answer, _ = done(engine.chat.stream("Say many words", rag=False,
                                        settings=GenerationSettings(max_tokens=5)))
    assert answer.text.split() == [f"word{i}" for i in range(5)] and answer.stats["finish_reason"] == "length"

    cancel = CancelToken()
    seen = []
    for event in engine.ask("Say many words", rag=False, cancel=cancel, settings=GREEDY):
        if event.kind == "token":
            seen.append(event.text)
            if len(seen) == 3:
                cancel.cancel()
        if event.kind == "done":
            stopped = event.answer
    assert stopped.status == "stopped" and stopped.text.split() == ["word0", "word1", "word2"]
    [_, kept] = engine.conversations.messages(stopped.conversation_id)
    assert kept.status == "stopped" and kept.content == stopped.text


def test_an_adapter_answers_through_the_host_and_a_wrong_base_is_refused(engine, scripted_model, tmp_path) -> None:
    from engine.models.gguf_file import read_gguf_info
    from engine.models.registry import smollm2_path
    from tests.engine.lora_fixture import write_test_adapter

    adapter = write_test_adapter(tmp_path / "tiny.gguf", read_gguf_info(smollm2_path()))
    engine.models.default()   # registers the embedded models
    engine.models.add_adapter(adapter, base="smollm2-135m", name="tiny")
    scripted_model.default = "Base model here."
    scripted_model.adapter_rules["tiny"] = "Adapter here."
    with_adapter, _ = done(engine.chat.stream("Who answers?", rag=False, adapter="tiny"))
    without, _ = done(engine.chat.stream("Who answers?", rag=False))
    assert (with_adapter.text, with_adapter.adapter) == ("Adapter here.", "tiny")
    assert (without.text, without.adapter) == ("Base model here.", None)
    assert engine.models.loaded().adapter is None
    info = engine.models.get("tiny")
    with pytest.raises(ModelLoadError, match="trained for smollm2-135m, not for other"):
        scripted_model.models[-1].check_adapter(info, SimpleNamespace(name="other"), engine.models)


# -- the comparison lab ------------------------------------------------------------------------------

def test_a_lab_run_on_the_scripted_model_scores_rag_above_the_base(engine, scripted_model, tmp_path) -> None:
    # the scripted model knows the allowance only when the passage is in its prompt
    scripted_model.default = lambda asked: ("It is 4,700 yen [1]." if "4,700" in asked.question
                                            else "I do not know.")
    question = make_question(ALLOWANCE, ["4,700"], "travel.md")
    run = engine.lab.create([question], libraries=["docs"], arms=["base", "rag"], max_tokens=24, name="fake")
    progress = []
    run = engine.lab.run(run.id, progress=progress.append)
    assert run.status == "done" and run.answers == 2 and progress[-1].done == progress[-1].total == 2
    arms = {a["arm"]: a for a in engine.lab.summary(run.id)["arms"]}
    assert arms["rag"]["accuracy"] == 1 and arms["base"]["accuracy"] == 0
    texts = {a.arm: a.text for a in engine.lab.answers(run.id)[1]}
    assert texts["base"] == "I do not know." and texts["rag"].endswith("It is 4,700 yen [1].")
    html = engine.lab.export(run.id, tmp_path / "r.html").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(
        engine.lab.export(run.id, tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    assert "It is 4,700 yen [1]." in html and "I do not know." in html
    assert sorted((r["arm"], r["match"]) for r in rows) == [("base", "0"), ("rag", "1")]
    again = engine.lab.run(run.id)   # nothing missing: nothing asked again
    assert again.answers == 2 and len(scripted_model.prompts) == 2



def test_a_run_whose_process_died_reads_as_interrupted(engine, scripted_model) -> None:
    question = make_question(ALLOWANCE, ["4,700"], "travel.md")
    run = engine.lab.create([question], libraries=["docs"], arms=["base"], max_tokens=8, name="gone")
    runs = engine.lab.runs
    marker = runs._runner_file(run.id)
    runs._set(run.id, status="running")
    # another process answers it: running while that process lives, interrupted once it is killed
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    marker.write_text(str(child.pid), encoding="ascii")
    assert engine.lab.get(run.id).status == "running"
    child.kill()
    child.wait()
    assert engine.lab.get(run.id).status == "interrupted"
    assert [r.status for r in engine.lab.list() if r.id == run.id] == ["interrupted"]
    marker.write_text(f"{os.getpid()} another-boot", encoding="ascii")   # left from before a restart
    assert engine.lab.get(run.id).status == "interrupted"
    # answering it again finishes it and leaves no marker behind
    assert engine.lab.run(run.id).status == "done" and not marker.exists()

# -- serve, MCP and the command line on the fakes -------------------------------------------------

def test_serve_answers_and_embeds_with_the_fakes(engine, scripted_model, hash_embedder) -> None:
    from engine.serve.server import make_server

    scripted_model.default = "Paris is the capital."
    server, token = make_server(engine, port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def post(path, body):
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
        conn.request("POST", path, body=json.dumps(body).encode(),
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        data = json.loads(resp.read())
        conn.close()
        return resp.status, data

    try:
        status, reply = post("/v1/chat/completions", {
            "model": "smollm2-135m", "max_tokens": 16,
            "messages": [{"role": "user", "content": "What is the capital of France?"}]})
        assert status == 200, reply
        assert reply["choices"][0]["message"]["content"] == "Paris is the capital."
        assert reply["usage"]["completion_tokens"] == 4
        status, reply = post("/v1/embeddings", {"model": hash_embedder.name, "input": ["daily allowance"],
                                                "encoding_format": "float"})
        assert status == 200, reply
        assert np.allclose(reply["data"][0]["embedding"], hash_embedder.embed_passages(["daily allowance"])[0],
                           atol=1e-6)
        status, reply = post("/v1/chat/completions", {"model": "no-such-model", "messages": []})
        assert status >= 400 and "error" in reply
    finally:
        server.shutdown()
        server.server_close()


def test_mcp_tools_search_and_ask_with_the_fakes(engine, scripted_model) -> None:
    from engine.mcp.tools import LibraryTools, ToolArgumentError

    tools = LibraryTools(engine)
    top = tools.search("daily allowance business trip", k=2)["results"][0]
    assert top["file"] == "travel.md" and top["library"] == "docs" and "4,700" in top["text"]
    assert tools.fetch(top["id"])["text"] == top["text"]
    # a reply that only says again what the quoted sentence says is left out: the quote answers
    scripted_model.on("daily allowance", "A daily allowance of 4,700 yen per day [1].")
    out = tools.ask(ALLOWANCE, max_tokens=16)
    assert out["answer"] == "> “Employees on a business trip receive a daily allowance of 4,700 yen per day.” [1]"
    assert out["status"] == "complete" and out["sources"][0]["file"] == "travel.md" and out["citations"]
    with pytest.raises(ToolArgumentError, match="read-only"):
        tools.index_folder("/tmp")


def test_the_command_line_indexes_searches_and_asks_with_the_fakes(tmp_path, docs, hash_embedder,
                                                                     scripted_model, capsys, monkeypatch) -> None:
    from engine.cli.commands import main

    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    base = ["--db", str(tmp_path / "cli.duckdb")]
    assert main([*base, "index", str(docs), "--name", "docs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 3
    assert main([*base, "search", "daily allowance", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"][0]["path"] == "travel.md"
    scripted_model.on("daily allowance", "It is 4,700 yen [1].")
    assert main([*base, "ask", ALLOWANCE, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["answer"].endswith("It is 4,700 yen [1].") and answer["status"] == "complete"
    assert answer["sources"][0]["path"] == "travel.md" and answer["model"] == "smollm2-135m"
    assert main([*base, "search", "x", "--library", "nope"]) == 2
    assert "no library called 'nope'" in capsys.readouterr().err


def test_a_job_of_the_stand_in_trainer_is_compared_on_the_scripted_model(tmp_path, hash_embedder, scripted_model,
                                                                         capsys, monkeypatch) -> None:
    """`bunko finetune run`, then `compare`: the job runner, the converter and the registry are
    real (tests/engine/fake_trainer.py writes a tiny real adapter); the answers before and after
    come from the scripted model, with and without the adapter attached."""
    import sys
    from pathlib import Path

    from engine.cli.commands import main
    from engine.finetune import trainer_env

    data = tmp_path / "data"
    (data / "finetune").mkdir(parents=True)
    (data / "finetune" / "fake.json").write_text(json.dumps({"delay": 0.0}))
    monkeypatch.setenv("BUNKO_DATA_DIR", str(data))
    monkeypatch.setattr(trainer_env, "TRAINER_SCRIPT", Path(__file__).with_name("fake_trainer.py"))
    rows = tmp_path / "faq.jsonl"
    rows.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"質問 {i}?"},
                                                     {"role": "assistant", "content": f"回答 {i}。"}]},
                                       ensure_ascii=False) + "\n" for i in range(8)), encoding="utf-8")
    assert main(["finetune", "run", "--data", str(rows), "--name", "faq", "--max-steps", "3",
                 "--env-python", sys.executable]) == 0
    assert "Done: adapter 'faq'" in capsys.readouterr().out
    scripted_model.default = "基本モデルの答え。"
    scripted_model.adapter_rules["faq"] = "アダプターの答え。"
    assert main(["finetune", "compare", "faq", "-n", "1", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["question"].startswith("質問") and row["expected"].startswith("回答")
    assert (row["before"], row["after"]) == ("基本モデルの答え。", "アダプターの答え。")
    assert [p.adapter for p in scripted_model.prompts] == [None, "faq"]
