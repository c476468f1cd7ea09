"""A model whose GGUF lives on the GPU server only: downloaded there from the catalog.

Adding it connects (the user asked), checks that the model fits the server's GPU with the
catalog's numbers before a byte moves, downloads it there (server_download), reads its
header back over SFTP (a few MB) and registers it with the fingerprint measured there.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from collections.abc import Callable

from ... import paths
from ...cancel import CancelToken
from ...errors import ModelError, ModelFileError
from ...hosts.connect import connect
from ...hosts.hosts import HostSpec, Secrets
from ...types import Progress
from ...models import catalog as catalog_mod
from ...models import gguf_file
from ...models.download import endpoint_url
from ..fit import header_for
from . import server_gpu
from .server_download import ServerFile, download_on_server

HEADER_READS = (16 * 1024 * 1024, 128 * 1024 * 1024)   # most headers fit the first; big vocabularies the second


def models_dir(host) -> str:
    return posixpath.join(host.root, "llama-server", "models")


def read_header(host, path: str, size: int) -> gguf_file.GGUFInfo:
    """The GGUF header of a file on the host, read over SFTP in one bounded piece."""
    for limit in HEADER_READS:
        data = host.read_from(path, 0, min(limit, size))
        if data[:4] != gguf_file.MAGIC:
            raise ModelFileError(f"{path} on the server is not a GGUF model.")
        try:
            return gguf_file._parse(Path(path), size, data)
        except gguf_file._Truncated:
            if limit >= size:
                break
    raise ModelFileError(f"The header of {path} on the server is larger than Bunko reads "
                         f"({HEADER_READS[-1] // 2**20} MiB) or damaged.")


def catalog_url(entry, quant: str | None, endpoint: str | None) -> tuple[str, catalog_mod.CatalogFile]:
    f = entry.file(quant)
    return f"{endpoint_url(endpoint)}/{entry.repo}/resolve/{entry.revision}/{f.file}", f


def fetch_there(host, url: str, size: int, sha256: str | None, label: str, progress, cancel) -> ServerFile:
    return download_on_server(host, url, models_dir(host), size, sha256, label, progress, cancel)


def add_ssh_download(registry, spec: HostSpec, catalog_id: str, name: str | None = None, n_ctx: int = 4096,
                     idle_minutes: float = 30, server_binary: str | None = None, threads: int | None = None,
                     quant: str | None = None, endpoint: str | None = None, secrets: Secrets | None = None,
                     progress: Callable[[Progress], None] | None = None, cancel: CancelToken | None = None,
                     catalog_list: list | None = None):

    entry = catalog_mod.find(catalog_id, catalog_list)
    url, f = catalog_url(entry, quant, endpoint)
    if not entry.trusted(f.quant):
        raise ModelError(f"The catalog does not pin {entry.name} {f.quant} (a commit, its exact size and sha256), "
                         "so a download on the server could not be checked. Choose a pinned model, or upload "
                         "this one from this computer instead.")
    name = name or f"{entry.id}-{f.quant.lower()}"
    if any(m.name == name for m in registry.list()):
        raise ModelError(f"A model called {name!r} is already added. Choose another name with --name.")
    host = connect(spec, paths.data_dir(), secrets)
    try:
        # too big for the server's GPU: said with the numbers before downloading
        server_gpu.plan_layers(server_gpu.probe_gpu(host), header_for(entry, f), n_ctx, name, spec.label)
        got = fetch_there(host, url, f.size, f.sha256, spec.label, progress, cancel)
        info = read_header(host, got.path, got.size)
    finally:
        host.close()
    if info.kind != "model":
        raise ModelError(f"{entry.name} {f.quant} is not a chat model GGUF.")
    remote = {"host": spec.to_json(), "label": spec.label, "sha256": got.sha256, "server_file": got.path,
              "url": url, "n_ctx": n_ctx, "idle_minutes": idle_minutes, "server_binary": server_binary,
              "threads": threads, "catalog_id": entry.id}
    model = registry.insert_remote(name, "ssh", got.path, remote, info=info, on_server=got.fingerprint)
    registry.set_origin(model.name, {"source": {"repo": entry.repo, "revision": entry.revision, "file": f.file,
                                                "sha256": got.sha256, "endpoint": endpoint_url(endpoint),
                                                "on_server": spec.label},
                                     "catalog_id": entry.id, "languages": list(entry.languages),
                                     "licence": entry.licence, "licence_url": entry.licence_url})
    return registry.get(model.name)
