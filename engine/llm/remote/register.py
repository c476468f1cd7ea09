"""Adding models that run elsewhere to the registry: an endpoint, or a GGUF for a GPU server."""

from __future__ import annotations

import logging
from pathlib import Path

from ...errors import ModelError
from ...hashing import sha256_file
from ...hosts.hosts import HostSpec
from ...models.gguf_file import read_gguf_info
from . import keys
from .llama_server import DEFAULT_IDLE_MINUTES
from .openai_http import OpenAIClient, normalise_url

log = logging.getLogger(__name__)


def add_endpoint(registry, url: str, key: str | None = None, model: str | None = None,
                 name: str | None = None, n_ctx: int | None = None):
    """Ask the endpoint for its models (the user asked for this connection), pick `model`
    (or the only one), register it; the key goes to the keyring."""
    url = normalise_url(url)
    offered = OpenAIClient(url, key).models()
    if model is None:
        if len(offered) != 1:
            listed = ", ".join(offered) or "none"
            raise ModelError(f"{url} offers {len(offered)} models ({listed}); choose one with --model.")
        model = offered[0]
    elif model not in offered:
        raise ModelError(f"{url} does not offer {model!r}; it offers: {', '.join(offered) or 'nothing'}.")
    name = name or model.rsplit("/", 1)[-1]
    remote = {"model": model, "n_ctx": n_ctx}
    info = registry.insert_remote(name, "endpoint", url, remote)
    if key:
        try:
            keys.set_key(info, key)
        except ModelError:
            registry.remove(info.name)
            raise
    return info


def add_ssh(registry, spec: HostSpec, gguf: str | Path | None, name: str | None = None, n_ctx: int = 4096,
            idle_minutes: float = DEFAULT_IDLE_MINUTES, server_binary: str | None = None,
            threads: int | None = None, catalog: str | None = None, **download):
    """Register a GGUF of this computer to run with llama-server on `spec` (nothing connects yet),
    or, with `catalog` (a catalog id), download it on the server now (see add_ssh_download)."""
    if spec.kind != "ssh":
        raise ModelError("A model on a GPU server needs an SSH host (an ~/.ssh/config alias or user@host:port).")
    if catalog is not None:
        from .server_side import add_ssh_download
        return add_ssh_download(registry, spec, catalog, name=name, n_ctx=n_ctx, idle_minutes=idle_minutes,
                                server_binary=server_binary, threads=threads, **download)
    if gguf is None:
        raise ModelError("Name a .gguf file on this computer to upload, or a catalog model to download on the server.")
    info = read_gguf_info(gguf)
    if info.kind != "model":
        raise ModelError(f"{info.path} is a LoRA adapter, not a model to run on a server.")
    remote = {"host": spec.to_json(), "label": spec.label, "sha256": sha256_file(info.path).hexdigest(),
              "n_ctx": n_ctx, "idle_minutes": idle_minutes, "server_binary": server_binary, "threads": threads}
    return registry.insert_remote(name or info.path.stem, "ssh", str(info.path), remote, info=info)
