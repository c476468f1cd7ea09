"""A model on any OpenAI-compatible endpoint: here `bunko serve` with the real SmolLM2, reached
by a second Bunko (its own database and library) over real HTTP; the key in a real file keyring.
Error wording is checked against a small stub server (a fake around the client only)."""

from __future__ import annotations

import http.server
import json
import threading
from types import SimpleNamespace

import pytest

from engine.api import Engine
from engine.cli.commands import main as cli_main
from engine.errors import EndpointError, ModelError
from engine.types import GenerationSettings
from engine.llm.remote import keys
from engine.llm.remote.openai_http import OpenAIClient, normalise_url
from engine.serve.server import make_server
from tests.engine.remote_fixtures import file_keyring, log_file  # noqa: F401 - fixtures

DOCS = {
    "travel.md": "# Travel\n\nThe per diem for business trips is 45 dollars a day for meals.\n",
    "parking.md": "# Parking\n\nStaff park in the north lot; visitors use the south lot.\n",
}
GREEDY = dict(settings=GenerationSettings(temperature=0.0, max_tokens=24, seed=7))


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder_dir):
    """`bunko serve` on a free port, answering with the built-in model."""
    root = tmp_path_factory.mktemp("endpoint")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BUNKO_DATA_DIR", str(root / "data"))
        engine = Engine.open(root / "server.duckdb", embedder_dir)
        engine.models.default()
        server, token = make_server(engine, port=0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield SimpleNamespace(url=server.url, token=token, engine=engine)
        finally:
            server.shutdown()
            server.server_close()
            engine.close()


@pytest.fixture
def client_engine(tmp_path, embedder_dir, monkeypatch):
    """A second Bunko with its own library; its model runs at the endpoint."""
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    engine = Engine.open(tmp_path / "client.duckdb", embedder_dir)
    engine.libraries.index(engine.libraries.add(docs, "handbook").name)
    yield engine
    engine.close()


def test_url_forms() -> None:
    assert normalise_url("127.0.0.1:8000") == "https://127.0.0.1:8000/v1"   # no scheme: https
    assert normalise_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/v1"
    assert normalise_url("https://gpu.example/api/v1/") == "https://gpu.example/api/v1"
    with pytest.raises(EndpointError, match="not an http"):
        normalise_url("ftp://x")


def test_endpoint_answers_with_rag_citations_and_a_stored_conversation(served, client_engine, file_keyring,
                                                                       log_file) -> None:
    offered = client_engine.models.endpoint_models(served.url, served.token)
    assert "smollm2-135m" in offered
    model = client_engine.models.add_endpoint(served.url, served.token, model="smollm2-135m", name="team")
    assert (model.location, model.where) == ("endpoint", normalise_url(served.url))
    events = list(client_engine.chat.ask("What is the per diem for business trips?",
                                         model="team", libraries=("handbook",), **GREEDY))
    answer = events[-1].answer
    assert answer.status == "complete" and answer.text and answer.model == "team"
    assert any(s.path == "travel.md" for s in answer.sources)
    assert answer.stats["completion_tokens"] > 0
    assert client_engine.models.loaded().where == normalise_url(served.url)
    stored = client_engine.conversations.messages(answer.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant"] and stored[1].content == answer.text
    # a follow-up in the same conversation goes as chat messages with the earlier turn
    again = list(client_engine.chat.ask("And for parking?", answer.conversation_id, **GREEDY))[-1].answer
    assert again.status == "complete"

    # the key: in the keyring, nowhere in the database file or the log
    assert keys.get_key(model) == served.token
    for path in [client_engine._store.path, log_file, *client_engine._store.path.parent.glob("*.wal")]:
        assert served.token.encode() not in path.read_bytes(), path
    client_engine.models.remove("team")
    assert keys.get_key(model) is None


def test_wrong_key_and_unknown_model_are_words(served, client_engine, file_keyring) -> None:
    with pytest.raises(EndpointError, match="refused the API key") as info:
        client_engine.models.add_endpoint(served.url, "not-the-key")
    assert info.value.status == 401
    with pytest.raises(ModelError, match="does not offer 'gpt-9'"):
        client_engine.models.add_endpoint(served.url, served.token, model="gpt-9")
    assert [m.name for m in client_engine.models.list() if m.location == "endpoint"] == []


def test_cli_add_endpoint_reads_the_key_from_stdin(served, client_engine, file_keyring, monkeypatch,
                                                   capsys, tmp_path) -> None:
    import io

    db = str(client_engine._store.path)
    client_engine.close()
    monkeypatch.setattr("sys.stdin", io.StringIO(served.token + "\n"))
    assert cli_main(["--db", db, "models", "add-endpoint", served.url, "--key-stdin", "--model", "smollm2-135m",
                     "--name", "cli-team"]) == 0
    out = capsys.readouterr().out
    assert "cli-team" in out and "keyring" in out and served.token not in out
    with Engine.open(db) as again:
        assert keys.get_key(again.models.get("cli-team")) == served.token
    assert cli_main(["--db", db, "models"]) == 0
    assert "runs on " + normalise_url(served.url) in capsys.readouterr().out


# -- errors in words, against a stub (only the client's wording is under test) ----------------

class Stub(http.server.BaseHTTPRequestHandler):
    behaviour = "ok"

    def log_message(self, *a) -> None:
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self) -> None:
        kind = type(self).behaviour
        if kind.isdigit():
            body = json.dumps({"error": {"message": f"stub says {kind}"}}).encode()
            self.send_response(int(kind))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif kind == "garbage":
            body = b"<html>hello</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif kind == "slow":
            threading.Event().wait(3)
        elif kind == "drop":  # a few pieces of an answer, then the link goes
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in ("The ", "per ", "diem "):
                chunk = {"choices": [{"delta": {"content": word}, "finish_reason": None}]}
                self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.flush()
            self.connection.shutdown(2)


@pytest.fixture
def stub():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()  # a quick shutdown
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("behaviour, words", [
    ("401", "refused the API key"), ("404", "no such model or path"), ("429", "too many requests"),
    ("503", "failed \\(HTTP 503: stub says 503\\)"), ("garbage", "did not answer like an OpenAI-compatible"),
    ("slow", "did not answer within 1 s")])
def test_errors_in_words(stub, behaviour, words) -> None:
    Stub.behaviour = behaviour
    client = OpenAIClient(f"http://127.0.0.1:{stub.server_address[1]}", "k", timeout=1)
    with pytest.raises(EndpointError, match=words):
        client.models()


def test_nothing_listening_is_words() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(EndpointError, match="Nothing answers at"):
        OpenAIClient(f"http://127.0.0.1:{port}").models()


def test_a_dropped_stream_is_kept_as_stopped_and_the_next_answer_works(stub, served, client_engine,
                                                                        file_keyring) -> None:
    Stub.behaviour = "drop"
    stub_url = f"http://127.0.0.1:{stub.server_address[1]}/v1"
    client_engine.models.registry.insert_remote("flaky", "endpoint", stub_url, {"model": "m"})
    events = list(client_engine.chat.ask("What is the per diem?", model="flaky", **GREEDY))
    answer = events[-1].answer
    assert answer.status == "stopped" and answer.text == "The per diem"
    assert "dropped" in answer.stats["error"]
    stored = client_engine.conversations.messages(answer.conversation_id)
    assert stored[0].content == "What is the per diem?"
    assert (stored[1].status, stored[1].content) == ("stopped", "The per diem")
    client_engine.models.add_endpoint(served.url, served.token, model="smollm2-135m", name="good")
    nxt = list(client_engine.chat.ask("What is the per diem?", answer.conversation_id, model="good",
                                      **GREEDY))[-1].answer
    assert nxt.status == "complete" and nxt.text


def test_an_endpoint_model_is_an_arm_of_a_comparison(served, client_engine, file_keyring, monkeypatch) -> None:
    """A registered endpoint model as an extra arm of the comparison lab, with and without the
    client's library: its answers come over HTTP from `bunko serve`, are scored and tabled."""
    from engine.lab.questions import make

    client_engine.models.add_endpoint(served.url, served.token, model="smollm2-135m", name="team-arm")
    asked = []
    real = served.engine.chat.stream
    monkeypatch.setattr(served.engine.chat, "stream", lambda *a, **k: (asked.append(a[0]), real(*a, **k))[1])
    question = make("What is the per diem for business trips?", ["45 dollars"], "travel.md")
    run = client_engine.lab.create([question], libraries=["handbook"], other_models=["team-arm"],
                                       arms=["base", "team-arm", "team-arm+rag"], max_tokens=24)
    run = client_engine.lab.run(run.id)
    assert run.status == "done" and run.answers == 3
    answers = {a.arm: a for a in client_engine.lab.answers(run.id)[1]}
    assert len(asked) == 2 and any("per diem" in str(q) for q in asked)  # two arms answered at the endpoint
    assert answers["team-arm"].stats["model"] == answers["team-arm+rag"].stats["model"] == "team-arm"
    assert answers["base"].stats["model"] == client_engine.models.default().name
    assert answers["team-arm"].text and answers["team-arm"].stats["completion_tokens"] > 0
    assert any(s["path"] == "travel.md" for s in answers["team-arm+rag"].sources)
    assert "grounded" in answers["team-arm+rag"].scores and "grounded" not in answers["team-arm"].scores
    summary = client_engine.lab.summary(run.id)
    assert [a["arm"] for a in summary["arms"]] == ["base", "team-arm", "team-arm+rag"]
    assert all(a["answered"] == 1 and a["tokens_per_s"] for a in summary["arms"])
