"""A chat model that runs on another server, with the same few calls as a local LoadedModel.

The prompt goes as chat messages (the server applies the model's template), so context
fitting uses `count()`, an estimate in tokens from characters. An answer cut off by a
dropped link ends with finish_reason "interrupted": the chat keeps it as stopped.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator

from ...cancel import CancelToken
from ...errors import Cancelled, ModelLoadError
from ...models.gguf_file import read_gguf_info
from ...models.registry import check_adapter as check_adapter_shapes, check_file
from ...types import GenerationSettings
from ..runtime import GenerationStats
from .openai_http import Interrupted, OpenAIClient

log = logging.getLogger(__name__)

DEFAULT_CTX = 8192


def estimate_tokens(text: str) -> int:
    """Roughly what a BPE tokenizer makes of `text`: ~4 ASCII characters per token, and
    about one per Japanese character. Errs on the long side, so the prompt fits."""
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return ascii_chars // 3 + (len(text) - ascii_chars) + 1


class RemoteModel:
    """Answers through an OpenAI-compatible server. `connect` gives a client that works now
    (for a model on an SSH host it reconnects a dropped tunnel first)."""

    def __init__(self, connect: Callable[[], OpenAIClient], model: str, n_ctx: int | None,
                 where: str, on_close: Callable[[], None] | None = None,
                 on_use: Callable[[int], None] | None = None, server=None) -> None:
        self._connect = connect
        self.server = server        # the RemoteServer of a model on an SSH host (adapters go there)
        self._adapter: tuple[Any, float] | None = None   # (registry adapter, scale) attached
        self.model = model
        self.n_ctx = n_ctx or DEFAULT_CTX
        self.where = where
        self._on_close = on_close
        self._on_use = on_use

    def count(self, messages: list[dict]) -> int:
        return sum(estimate_tokens(m["content"]) + 4 for m in messages) + 2

    def encode(self, template: str | None, messages: list) -> tuple[list[dict], int]:
        """The prompt as chat messages (the server applies the model's template) and its size,
        estimated."""
        chat = [{"role": m.role, "content": m.content} for m in messages]
        return chat, self.count(chat)

    def check_adapter(self, adapter, model_info, registry) -> None:
        check_remote_base(adapter, model_info, registry, self.where)

    def special_texts(self) -> dict[str, str]:
        return {}

    def set_adapter(self, adapter, scale: float = 1.0) -> None:
        """Attach a registry adapter (its base checked by the caller) on the server, or None."""
        if adapter is None:
            self._adapter = None
            return
        if self.server is None:
            raise ModelLoadError(f"{self.where} is a server Bunko does not run; LoRA adapters can be "
                                 "attached to models on this computer or on your GPU server over SSH.")
        self.server.load_adapter(adapter)
        self._adapter = (adapter, scale)

    def forget(self) -> None:
        """The server keeps its own cache; nothing to drop here."""

    def generate(self, messages: list[dict], max_tokens: int, sampler: GenerationSettings,
                 cancel: CancelToken | None = None, stats: GenerationStats | None = None,
                 stop_at_end: bool = True) -> Iterator[str]:
        stats = stats if stats is not None else GenerationStats()
        options = {"max_tokens": max_tokens, "temperature": sampler.temperature, "top_p": sampler.top_p}
        if sampler.seed is not None:
            options["seed"] = sampler.seed
        # llama-server and vLLM take these too; other servers ignore unknown fields
        options.update({"top_k": sampler.top_k, "min_p": sampler.min_p, "repeat_penalty": sampler.repeat_penalty})
        if not stop_at_end:
            options["ignore_eos"] = True
        t0 = time.perf_counter()
        client = self._connect()
        if self._adapter is not None and self._adapter[0].fingerprint not in self.server.adapters:
            # the server was restarted without it (idle shutdown, another session): load it again
            self.server.load_adapter(self._adapter[0])
            client = self._connect()
        if self.server is not None and self.server.adapters:
            adapter, scale = self._adapter or (None, 0.0)
            options["lora"] = self.server.lora(adapter.fingerprint if adapter else None, scale)
        stats.finish_reason = "length"
        n, t_first, t_last = 0, None, None
        if self._on_use:
            self._on_use(1)   # busy: the idle watcher never stops a server mid-answer
        try:
            for piece in client.stream_chat(self.model, messages, options, cancel):
                if piece.text:
                    n += 1
                    t_last = time.perf_counter()
                    if t_first is None:
                        t_first = t_last
                        stats.time_to_first_token = t_first - t0
                    yield piece.text
                if piece.finish_reason:
                    stats.finish_reason = "stop" if piece.finish_reason == "stop" else "length"
                if piece.usage:
                    stats.prompt_tokens = int(piece.usage.get("prompt_tokens") or stats.prompt_tokens)
                    n = max(n, int(piece.usage.get("completion_tokens") or 0))
                if piece.timings:
                    stats.server = dict(piece.timings)
            if cancel is not None and cancel.cancelled:
                stats.finish_reason = "cancelled"
        except Interrupted as exc:
            log.warning("the answer from %s broke off: %s", self.where, exc)
            stats.finish_reason = "interrupted"
            stats.error = (f"The connection to {self.where} dropped during the answer; what came is kept. "
                           "Ask again: Bunko reconnects.")
        except GeneratorExit:
            stats.finish_reason = "cancelled"
            raise
        except Cancelled:
            stats.finish_reason = "cancelled"
            raise
        finally:
            stats.completion_tokens = n
            if t_first is not None and t_last is not None:
                stats.generation_seconds = t_last - t_first
            if self._on_use:
                self._on_use(-1)

    def close(self) -> None:
        if self._on_close:
            self._on_close()


def check_remote_base(adapter, model, registry, where: str) -> None:
    """An adapter on a model that runs elsewhere: its base must be the very GGUF that runs there
    (same fingerprint), and only llama-server on the user's own server can attach it. Checked
    before anything is uploaded."""
    if model.location != "ssh":
        raise ModelLoadError(f"{model.name} runs on {where}, a server Bunko does not start; LoRA adapters "
                             "can be attached to models on this computer or on your GPU server over SSH.")
    base = registry.get(adapter.base_model)
    if not model.fingerprint or (base.size, base.fingerprint) != (model.size, model.fingerprint):
        raise ModelLoadError(
            f"The adapter {adapter.name} was trained for {base.name}, but {model.name} on {where} runs "
            f"another GGUF file; the adapter would not fit it. Add {base.name}'s GGUF as a model on that "
            f"server (bunko models add-remote {base.path} …) and attach the adapter there.")
    check_file(adapter)
    if Path(model.path).is_file():  # the shapes, as llama.cpp will check them (it would abort)
        check_adapter_shapes(read_gguf_info(adapter.path), read_gguf_info(model.path), model.name)
