"""`bunko mcp`: the official MCP SDK's own client against the real server, over stdio (a real
`bunko mcp` child process, itself under the socket audit) and over streamable HTTP on
loopback with a token; plus the tools' rules (validation, caps, read-only, allowed roots)
on a real library with the real e5 embedder."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import anyio
import pytest

from engine.api import Engine
from engine.mcp import tools as tools_module
from engine.mcp.lookup import stitch
from engine.mcp.server import EngineSlot, HttpServer, build_server
from engine.mcp.tools import LibraryTools, ToolArgumentError

mcp = pytest.importorskip("mcp")
pytestmark = pytest.mark.offline

ROOT = Path(__file__).resolve().parents[2]
DOCS = {
    "travel.md": "# Travel\n\nThe per diem for business trips is 45 dollars a day for meals.\n",
    "holidays.md": "# Holidays\n\nThe office is closed from December 29 to January 3.\n",
    "規程/出張.md": "# 出張旅費規程\n\n出張の日当は、国内については一日につき三千円とする。\n",
    "long.md": "# Long\n\n" + "".join(f"Paragraph {i} says the rule number {i} applies to the {i}th floor. "
                                       for i in range(200)),
}
TOOLS = {"list_libraries", "search", "fetch", "ask"}


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder_dir):
    """A database with one indexed library (closed again: a child process opens a copy)."""
    root = tmp_path_factory.mktemp("mcp")
    docs = root / "docs"
    for name, text in DOCS.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BUNKO_DATA_DIR", str(root / "data"))
        with Engine.open(root / "b.duckdb", embedder_dir) as engine:
            engine.libraries.index(engine.libraries.add(docs, "handbook").name)
            engine.models.default()
    return SimpleNamespace(root=root, db=root / "b.duckdb", docs=docs, data=root / "data")


@pytest.fixture(scope="module")
def tools(library, embedder_dir, tmp_path_factory):
    """LibraryTools on a copy of the library, allowed to index inside `allowed`."""
    copy = tmp_path_factory.mktemp("mcp-copy") / "b.duckdb"
    shutil.copy(library.db, copy)
    allowed = tmp_path_factory.mktemp("allowed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BUNKO_DATA_DIR", str(library.data))
        engine = Engine.open(copy, embedder_dir)
        try:
            yield LibraryTools(engine, [allowed])
        finally:
            engine.close()


# -- the tools' rules, in-process ------------------------------------------------------------
def test_search_results_name_file_location_and_ids(tools) -> None:
    out = tools.search("per diem for business trips", k=2)
    top = out["results"][0]
    assert top["file"] == "travel.md" and top["library"] == "handbook" and "45 dollars" in top["text"]
    assert top["id"].startswith("p") and top["document"].startswith("d") and top["heading"] == "Travel"
    assert top["lines"] and top["score"] > 0
    assert out["more_available"] is True and out["next_offset"] == 2   # four files match something
    ja = tools.search("出張の日当", library="handbook", path="規程/*", k=3)
    assert [r["file"] for r in ja["results"]] == ["規程/出張.md"] and ja["more_available"] is False


def test_result_cap_says_more_available(tools, monkeypatch) -> None:
    monkeypatch.setattr(tools_module, "MAX_RESULT_CHARS", 200)
    out = tools.search("rule floor paragraph", k=5)
    assert len(out["results"]) >= 1 and out["more_available"] is True
    assert sum(len(r["text"]) for r in out["results"]) <= 200 or len(out["results"]) == 1
    doc = tools.fetch(out["results"][0]["document"])
    assert len(doc["text"]) == 200 and doc["more_available"] and doc["next_offset"] == 200
    rest = tools.fetch(doc["id"], offset=doc["next_offset"])
    assert rest["offset"] == 200 and rest["text"] != doc["text"]


def test_fetch_passage_and_whole_document(tools) -> None:
    hit = tools.search("Paragraph 199 floor", k=1, mode="keyword")["results"][0]
    passage = tools.fetch(hit["id"])
    assert passage["text"] == hit["text"] and passage["file"] == "long.md" and not passage["more_available"]
    doc = tools.fetch(hit["document"])
    text = doc["text"]
    assert doc["more_available"] and len(text) == tools_module.MAX_RESULT_CHARS   # over one reply: paged
    while doc["more_available"]:
        doc = tools.fetch(doc["id"], offset=doc["next_offset"])
        text += doc["text"]
    # Stitched from overlapping passages: every paragraph once, in order.
    assert text.count("Paragraph 123 says") == 1 and text.index("Paragraph 7 ") < text.index("Paragraph 190 ")
    assert doc["total_chars"] == len(text)


def test_stitch_drops_the_overlap_only() -> None:
    a, b = "alpha beta gamma delta epsilon zeta eta theta iota kappa", "epsilon zeta eta theta iota kappa lambda mu"
    assert stitch([a, b]) == "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu"
    assert stitch(["abc", "xyz"]) == "abc\nxyz"   # no shared sentence: both whole, a line apart
    assert stitch(["one two", "one two"]) == "one two\none two"   # too short to tell an overlap


@pytest.mark.parametrize("call, words", [
    (lambda t: t.search(""), "query must be a non-empty string"),
    (lambda t: t.search("x", k=0), "k must be a whole number from 1 to 50"),
    (lambda t: t.search("x", k=True), "k must be a whole number"),
    (lambda t: t.search("x", mode="fuzzy"), "mode must be one of hybrid, dense, keyword"),
    (lambda t: t.search("x", library="nope"), "No library named 'nope'; the libraries are: handbook"),
    (lambda t: t.search("x" * 3000), "send at most 2,000"),
    (lambda t: t.fetch("zz9"), "is not an id Bunko gave out"),
    (lambda t: t.fetch("p999999"), "There is no passage p999999"),
    (lambda t: t.fetch("d1", offset=10**9), "past the end"),
    (lambda t: t.ask("hello", max_tokens=0), "max_tokens must be a whole number from 1 to 2048"),
    (lambda t: t.ask("hello", model="no-such-model"), "no-such-model"),
])
def test_bad_arguments_are_refused_in_words(tools, call, words) -> None:
    with pytest.raises(Exception) as caught:
        call(tools)
    assert words in str(caught.value)


def test_index_only_inside_allowed_roots(tools, tmp_path) -> None:
    root = tools.index_roots[0]
    inside = root / "notes"
    inside.mkdir(exist_ok=True)
    (inside / "a.md").write_text("# Notes\n\nThe fire drill is on the first Monday of June.\n", encoding="utf-8")
    result = tools.index_folder(str(inside), "notes")
    assert result["library"] == "notes" and result["added"] == 1
    assert tools.search("fire drill", library="notes")["results"][0]["file"] == "a.md"

    outside = tmp_path / "private"
    outside.mkdir()
    with pytest.raises(ToolArgumentError, match="outside the folders this server may index"):
        tools.index_folder(str(outside))
    (root / "escape").symlink_to(outside)   # a link inside the root that points out of it
    with pytest.raises(ToolArgumentError, match="outside the folders"):
        tools.index_folder(str(root / "escape"))
    with pytest.raises(ToolArgumentError, match="absolute path"):
        tools.index_folder("notes")
    with pytest.raises(ToolArgumentError, match="read-only"):
        LibraryTools(tools.engine).index_folder(str(inside))


# -- the SDK's client over stdio: a real `bunko mcp` process ---------------------------------------
def _child_env(library, audit_out: Path) -> dict:
    return {"BUNKO_DATA_DIR": str(library.data), "BUNKO_DEFAULT_MODEL": os.environ["BUNKO_DEFAULT_MODEL"],
            "PYTHONPATH": str(ROOT), "BUNKO_AUDIT_OUT": str(audit_out), "OMP_NUM_THREADS": "2"}


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


@pytest.mark.slow
def test_stdio_real_client(library, embedder_dir, tmp_path) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    db = tmp_path / "b.duckdb"
    shutil.copy(library.db, db)
    audit_out = tmp_path / "audit.json"
    params = StdioServerParameters(
        command=sys.executable, cwd=str(ROOT), env=_child_env(library, audit_out),
        args=["-m", "tests.engine.mcp_child", "--db", str(db), "--embedder", str(embedder_dir), "mcp"])

    async def session() -> dict:
        seen = {}
        async with Client(params, read_timeout_seconds=300) as client:
            seen["tools"] = {t.name: t for t in (await client.list_tools()).tools}
            found = await client.call_tool("search", {"query": "出張の日当はいくら", "k": 3})
            seen["search"] = found.structured_content
            seen["bad"] = await client.call_tool("search", {"query": "per diem", "k": 500})
            seen["bad_type"] = await client.call_tool("search", {"query": "per diem", "k": "many"})
            seen["ro"] = await client.call_tool("index_folder", {"folder": "/tmp"})
            answer = await client.call_tool("ask", {"question": "What is the per diem for business trips?",
                                                    "library": "handbook", "max_tokens": 24})
            seen["ask"] = answer.structured_content
        return seen

    seen = anyio.run(session)
    assert set(seen["tools"]) == TOOLS                     # read-only: no index_folder
    assert seen["tools"]["search"].annotations.read_only_hint is True
    assert "query" in seen["tools"]["search"].input_schema["required"]
    top = seen["search"]["results"][0]
    assert top["file"] == "規程/出張.md" and "三千円" in top["text"] and top["lines"]
    assert seen["bad"].is_error and "k must be a whole number from 1 to 50" in _text(seen["bad"])
    assert seen["bad_type"].is_error and "k" in _text(seen["bad_type"])
    assert seen["ro"].is_error and "index_folder" in _text(seen["ro"])  # unknown tool, said in words
    ask = seen["ask"]
    assert ask["answer"] and ask["sources"][0]["file"] == "travel.md" and ask["model"] == "smollm2-135m"
    assert ask["citations"] and set(ask["citations"]) <= {s["number"] for s in ask["sources"]}
    assert ask["first_token_seconds"] is not None and ask["sources"][0]["id"].startswith("p")
    audit = json.loads(audit_out.read_text())
    assert audit["violations"] == []


# -- the SDK's client over streamable HTTP, with the token --------------------------------------------
@pytest.fixture(scope="module")
def http_server(library, embedder_dir, tmp_path_factory):
    copy = tmp_path_factory.mktemp("mcp-http") / "b.duckdb"
    shutil.copy(library.db, copy)
    allowed = tmp_path_factory.mktemp("http-allowed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BUNKO_DATA_DIR", str(library.data))
        slot = EngineSlot(lambda: Engine.open(copy, embedder_dir), [allowed])
        server = HttpServer(build_server(slot, allow_index=True), "127.0.0.1", 0, "s3cret-token")
        server.start()
        try:
            yield SimpleNamespace(url=server.url, token="s3cret-token", allowed=allowed)
        finally:
            server.stop()
            slot.close()


def _http_session(url: str, token: str | None, work):
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    async def run():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with create_mcp_http_client(headers=headers) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                return await work(client)

    return anyio.run(run)


def test_http_real_client_with_token(http_server, socket_audit) -> None:
    async def work(client):
        names = {t.name for t in (await client.list_tools()).tools}
        libs = (await client.call_tool("list_libraries", {})).structured_content
        found = (await client.call_tool("search", {"query": "office closed", "k": 1})).structured_content
        passage = (await client.call_tool("fetch", {"id": found["results"][0]["id"]})).structured_content
        return names, libs, found, passage

    names, libs, found, passage = _http_session(http_server.url, http_server.token, work)
    assert names == TOOLS | {"index_folder"}
    assert libs["libraries"][0]["name"] == "handbook" and libs["indexing_allowed"] is True
    assert found["results"][0]["file"] == "holidays.md" and passage["text"] == found["results"][0]["text"]
    assert any("127.0.0.1" in s for s in socket_audit.local) and not socket_audit.violations


@pytest.mark.parametrize("token", [None, "wrong"])
def test_http_refuses_missing_or_wrong_token(http_server, token) -> None:
    port = int(http_server.url.rsplit(":", 1)[1].split("/")[0])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", "/mcp", body=body, headers=headers)
    resp = conn.getresponse()
    data = json.loads(resp.read())
    conn.close()
    assert resp.status == 401 and "token" in data["error"]
    with pytest.raises(BaseException):  # noqa: B017 (the SDK's client cannot even connect)
        _http_session(http_server.url, token, lambda client: client.list_tools())


def test_http_refuses_other_than_loopback() -> None:
    from engine.errors import ServeError

    with pytest.raises(ServeError, match="serves this computer only"):
        HttpServer(None, "0.0.0.0", 0, "t")
