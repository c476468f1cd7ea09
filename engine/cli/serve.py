"""`bunko serve`: the OpenAI-compatible API of engine/serve/, from the command line.

Like the rest of engine/cli/ this only translates arguments and output; BunkoErrors are
turned into messages by cli.main.
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger(__name__)

TOKEN_ENV = "BUNKO_SERVE_TOKEN"  # a fixed token without putting it on the command line (visible in ps)


def cmd_serve(args) -> int:
    from ..api import Engine
    from ..serve.server import make_server

    with Engine.open(args.db, args.embedder) as engine:
        server, token = make_server(engine, args.host, args.port, args.token or os.environ.get(TOKEN_ENV),
                                    args.allow_remote)
        try:
            # Loaded now, so that the first request does not wait for them.
            state = engine.models.load(args.model)
            _ = engine.searcher.embedder
            model = args.model or state.model
            print(f"Bunko is serving {state.model} ({state.offload}) at {server.url}", flush=True)
            print(f"API key: {token}")
            print("Example:")
            print(f"  curl {server.url}/chat/completions -H 'Authorization: Bearer {token}' "
                  "-H 'Content-Type: application/json' "
                  f"-d '{{\"model\": \"{model}\", \"messages\": [{{\"role\": \"user\", \"content\": \"Hello\"}}]}}'")
            print(f"OpenAI clients: base_url={server.url} api_key=<the key>. Models: GET {server.url}/models. "
                  "Ctrl-C stops.", flush=True)
            server.serve_forever()
        except KeyboardInterrupt:
            print("\nStopping.", file=sys.stderr)
        finally:
            server.stopping.set()  # answers in progress end at their next token, freeing the model
            server.server_close()
    return 0


def add_serve_parser(sub) -> None:
    p = sub.add_parser(
        "serve", help="an OpenAI-compatible API for other programs (127.0.0.1 only by default)",
        description="Serve the local models and libraries over an OpenAI-compatible HTTP API: "
                    "/v1/models, /v1/chat/completions (model 'bunko:LIBRARY' answers from a library, "
                    "with its sources) and /v1/embeddings. Every request needs the printed token.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--token", help=f"API key clients must send (default: ${TOKEN_ENV}, else a new random one)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a --host other than this computer; the traffic is not encrypted")
    p.add_argument("--model", help="chat model to load first (default: the embedded one)")
    p.set_defaults(func=cmd_serve)
