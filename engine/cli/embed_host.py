"""`bunko index FOLDER --embed-host HOST`: the library's passages embedded on the user's GPU server.

Only arguments, the one-time notice and output here; the work is in engine.embed.remote
through engine.libraries.index.
"""

from __future__ import annotations

import sys

from ..errors import EmbedderError


def add_embed_host_arguments(p) -> None:
    p.add_argument("--embed-host", metavar="HOST", help="embed on your GPU server over SSH: an alias from "
                   "~/.ssh/config or user@host[:port] (the text of the files goes there; asked once)")
    add_ssh_arguments(p)


def add_ssh_arguments(p) -> None:
    p.add_argument("--host-python", dest="env_python", metavar="PYTHON",
                   help="the Python on the host that has onnxruntime (default python3)")
    p.add_argument("--accept-host-key", metavar="SHA256:...", help="accept an unknown host with this fingerprint")
    p.add_argument("--key", help="SSH private key (default: ~/.ssh/config, the agent, your keys)")
    p.add_argument("--ssh-config", help="another ssh_config than ~/.ssh/config")
    p.add_argument("--remote-dir", help="Bunko's folder on the host (default ~/.bunko)")


def told_and_agreed(label: str, library: str, yes: bool) -> bool:
    """The notice, once per host: the text goes to that server. Yes from --yes or a person."""
    from ..embed.remote import agree, agreed, notice
    from ..paths import data_dir

    if agreed(data_dir(), label):
        return True
    print(notice(label, library), file=sys.stderr)
    if not yes:
        if not sys.stdin.isatty():
            return False
        try:
            if input(f"Send the text to {label}? [y/N] ").strip().lower() not in ("y", "yes", "はい"):
                return False
        except EOFError:
            return False
    agree(data_dir(), label)
    return True


def index_on_host(engine, lib, args, progress, cancel, rebuild: bool):
    from .finetune import parse_host, with_secrets

    if args.watch:
        raise EmbedderError("--watch and --embed-host do not go together: a watched library is embedded here.")
    spec = parse_host(args.embed_host, args)
    if spec.kind != "ssh":
        raise EmbedderError("--embed-host must name an SSH host: an alias from ~/.ssh/config or user@host[:port].")
    if not told_and_agreed(spec.label, lib.name, args.yes):
        raise EmbedderError(f"Nothing was sent to {spec.label}. Run again at a terminal and answer y, or add --yes "
                            "to agree; without --embed-host the library is embedded on this computer.")

    def say(text: str) -> None:
        if not args.quiet:
            print(text, file=sys.stderr)

    return with_secrets(lambda secrets: engine.libraries.index(lib.name, progress, cancel, rebuild=rebuild,
                                                               host=spec, secrets=secrets, say=say), args)
