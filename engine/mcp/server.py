"""`bunko mcp`: Bunko's libraries as a Model Context Protocol server, on the official `mcp` SDK.

Over stdio (the client starts `bunko mcp` itself) or, with `--http`, streamable HTTP on
127.0.0.1 with a bearer token, like `bunko serve`. The tools are those of tools.py; this
module only declares them to the SDK, turns Bunko's errors into tool errors in words, and
runs the transports.

The database is opened on the first call, not at start, and opened again on a later call
if it failed: a DuckDB file has one writer, so while the Bunko app holds it every call says
so, and calls work again once the app is closed, without restarting the client.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
import threading
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from .. import __version__
from ..errors import BunkoError, ServeError
from .tools import MAX_K, LibraryTools

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Bunko keeps private document libraries (Japanese and English) on this computer. Use search to find "
    "passages (each with file, page or heading, lines and an id), fetch to read a passage or a whole "
    "document by id, and ask for an answer written by Bunko's local model with numbered citations. "
    "Results are capped in size; when more_available is true, call again with next_offset.")


class EngineSlot:
    """The engine, opened on first use (and again after a failed open), shared by all calls."""

    def __init__(self, opener, index_roots=()) -> None:
        self._opener = opener
        self._roots = tuple(index_roots)
        self._lock = threading.Lock()
        self._tools: LibraryTools | None = None

    def tools(self) -> LibraryTools:
        with self._lock:
            if self._tools is None:
                self._tools = LibraryTools(self._opener(), self._roots)
            return self._tools

    def warm(self) -> None:
        """Open the database and load the embedder now, so the first search is quick."""
        try:
            _ = self.tools().engine.searcher.embedder
        except BunkoError as exc:
            log.warning("not ready yet: %s", exc)

    def close(self) -> None:
        with self._lock:
            if self._tools is not None:
                self._tools.engine.close()
                self._tools = None


def build_server(slot: EngineSlot, allow_index: bool = False):
    """The MCPServer with Bunko's tools (index_folder only when `allow_index`)."""
    from mcp.server import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp_types import ToolAnnotations

    server = MCPServer("bunko", title="Bunko (文庫)", version=__version__, instructions=INSTRUCTIONS,
                       log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    def call(method: str, **kwargs) -> dict[str, Any]:
        try:
            return getattr(slot.tools(), method)(**kwargs)
        except BunkoError as exc:  # the model reads this and can correct its call
            raise ToolError(str(exc)) from exc

    def list_libraries() -> dict[str, Any]:
        """The document libraries Bunko has: name, folder, documents, passages, when indexed."""
        return call("list_libraries")

    def search(
        query: Annotated[str, Field(description="what to look for, in Japanese or English")],
        library: Annotated[str | list[str] | None, Field(
            description="a library name or a list of names (default: every library)")] = None,
        k: Annotated[int, Field(description=f"passages to return, 1 to {MAX_K}")] = 5,
        mode: Annotated[str, Field(description="hybrid (default), dense (meaning) or keyword (exact terms)")
                        ] = "hybrid",
        path: Annotated[str | None, Field(description="only files whose path inside the library matches "
                                                      "this glob, e.g. '規程/*.pdf'")] = None,
        offset: Annotated[int, Field(description="skip this many results (next_offset of a previous call)")] = 0,
    ) -> dict[str, Any]:
        """Search the libraries. Each result has an id (fetch it for the passage), its document's id (fetch
        it for the whole file's text), file, page or heading, lines, score and the passage text."""
        return call("search", query=query, library=library, k=k, mode=mode, path=path, offset=offset)

    def fetch(
        id: Annotated[str, Field(description="a passage id ('p123') or a document id ('d45') from search")],
        offset: Annotated[int, Field(description="character offset to continue from (next_offset)")] = 0,
    ) -> dict[str, Any]:
        """The text of a passage or of a whole document, by the id search gave."""
        return call("fetch", id=id, offset=offset)

    def ask(
        question: Annotated[str, Field(description="the question, in Japanese or English")],
        library: Annotated[str | list[str] | None, Field(
            description="answer from this library or these libraries (default: every library)")] = None,
        use_libraries: Annotated[bool, Field(description="false: the model alone, without documents")] = True,
        model: Annotated[str | None, Field(description="a chat model registered in Bunko (default: Bunko's)")
                         ] = None,
        adapter: Annotated[str | None, Field(description="a LoRA adapter of that model")] = None,
        k: Annotated[int, Field(description="passages given to the model, 1 to 20")] = 4,
        max_tokens: Annotated[int, Field(description="answer length limit in tokens")] = 512,
    ) -> dict[str, Any]:
        """An answer from Bunko's local model with numbered citations [1], [2] of the passages listed in
        sources. Slow on a CPU (seconds to minutes): prefer search when passages are enough."""
        return call("ask", question=question, library=library, use_libraries=use_libraries, model=model,
                    adapter=adapter, k=k, max_tokens=max_tokens)

    server.add_tool(list_libraries, annotations=read_only, structured_output=True)
    server.add_tool(search, annotations=read_only, structured_output=True)
    server.add_tool(fetch, annotations=read_only, structured_output=True)
    server.add_tool(ask, annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False,
                                                     idempotent_hint=False), structured_output=True)
    if allow_index:
        def index_folder(
            folder: Annotated[str, Field(description="an absolute path inside the folders this server allows")],
            name: Annotated[str | None, Field(description="the library's name (default: the folder's)")] = None,
        ) -> dict[str, Any]:
            """Add a folder as a library and index it, or bring an indexed one up to date. Only folders inside
            the roots given to `bunko mcp --allow-index` are accepted."""
            return call("index_folder", folder=folder, name=name)

        server.add_tool(index_folder, annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False,
                                                                  idempotent_hint=True, open_world_hint=False),
                        structured_output=True)
    return server


# -- streamable HTTP --------------------------------------------------------------------------
class RequireToken:
    """ASGI middleware: every HTTP request carries 'Authorization: Bearer <token>' or gets a 401."""

    def __init__(self, app, token: str) -> None:
        self.app, self.token = app, token.encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or ()).get(b"authorization", b"")
            scheme, _, value = given.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self.token):
                log.info("refused an MCP request without the right token")
                body = json.dumps({"error": "Missing or wrong token: send the token that `bunko mcp --http` "
                                            "printed, as 'Authorization: Bearer <token>'."}).encode()
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)),
                                        (b"www-authenticate", b'Bearer realm="bunko"')]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class HttpServer:
    """The MCP server on 127.0.0.1 (a port of 0 picks a free one): `url`, then `serve()` in this
    thread or `start()` in a new one, and `stop()`."""

    def __init__(self, server, host: str, port: int, token: str) -> None:
        import uvicorn

        from ..serve.server import is_loopback

        if not is_loopback(host):
            raise ServeError(f"Refusing to listen on {host!r}: `bunko mcp --http` serves this computer only "
                             "(127.0.0.1); your libraries would be reachable from other machines.")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError as exc:
            self._sock.close()
            raise ServeError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Another program may be "
                             "using the port; choose another with --port.") from exc
        bound = self._sock.getsockname()
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{bound[1]}/mcp"
        app = RequireToken(server.streamable_http_app(host=host), token)
        self._uvicorn = uvicorn.Server(uvicorn.Config(app, log_level="warning", log_config=None,
                                                      lifespan="on", timeout_graceful_shutdown=3))
        self._thread: threading.Thread | None = None

    def serve(self) -> None:
        self._uvicorn.run(sockets=[self._sock])

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve, name="bunko-mcp-http", daemon=True)
        self._thread.start()
        for _ in range(3000):   # up to 30 s: uvicorn's imports and startup on a busy machine
            if self._uvicorn.started or not self._thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not self._uvicorn.started:
            raise ServeError("The MCP server did not start; see the log.")

    def stop(self) -> None:
        self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._sock.close()


def stdio(slot: EngineSlot, allow_index: bool) -> None:
    build_server(slot, allow_index).run("stdio")


def index_roots(paths: list[str] | None) -> list[Path]:
    """--allow-index folders, checked to exist (resolved: a symlink cannot widen them later)."""
    roots = []
    for p in paths or ():
        root = Path(p).expanduser().resolve()
        if not root.is_dir():
            raise ServeError(f"--allow-index {p}: not a folder.")
        roots.append(root)
    return roots
