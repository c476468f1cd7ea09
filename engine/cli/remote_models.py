"""`bunko models add-endpoint / add-remote / start / stop`: models that run on a server.

Only arguments and output here; the work is in engine.llm.remote through engine.api.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ModelError
from .common import open_engine


def cmd_add_endpoint(args) -> int:
    key = None
    if args.key_stdin:
        key = sys.stdin.readline().strip() or None  # never an argument: it would sit in the shell history
        if key is None:
            raise ModelError("--key-stdin was given but no key came on standard input.")
    with open_engine(args) as engine:
        model = engine.models.add_endpoint(args.url, key, args.model, args.name, args.ctx)
    print(f"Added {model.name!r}: {model.remote['model']} at {model.path}"
          + ("; its API key is in the system keyring." if key else "."))
    print("Questions and the passages retrieved for them will be sent to that server.")
    return 0


def cmd_add_remote(args) -> int:
    from .finetune import parse_host

    spec = parse_host(args.host, args)
    if spec.kind != "ssh":
        raise ModelError("--host must name an SSH host: an alias from ~/.ssh/config or user@host[:port].")
    if (args.gguf is None) == (args.download is None):
        raise ModelError("Name either a .gguf file on this computer (uploaded on Start) or --download ID "
                         "(a catalog model, downloaded on the server now), not both.")
    with open_engine(args) as engine:
        if args.download:
            from .finetune import with_secrets

            def say(p) -> None:
                if p.message:
                    print(p.message, file=sys.stderr)
            model = with_secrets(lambda secrets: engine.models.add_remote(
                spec, None, args.name, args.ctx, args.idle_minutes, args.server_binary, catalog=args.download,
                quant=args.quant, secrets=secrets, progress=say), args)
            print(f"Downloaded {model.remote['catalog_id']} on {spec.label} and checked its sha256.")
        else:
            model = engine.models.add_remote(spec, args.gguf, args.name, args.ctx, args.idle_minutes,
                                            args.server_binary)
    print(f"Added {model.name!r} to run on {spec.label} with llama-server. Start it with: "
          f"bunko models start {model.name}")
    print("Questions and the passages retrieved for them will be sent to that server.")
    return 0


def cmd_start(args) -> int:
    from .finetune import with_secrets

    with open_engine(args) as engine:
        def say(p) -> None:
            if p.message:
                print(p.message, file=sys.stderr)
        state = with_secrets(lambda secrets: engine.models.start_remote(args.name, secrets, say), args)
        print(f"{state.model} is ready on {state.where} ({state.offload}).")
        # The engine closes the link on exit; llama-server keeps running there until it is idle.
    return 0


def cmd_stop(args) -> int:
    with open_engine(args) as engine:
        engine.models.stop_remote(args.name)
    print(f"Stopped {args.name}'s llama-server.")
    return 0


def add_remote_model_parsers(msub) -> None:
    """Add the server actions to `bunko models`' subparsers."""
    e = msub.add_parser("add-endpoint", help="add a model of an OpenAI-compatible server (vLLM, llama-server, …)",
                        description="Add a model served by any OpenAI-compatible endpoint. Its models are "
                                    "listed from URL/v1/models; the API key is kept in the system keyring.")
    e.add_argument("url", help="the server's base URL, e.g. http://gpu.example:8000/v1")
    e.add_argument("--key-stdin", action="store_true", help="read the API key from standard input")
    e.add_argument("--model", help="which of the server's models (needed when it offers more than one)")
    e.add_argument("--name", help="name to use in Bunko (default: the model's name)")
    e.add_argument("--ctx", type=int, help="the model's context length on the server (default 8192)")
    e.set_defaults(func=cmd_add_endpoint)

    r = msub.add_parser("add-remote", help="add a GGUF to run with llama-server on your GPU server over SSH",
                        description="Add a GGUF of this computer to run on a GPU server (Bunko uploads it "
                                    "once), or a catalog model downloaded there (--download); Bunko starts llama-server "
                                    "there (bound to 127.0.0.1, random API key) "
                                    "and reaches it through an SSH port-forward.")
    r.add_argument("gguf", type=Path, nargs="?", help="the .gguf file on this computer (or use --download)")
    r.add_argument("--download", metavar="ID", help="a catalog model (bunko models catalog) to download on the "
                                                    "server itself, which needs internet; checked by sha256")
    r.add_argument("--quant", help="with --download: which quantisation (default: the catalog's)")
    r.add_argument("--accept-host-key", metavar="SHA256:...", help="accept an unknown host with this fingerprint")
    r.add_argument("--host", required=True, help="an alias from ~/.ssh/config, or user@host[:port]")
    r.add_argument("--key", type=Path, help="SSH private key (default: ~/.ssh/config, the agent, your keys)")
    r.add_argument("--ssh-config", type=Path, help="another ssh_config than ~/.ssh/config")
    r.add_argument("--remote-dir", help="Bunko's folder on the host (default ~/.bunko)")
    r.add_argument("--name", help="name to use in Bunko (default: the file name)")
    r.add_argument("--ctx", type=int, default=4096, help="context length for llama-server (default 4096)")
    r.add_argument("--idle-minutes", type=float, default=30,
                   help="stop llama-server after this long without questions (default 30; 0 = never)")
    r.add_argument("--server-binary", help="a llama-server already on the host (default: Bunko's own there)")
    r.set_defaults(func=cmd_add_remote)

    s = msub.add_parser("start", help="start a model's llama-server on its GPU server and wait until it answers",
                        description="Upload the model (once), start llama-server on the host, and check it "
                                    "answers through the SSH port-forward. It stops after its idle time.")
    s.add_argument("name")
    s.add_argument("--accept-host-key", metavar="SHA256:...", help="accept an unknown host with this fingerprint")
    s.set_defaults(func=cmd_start)

    t = msub.add_parser("stop", help="stop a model's llama-server on its GPU server",
                        description="Stop the model's llama-server on its host, freeing the GPU.")
    t.add_argument("name")
    t.set_defaults(func=cmd_stop)
