"""One GGUF model loaded in llama.cpp, and a decode loop that stays out of its way.

This talks to llama.cpp through llama-cpp-python's raw bindings rather than its
`Llama` class: that class copies the logits into numpy and runs a Python
sampler callback for every token, which cost a fifth of the speed of a small
model on two cores. Here one token costs four C calls (decode, sample, end
test, piece) and the sampler chain runs in C.

The tokens in the KV cache are remembered, so a prompt that starts like the
previous one (the next turn of a conversation) only decodes what is new.
"""

from __future__ import annotations

import codecs
import ctypes
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator

from ..cancel import CancelToken
from ..errors import BunkoError, Cancelled, ModelLoadError
from ..types import GenerationSettings

log = logging.getLogger(__name__)

_backend_lock = threading.Lock()
_backend_ready = False
_log_callback = None  # kept referenced: llama.cpp holds the pointer


def llama():
    """The llama_cpp bindings, imported on first use with llama.cpp's log sent to `logging`."""
    global _backend_ready, _log_callback
    try:
        import llama_cpp
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise ModelLoadError(
            "llama-cpp-python is not installed, so no model can run. "
            "Install it with: pip install llama-cpp-python") from exc
    with _backend_lock:
        if not _backend_ready:
            llama_cpp.llama_backend_init()
            native = logging.getLogger("llama.cpp")

            def forward(level, text, _user):
                if native.isEnabledFor(logging.DEBUG):
                    native.debug(text.decode("utf-8", "replace").rstrip())

            _log_callback = llama_cpp.llama_log_callback(forward)
            llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
            _backend_ready = True
    return llama_cpp


def default_threads() -> int:
    """Physical cores, roughly: above four logical CPUs assume two threads per core."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        n = os.cpu_count() or 2
    return max(1, n // 2 if n > 4 else n)


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    reused_tokens: int = 0           # prompt tokens found in the KV cache already
    completion_tokens: int = 0
    time_to_first_token: float = 0.0
    generation_seconds: float = 0.0
    finish_reason: str = ""          # stop | length | cancelled | interrupted (a remote link dropped)
    server: dict | None = None       # a remote server's own timings (llama-server), when it sends them
    error: str | None = None         # why an answer was interrupted, for people

    @property
    def tokens_per_second(self) -> float:
        # the first token comes with the prompt, so it is not part of the rate
        n = self.completion_tokens - 1
        return n / self.generation_seconds if n > 0 and self.generation_seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "reused_tokens": self.reused_tokens,
                "completion_tokens": self.completion_tokens,
                "time_to_first_token": round(self.time_to_first_token, 4),
                "tokens_per_second": round(self.tokens_per_second, 2), "finish_reason": self.finish_reason,
                **({"server": self.server} if self.server else {}), **({"error": self.error} if self.error else {})}


class LoadedModel:
    """A llama.cpp model and context. Not thread-safe: `Runtime` serialises use."""

    def __init__(self, path: Path, n_ctx: int, n_threads: int, n_batch: int, n_gpu_layers: int,
                 flash_attn: bool | None = None, extra_bufts: bool = True) -> None:
        lc = llama()
        self._lc = lc
        self.path = Path(path)
        mparams = lc.llama_model_default_params()
        mparams.n_gpu_layers = n_gpu_layers
        mparams.use_mmap = True
        # Extra buffer types hold repacked weights for faster kernels (AMX, AVX-512); the
        # probe turns them off on a machine where those kernels crash (engine/llm/probe.py).
        mparams.use_extra_bufts = extra_bufts
        self._model = lc.llama_model_load_from_file(str(self.path).encode("utf-8"), mparams)
        if not self._model:
            raise ModelLoadError(f"llama.cpp could not load {self.path.name}. The file may be damaged, "
                                 "or made for a newer llama.cpp; run with -v for its log.")
        self._vocab = lc.llama_model_get_vocab(self._model)
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = n_ctx
        cparams.n_batch = n_batch
        cparams.n_ubatch = n_batch
        cparams.n_threads = n_threads
        cparams.n_threads_batch = n_threads
        cparams.no_perf = True
        if flash_attn is not None:
            cparams.flash_attn_type = (lc.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attn
                                       else lc.LLAMA_FLASH_ATTN_TYPE_DISABLED)
        self._ctx = lc.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            lc.llama_model_free(self._model)
            self._model = None
            raise ModelLoadError(f"Not enough memory for {self.path.name} with a context of {n_ctx} tokens. "
                                 "Choose a smaller context size or fewer GPU layers.")
        self._mem = lc.llama_get_memory(self._ctx)
        self.n_ctx = lc.llama_n_ctx(self._ctx)
        self.n_batch = n_batch
        self.n_threads = n_threads
        self.n_gpu_layers = n_gpu_layers
        self.extra_bufts = extra_bufts
        self.n_vocab = lc.llama_vocab_n_tokens(self._vocab)
        self.cached: list[int] = []     # the tokens now in the KV cache, in order
        self._adapter = None
        self._adapter_path: Path | None = None
        self._piece_buf = ctypes.create_string_buffer(256)

    # -- vocabulary --------------------------------------------------------
    def tokenize(self, text: str, special: bool = False) -> list[int]:
        """Tokens of `text`. With special=False, text such as "<|im_end|>" stays text:
        that is what keeps a document or a question from posing as the template."""
        data = text.encode("utf-8")
        cap = len(data) + 8
        buf = (self._lc.llama_token * cap)()
        n = self._lc.llama_tokenize(self._vocab, data, len(data), buf, cap, False, special)
        if n < 0:
            cap = -n
            buf = (self._lc.llama_token * cap)()
            n = self._lc.llama_tokenize(self._vocab, data, len(data), buf, cap, False, special)
        return list(buf[:n])

    def tokenize_many(self, parts: list[tuple[str, bool]]) -> list[list[int]]:
        return [self.tokenize(text, special) for text, special in parts]

    def token_text(self, token: int) -> str:
        return (self._lc.llama_vocab_get_text(self._vocab, token) or b"").decode("utf-8", "replace")

    @property
    def bos(self) -> int | None:
        if not self._lc.llama_vocab_get_add_bos(self._vocab):
            return None
        t = self._lc.llama_vocab_bos(self._vocab)
        return t if t >= 0 else None

    def special_texts(self) -> dict[str, str]:
        """bos/eos token texts, for chat templates that write them."""
        out = {}
        for key, fn in (("bos_token", self._lc.llama_vocab_bos), ("eos_token", self._lc.llama_vocab_eos)):
            t = fn(self._vocab)
            out[key] = self.token_text(t) if t >= 0 else ""
        return out

    def meta(self, key: str) -> str | None:
        buf = ctypes.create_string_buffer(4096)
        n = self._lc.llama_model_meta_val_str(self._model, key.encode(), buf, len(buf))
        return buf.value.decode("utf-8", "replace") if n >= 0 else None

    # -- adapters ----------------------------------------------------------
    def set_adapter(self, path: Path | None, scale: float = 1.0) -> None:
        """Attach a GGUF LoRA (or detach with None). The KV cache was computed without
        it, so it is dropped."""
        lc = self._lc
        if path is not None and self._adapter_path != Path(path):
            adapter = lc.llama_adapter_lora_init(self._model, str(path).encode("utf-8"))
            if not adapter:
                raise ModelLoadError(f"llama.cpp could not load the adapter {Path(path).name} on "
                                     f"{self.path.name}; it may be made for another model.")
            self._drop_adapter()
            self._adapter, self._adapter_path = adapter, Path(path)
        if path is None:
            self._drop_adapter()
        else:
            adapters = (lc.llama_adapter_lora_p_ctypes * 1)(self._adapter)
            scales = (ctypes.c_float * 1)(scale)
            if lc.llama_set_adapters_lora(self._ctx, adapters, 1, scales) != 0:
                raise ModelLoadError(f"llama.cpp refused the adapter {Path(path).name}.")
        self.forget()

    def _drop_adapter(self) -> None:
        if self._adapter is not None:
            self._lc.llama_set_adapters_lora(self._ctx, None, 0, None)
            self._lc.llama_adapter_lora_free(self._adapter)
            self._adapter, self._adapter_path = None, None

    # -- evaluation --------------------------------------------------------
    def forget(self) -> None:
        """Empty the KV cache."""
        self._lc.llama_memory_clear(self._mem, True)
        self.cached = []

    def _decode(self, tokens: list[int], cancel: CancelToken | None) -> None:
        lc = self._lc
        for start in range(0, len(tokens), self.n_batch):
            if cancel is not None and cancel.cancelled:
                raise Cancelled("Stopped.")
            part = tokens[start:start + self.n_batch]
            arr = (lc.llama_token * len(part))(*part)
            rc = lc.llama_decode(self._ctx, lc.llama_batch_get_one(arr, len(part)))
            if rc != 0:
                self.forget()
                raise BunkoError(f"llama.cpp failed to read the prompt (code {rc}); "
                                 "the context may be full.")
            self.cached.extend(part)

    def prefill(self, tokens: list[int], cancel: CancelToken | None = None) -> int:
        """Bring the KV cache to `tokens` minus the last one; return how many were reused.

        The last prompt token is left for `generate`, whose first decode yields the
        logits of the first answer token."""
        if len(tokens) >= self.n_ctx:
            raise BunkoError(f"The prompt has {len(tokens)} tokens but the context holds {self.n_ctx}.")
        keep = 0
        limit = min(len(self.cached), len(tokens) - 1)
        while keep < limit and self.cached[keep] == tokens[keep]:
            keep += 1
        if keep < len(self.cached):
            if not self._lc.llama_memory_seq_rm(self._mem, 0, keep, -1):
                self.forget()
                keep = 0
            else:
                del self.cached[keep:]
        self._decode(tokens[keep:-1], cancel)
        return keep

    def generate(self, tokens: list[int], max_tokens: int, sampler: GenerationSettings,
                 cancel: CancelToken | None = None, stats: GenerationStats | None = None,
                 stop_at_end: bool = True) -> Iterator[str]:
        """Stream the answer to `tokens` as text pieces. Stopping the iteration early is fine.

        stop_at_end=False runs past the end-of-turn token (benchmarks need a fixed length)."""
        lc = self._lc
        stats = stats if stats is not None else GenerationStats()
        t0 = time.perf_counter()
        stats.prompt_tokens = len(tokens)
        stats.reused_tokens = self.prefill(tokens, cancel)
        chain = self._sampler(sampler)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        # Bound once: attribute lookups are most of Python's share of a token.
        decode, sample, is_eog, piece = lc.llama_decode, lc.llama_sampler_sample, lc.llama_vocab_is_eog, lc.llama_token_to_piece
        ctx, vocab, buf, cached = self._ctx, self._vocab, self._piece_buf, self.cached
        one = (lc.llama_token * 1)(tokens[-1])
        batch = lc.llama_batch_get_one(one, 1)
        room = self.n_ctx - len(cached) - 1
        n = 0
        t_first = None
        stats.finish_reason = "length"
        try:
            while n < min(max_tokens, room):
                if cancel is not None and cancel.cancelled:
                    stats.finish_reason = "cancelled"
                    break
                if decode(ctx, batch) != 0:
                    self.forget()
                    raise BunkoError("llama.cpp failed while generating; the context may be full.")
                cached.append(one[0])
                token = sample(chain, ctx, -1)
                n += 1
                if t_first is None:
                    t_first = time.perf_counter()
                    stats.time_to_first_token = t_first - t0
                if stop_at_end and is_eog(vocab, token):
                    stats.finish_reason = "stop"
                    break
                size = piece(vocab, token, buf, 256, 0, False)
                text = decoder.decode(buf.raw[:size]) if size > 0 else ""
                one[0] = token
                stats.completion_tokens = n
                if text:
                    yield text
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
        except GeneratorExit:
            stats.finish_reason = "cancelled"
            raise
        finally:
            stats.completion_tokens = n
            if t_first is not None:
                stats.generation_seconds = time.perf_counter() - t_first
            lc.llama_sampler_free(chain)

    def next_token_probs(self, tokens: list[int], candidates: list[int],
                         cancel: CancelToken | None = None) -> list[float]:
        """The probability of each of `candidates` as the token after `tokens` (softmax over the
        whole vocabulary): a judge's score weighted by how sure it is, not just its greedy pick."""
        import numpy as np

        self.prefill(tokens, cancel)
        self._decode([tokens[-1]], cancel)
        ptr = self._lc.llama_get_logits_ith(self._ctx, -1)
        logits = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).astype(np.float64)
        logits -= logits.max()
        probs = np.exp(logits)
        probs /= probs.sum()
        return [float(probs[t]) for t in candidates]

    def _sampler(self, s: GenerationSettings):
        lc = self._lc
        chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        add = lc.llama_sampler_chain_add
        if s.repeat_penalty and s.repeat_penalty != 1.0:
            add(chain, lc.llama_sampler_init_penalties(self.n_vocab, s.repeat_last_n, s.repeat_penalty, 0.0, 0.0))
        if s.temperature <= 0:
            add(chain, lc.llama_sampler_init_greedy())
            return chain
        if s.top_k > 0:
            add(chain, lc.llama_sampler_init_top_k(s.top_k))
        if 0 < s.top_p < 1:
            add(chain, lc.llama_sampler_init_top_p(s.top_p, 1))
        if 0 < s.min_p < 1:
            add(chain, lc.llama_sampler_init_min_p(s.min_p, 1))
        add(chain, lc.llama_sampler_init_temp(s.temperature))
        add(chain, lc.llama_sampler_init_dist(lc.LLAMA_DEFAULT_SEED if s.seed is None else s.seed))
        return chain

    def close(self) -> None:
        lc = self._lc
        if self._ctx:
            self._drop_adapter()
            lc.llama_free(self._ctx)
            self._ctx = None
        if self._model:
            lc.llama_model_free(self._model)
            self._model = None

    def __del__(self):  # a model left open frees its memory when dropped
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
