"""Open a registered remote model (kind endpoint or ssh) as a RemoteModel for ModelHost."""

from __future__ import annotations

from pathlib import Path

from ...errors import ModelLoadError
from . import keys
from .llama_server import RemoteServer
from .model import RemoteModel
from .openai_http import OpenAIClient


def open_endpoint(info) -> RemoteModel:
    remote = info.remote or {}
    key = keys.get_key(info)
    url = info.path
    return RemoteModel(lambda: OpenAIClient(url, key), remote.get("model") or info.name,
                       remote.get("n_ctx"), url)


def open_ssh(info, server: RemoteServer) -> RemoteModel:
    def client():
        return server.client()
    return RemoteModel(client, info.name, server.n_ctx, "ssh " + server.spec.label,
                       on_use=server.touch, server=server)


def server_for(info, root: Path, secrets=None) -> RemoteServer:
    if info.location != "ssh":
        raise ModelLoadError(f"{info.name} does not run on a GPU server of yours; nothing to start or stop.")
    return RemoteServer(info, root, secrets)
