"""Stand-ins for the two real models, for the fast tier's tests of the logic around them.

`HashEmbedder` has the interface of engine.embed.OnnxEmbedder (name, model_id, dim,
max_tokens, count_tokens, embed_passages, embed_queries) and turns text into vectors by hashing
its words (and, for Japanese, its character pairs): deterministic, no model file, and texts that
share words land near each other, so search still finds what a test asks for.

`ScriptedModel` has the interface of the chat model the host holds (engine/llm/supervised.py
LocalModel, engine/llm/remote/model.py RemoteModel: encode, check_adapter, set_adapter,
generate, next_token_probs, close ...) and answers with text a test scripts. The `scripted_model`
fixture (tests/conftest.py) makes the engine's ModelHost start one instead of a llama.cpp worker,
so the chat, the lab, serve and MCP run their own code on it.

The real models are tested on their own, in the end-to-end tier (pytest -m e2e).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from collections.abc import Callable

import numpy as np

from engine.errors import ModelLoadError

_WORD = re.compile(r"[0-9A-Za-z]+|[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def _features(text: str) -> list[str]:
    """Lower-cased words, and character pairs of Japanese runs (which have no spaces)."""
    out: list[str] = []
    for word in _WORD.findall(text):
        if _CJK.match(word):
            out.extend(word[i:i + 2] for i in range(max(1, len(word) - 1)))
        else:
            out.append(word.lower())
    return out


class HashEmbedder:
    """Deterministic vectors from hashed words; the interface of OnnxEmbedder."""

    def __init__(self, dim: int = 64, name: str = "hash-embedder", max_tokens: int = 512) -> None:
        self.name = name
        self.dim = dim
        self.max_tokens = max_tokens
        self.model_id = f"{name}@{dim}"
        self.graph = "exact"
        self.providers = ["HashEmbedder"]
        self.threads = 1
        self.model_dir = None
        self.calls = 0   # embed_* calls, so a test can see the embedder was (or was not) used

    def count_tokens(self, texts: list[str]) -> list[int]:
        if isinstance(texts, str):
            raise TypeError("expected a list of texts, got one string")
        return [len(_features(t)) + 2 for t in texts]

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, np.float32)
        for feature in _features(text)[: self.max_tokens - 2]:
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            vec[int.from_bytes(digest[:4], "little") % self.dim] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:   # no words at all: a fixed unit vector rather than zeros (cosine stays defined)
            vec[0], norm = 1.0, 1.0
        return vec / norm

    def _embed(self, texts: list[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("expected a list of texts, got one string")
        self.calls += 1
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_passages(self, texts: list[str], batch_size: int = 32, background: bool = False) -> np.ndarray:
        return self._embed(texts)

    def embed_queries(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._embed(texts)


class StubEmbedder:
    """Counts a token per four characters; zero vectors: enough for the indexer's plumbing and
    keyword search. `counted`: characters handed to count_tokens (the chunker's work)."""

    name, model_id, dim, max_tokens = "stub", "stub@0", 8, 512

    def __init__(self) -> None:
        self.counted = 0

    def count_tokens(self, texts: list[str]) -> list[int]:
        self.counted += sum(len(t) for t in texts)
        return [len(t) // 4 + 2 for t in texts]

    def embed_passages(self, texts: list[str], batch_size: int = 32, background: bool = False) -> np.ndarray:
        return np.zeros((len(texts), self.dim), np.float32)


@dataclass
class Prompted:
    """One request the scripted model received."""

    messages: list[dict]
    adapter: str | None
    max_tokens: int

    @property
    def question(self) -> str:
        """The last user message (with the sources block, when the chat added one)."""
        users = [m["content"] for m in self.messages if m["role"] == "user"]
        return users[-1] if users else ""

    @property
    def system(self) -> str:
        return next((m["content"] for m in self.messages if m["role"] == "system"), "")


Reply = Callable[[Prompted], str]


@dataclass
class Script:
    """What the scripted models answer, and what they were asked. `rules`: (substring of the
    last user message, reply) pairs, first match wins (that message holds the sources the chat
    put in the prompt as well as the question: pick a needle of the question's own words);
    `adapter_rules`: the reply when an adapter is attached (keyed by the adapter's name, or "*"
    for any); else `default` (text, or a function of the Prompted request)."""

    default: str | Reply = "I could not find that in the documents."
    rules: list[tuple[str, str]] = field(default_factory=list)
    adapter_rules: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0                        # a pause before each piece (tests that stop answers)
    prompts: list[Prompted] = field(default_factory=list)
    models: list[ScriptedModel] = field(default_factory=list)   # every one started, in order

    def reply(self, request: Prompted) -> str:
        if request.adapter is not None:
            for key in (request.adapter, "*"):
                if key in self.adapter_rules:
                    return self.adapter_rules[key]
        for needle, text in self.rules:
            if needle in request.question:
                return text
        return self.default(request) if callable(self.default) else self.default

    def on(self, needle: str, text: str) -> Script:
        self.rules.append((needle, text))
        return self


class ScriptedModel:
    """A chat model that answers from a Script: the calls of LocalModel/RemoteModel that the
    host, the chat, the lab's judge and serve make. Prompts are chat messages (as for a remote
    model), their size estimated at four characters a token."""

    where = "this computer"

    def __init__(self, script: Script | None = None, n_ctx: int = 4096, label: str = "scripted") -> None:
        self.script = script or Script()
        self.n_ctx = n_ctx
        self.label = label
        self.n_gpu_layers = 0
        self.extra_bufts = True
        self.crashed: str | None = None
        self.pid = None
        self.buffers = ()
        self.adapter = None
        self.scale = 1.0
        self.closed = False
        self.script.models.append(self)

    # -- prompts -------------------------------------------------------------------------
    def special_texts(self) -> dict[str, str]:
        return {}

    def count(self, messages: list[dict]) -> int:
        return sum(len(m["content"]) // 4 + 4 for m in messages) + 2

    def encode(self, template: str | None, messages: list) -> tuple[list[dict], int]:
        chat = [{"role": m.role, "content": m.content} for m in messages]
        return chat, self.count(chat)

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        return list(text.encode("utf-8"))

    # -- adapters ------------------------------------------------------------------------
    def check_adapter(self, adapter, model_info, registry) -> None:
        if adapter.base_model != model_info.name:   # as LocalModel.check_adapter
            raise ModelLoadError(
                f"The adapter {adapter.name} was trained for {adapter.base_model}, not for "
                f"{model_info.name}; it would not work on this model.")

    def set_adapter(self, adapter, scale: float = 1.0) -> None:
        self.adapter, self.scale = adapter, scale

    def forget(self) -> None:
        """No cache to drop."""

    # -- answers -------------------------------------------------------------------------
    def generate(self, payload, max_tokens: int, sampler, cancel=None, stats=None,
                 stop_at_end: bool = True):
        """Stream the scripted reply a word at a time; `max_tokens` counts the pieces."""
        from engine.llm.runtime import GenerationStats

        stats = stats if stats is not None else GenerationStats()
        messages = payload if isinstance(payload, list) and payload and isinstance(payload[0], dict) else []
        request = Prompted(messages, self.adapter.name if self.adapter is not None else None, max_tokens)
        self.script.prompts.append(request)
        pieces = re.findall(r"\s*\S+", self.script.reply(request))
        stats.prompt_tokens = self.count(messages)
        stats.finish_reason = "stop" if len(pieces) <= max_tokens else "length"
        t0 = time.perf_counter()
        n = 0
        try:
            for piece in pieces[:max_tokens]:
                if cancel is not None and cancel.cancelled:
                    stats.finish_reason = "cancelled"
                    break
                if self.script.delay_s:
                    time.sleep(self.script.delay_s)
                if n == 0:
                    stats.time_to_first_token = time.perf_counter() - t0
                n += 1
                yield piece
        except GeneratorExit:
            stats.finish_reason = "cancelled"
            raise
        finally:
            stats.completion_tokens = n
            stats.generation_seconds = max(1e-6, time.perf_counter() - t0)

    def next_token_probs(self, tokens, candidates: list[int], cancel=None) -> list[float]:
        """The judge's grades: the highest grade most likely (a scripted, generous judge)."""
        weights = [float(i + 1) for i in range(len(candidates))]
        total = sum(weights)
        return [w / total for w in weights]

    def alive(self) -> bool:
        return not self.closed

    def memory_bytes(self) -> int | None:
        return None

    def close(self) -> None:
        self.closed = True


# -- model files read once per session ---------------------------------------------------------

_READS: dict[tuple, object] = {}

# What the registry and the host read from a model file each time a fresh database registers
# the built-in model or loads it: the GGUF header (its vocabulary array: a quarter of a second)
# and the language scan of that vocabulary (a second or more). Pure functions of the file's
# bytes, so the fast tier keeps one answer per unchanged file. (module, name) as imported.
FILE_READS = (("engine.models.gguf_file", "read_gguf_info"), ("engine.llm.host", "read_gguf_info"),
              ("engine.models.registry", "read_gguf_info"), ("engine.models.languages", "detect"))


def _once_per_file(name: str, real):
    def read(path, *args, **kwargs):
        from pathlib import Path

        try:
            st = Path(path).expanduser().stat()
        except OSError:
            return real(path, *args, **kwargs)   # the real error, in the real words
        key = (name, str(Path(path).expanduser().resolve()), st.st_size, st.st_mtime_ns, args,
               tuple(sorted(kwargs.items())))
        if key not in _READS:
            _READS[key] = real(path, *args, **kwargs)
        return _READS[key]

    read.__wrapped__ = real
    return read


def read_model_files_once(monkeypatch) -> None:
    import importlib

    for module_name, name in FILE_READS:
        module = importlib.import_module(module_name)
        real = getattr(module, name)
        monkeypatch.setattr(module, name, _once_per_file(name, getattr(real, "__wrapped__", real)))
