"""`bunko mcp`: Bunko's libraries for MCP clients (engine/mcp/), from the command line.

Over stdio nothing may be printed on stdout (it carries the protocol): messages go to stderr.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import threading

log = logging.getLogger(__name__)

TOKEN_ENV = "BUNKO_MCP_TOKEN"  # a fixed token for --http, kept off the command line (visible in ps)


def cmd_mcp(args) -> int:
    from ..mcp.server import EngineSlot, HttpServer, build_server, index_roots, stdio
    from .common import open_engine

    roots = index_roots(args.allow_index)
    slot = EngineSlot(lambda: open_engine(args), roots)
    try:
        if not args.http:
            threading.Thread(target=slot.warm, name="bunko-mcp-warm", daemon=True).start()
            stdio(slot, bool(roots))
            return 0
        token = args.token or os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)
        http = HttpServer(build_server(slot, bool(roots)), args.host, args.port, token)
        slot.warm()
        print(f"Bunko's MCP server (streamable HTTP) is at {http.url}", flush=True)
        print(f"Token: {token}  (clients send 'Authorization: Bearer <token>')")
        print("Read-only" if not roots else f"Indexing allowed inside: {', '.join(map(str, roots))}",
              "· Ctrl-C stops.", flush=True)
        http.serve()
        return 0
    except KeyboardInterrupt:
        print("\nStopping.", file=sys.stderr)
        return 0
    finally:
        slot.close()


def add_mcp_parser(sub) -> None:
    p = sub.add_parser(
        "mcp", help="a Model Context Protocol server: search, fetch and ask from MCP clients",
        description="Serve the libraries to MCP clients (Claude Desktop, VS Code, Cursor, agents) with the "
                    "tools list_libraries, search, fetch and ask. Over stdio by default (the client starts "
                    "`bunko mcp`); with --http, streamable HTTP on 127.0.0.1 with a token. Read-only unless "
                    "--allow-index names folders inside which clients may add and index libraries.")
    p.add_argument("--http", action="store_true", help="streamable HTTP instead of stdio")
    p.add_argument("--host", default="127.0.0.1", help="with --http: loopback address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8766, help="with --http: port (default 8766; 0 picks a free one)")
    p.add_argument("--token", help=f"with --http: the token clients send (default: ${TOKEN_ENV}, else a new one)")
    p.add_argument("--allow-index", action="append", metavar="ROOT",
                   help="add the index_folder tool, for folders inside ROOT only (repeatable)")
    p.set_defaults(func=cmd_mcp)
