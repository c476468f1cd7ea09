"""The endpoint path against a real llama-server (built from the pinned llama.cpp source) run
directly on loopback with the real SmolLM2, and `bunko bench chat --model` on it."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from engine.api import Engine
from engine.cli.commands import main as cli_main
from engine.errors import EndpointError
from engine.models.registry import smollm2_path
from engine.llm.remote.openai_http import OpenAIClient, wait_ready
from engine.types import GenerationSettings
from tests.engine.remote_fixtures import file_keyring, need_llama_server  # noqa: F401

KEY = "test-key-0123456789abcdef0123456789"


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    binary = need_llama_server()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(binary), "-m", str(smollm2_path()), "--host", "127.0.0.1", "--port", str(port),
                                 "--api-key", KEY, "-c", "2048", "-np", "1", "--alias", "smol"],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_ready(OpenAIClient(url, KEY), 120, alive=lambda: proc.poll() is None)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_endpoint_on_llama_server_answers_with_rag(llama_server, tmp_path, embedder_dir, monkeypatch,
                                                   file_keyring) -> None:
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "travel.md").write_text("# Travel\n\nThe per diem for business trips is 45 dollars a day.\n")
    with Engine.open(tmp_path / "b.duckdb", embedder_dir) as engine:
        engine.libraries.index(engine.libraries.add(docs, "handbook").name)
        with pytest.raises(EndpointError, match="refused the API key"):
            engine.models.add_endpoint(llama_server, "wrong")
        info = engine.models.add_endpoint(llama_server, KEY, name="smol-remote")
        assert info.remote["model"] == "smol"
        answer = list(engine.chat.ask("What is the per diem for business trips?", model="smol-remote",
                                      libraries=("handbook",),
                                      settings=GenerationSettings(temperature=0, max_tokens=32)))[-1].answer
        assert answer.status == "complete" and answer.text
        assert answer.sources and answer.sources[0].path == "travel.md"
        assert answer.stats["server"]["predicted_n"] >= 1


def test_bench_chat_on_a_remote_model(llama_server, tmp_path, monkeypatch, capsys, file_keyring) -> None:
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    db = str(tmp_path / "b.duckdb")
    with Engine.open(db) as engine:
        engine.models.add_endpoint(llama_server, KEY, name="smol-remote")
    assert cli_main(["--db", db, "bench", "chat", "--model", "smol-remote", "--tokens", "24", "--runs", "1",
                     "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["bench"] == "chat-remote"
    assert result["tokens_per_s"]["server_reported"] > 0 and result["tokens_per_s"]["seen_by_bunko"] > 0
    assert result["ttft_ms"]["added"] is not None
    assert set(result["goals"]) == {"seen_ge_95pct_server", "added_ttft_le_50ms"}
