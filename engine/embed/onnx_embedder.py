"""Run a sentence-embedding model folder with onnxruntime.

A model folder holds `model.onnx`, a HuggingFace `tokenizer.json` and `bunko-embedder.json`:

    name, dim, max_tokens       identity and limits
    pooling                     "mean" or "cls" (used when the graph does not pool)
    normalize                   L2-normalise the vectors
    query_prefix, passage_prefix   text put in front of queries / passages ("" allowed)
    pooled_in_graph             true: the graph outputs [batch, dim] vectors; false: it
                                outputs last_hidden_state [batch, seq, dim], pooled here
    graphs                      optional {"fast": "model-fast.onnx"}: other graphs of the
                                same model (device.py says when each is used)

Texts are sorted by token length and batched so each batch pads only to its own longest
text, which matters on CPU: attention cost grows with the square of the padded length.
On the fast graph long texts go one at a time, unpadded (length_batches).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from engine.budget import BUDGET

from engine.errors import EmbedderError
from engine.hashing import sha256_file

# onnxruntime 1.32's Linux and macOS builds carry Microsoft's 1DS telemetry: on first use
# they write a device id and an event store under ~/.cache/Microsoft and later look up and
# reach https://mobile.events.data.microsoft.com (seen by tests/engine/test_offline_native.py).
# `disable_telemetry_events()` does not stop it; this variable, read when onnxruntime sets
# itself up, does. Set before onnxruntime is first imported (it is imported lazily, below).
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

log = logging.getLogger(__name__)

CONFIG_FILE = "bunko-embedder.json"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
_ID_CACHE_FILE = ".bunko-model-id.json"
# Cap on padded tokens per session call: bounds the attention buffers (batch x heads x
# seq^2 floats) for long texts; short texts still go BATCH_SIZE at a time.
MAX_BATCH_TOKENS = 4096
BATCH_SIZE = 32
# Chunks per indexer call (engine.library.indexer): a cancel waits for at most one call;
# an embedder on a server says its own (`group`).
EMBED_GROUP = 16
# Fast graph: a text this long goes through on its own, unpadded, where onnxruntime's
# flash attention runs, side by side with others on the other cores (_side_by_side):
# 2.4x -> 3.0x on English abstracts, and on Japanese passages 40 tokens beat 64 and 128
# (`bunko bench embed`). Shorter ones are batched.
ALONE_FROM_TOKENS = 40


def length_batches(lengths: list[int], batch_size: int, max_tokens: int = MAX_BATCH_TOKENS,
                   alone_from: int | None = None) -> list[list[int]]:
    """Indexes grouped longest first, each batch padded only to its own longest text;
    texts of `alone_from` tokens or more go one per batch."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches, start = [], 0
    while start < len(order):
        longest = lengths[order[start]]  # sorted: the first is the longest
        alone = alone_from is not None and longest >= alone_from
        count = 1 if alone else max(1, min(batch_size, max_tokens // max(longest, 1)))
        batches.append(order[start:start + count])
        start += count
    return batches


def usable_cpu_count() -> int:
    """CPU cores this process may run on (respects affinity masks and containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class OnnxEmbedder:
    """Embeds passages and queries with one model folder; safe to share between threads."""

    def __init__(self, model_dir: Path, threads: int | None = None, graph: str = "exact",
                 providers: list[str] | None = None, spinning: bool = False) -> None:
        """`graph`: "exact" (model.onnx) or another the folder lists (falls back to exact);
        `providers`: onnxruntime's, best first (default: the CPU); `spinning`: let idle
        threads spin between calls (onnxruntime's default, kept for the bench's old path)."""
        self.model_dir = Path(model_dir)
        config = _read_config(self.model_dir)
        graph_file = MODEL_FILE
        if graph != "exact":
            graph_file = config["graphs"].get(graph)
            if graph_file is None or not (self.model_dir / graph_file).is_file():
                log.info("%s has no %s graph; using the exact one", self.model_dir, graph)
                graph, graph_file = "exact", MODEL_FILE
        self.graph = graph
        self.alone_from = ALONE_FROM_TOKENS if graph == "fast" else None
        self.name: str = config["name"]
        self.dim: int = config["dim"]
        self.max_tokens: int = config["max_tokens"]
        self._pooling: str = config["pooling"]
        self._normalize: bool = config["normalize"]
        self._query_prefix: str = config["query_prefix"]
        self._passage_prefix: str = config["passage_prefix"]
        self._pooled_in_graph: bool = config["pooled_in_graph"]

        self._tokenizer = _load_tokenizer(self.model_dir / TOKENIZER_FILE)
        self._pad_id = _pad_id(self._tokenizer)
        self.threads = threads if threads and threads > 0 else usable_cpu_count()
        self._graph_file = self.model_dir / graph_file
        self._session = _load_session(self._graph_file, self.threads,
                                      providers or ["CPUExecutionProvider"], spinning)
        self._side: tuple[Any, ThreadPoolExecutor] | None = None  # built on first use (_side_by_side)
        self._side_lock = threading.Lock()
        self.providers: list[str] = list(self._session.get_providers())
        self._last_batch_s = 0.0
        self._input_names = {i.name for i in self._session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._input_names
        if missing:
            raise EmbedderError(
                f"The model in {self.model_dir} lacks the input(s) {', '.join(sorted(missing))}."
            )
        outputs = [o.name for o in self._session.get_outputs()]
        self._output = "last_hidden_state" if (
            not self._pooled_in_graph and "last_hidden_state" in outputs) else outputs[0]
        # The id names what makes the vectors: model, graph and tokenizer bytes. A library
        # stores it, so vectors from two graphs are never mixed (device.choose_graph).
        tag = "" if graph == "exact" else f"+{graph}"
        self.model_id: str = f"{self.name}{tag}@{_content_digest(self.model_dir, graph_file)[:16]}"
        log.info("loaded embedder %s from %s (%s, %d threads)", self.model_id, self.model_dir,
                 ", ".join(self.providers), self.threads)

    # --- public API -----------------------------------------------------------------

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens each passage feeds the model, specials and passage prefix included, untruncated."""
        return [len(e.ids) for e in self._encode(texts, self._passage_prefix)]

    def embed_passages(self, texts: list[str], batch_size: int = BATCH_SIZE, background: bool = False) -> np.ndarray:
        """float32 [len(texts), dim] vectors for documents (texts past max_tokens are cut).

        `background` (indexing): each batch yields to an answer being generated (engine.budget).
        Work done for an answer itself (picking its quoted sentence) must not: it would wait
        for itself."""
        return self._embed(texts, self._passage_prefix, batch_size, background=background)

    def embed_queries(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """float32 [len(texts), dim] vectors for search queries."""
        return self._embed(texts, self._query_prefix, batch_size)

    # --- internals --------------------------------------------------------------------

    def _encode(self, texts: list[str], prefix: str) -> list:
        if isinstance(texts, str):
            raise TypeError("expected a list of texts, got one string")
        try:
            return self._tokenizer.encode_batch([prefix + t for t in texts])
        except Exception as exc:  # tokenizers raises plain Exception subclasses
            raise EmbedderError(f"The tokenizer of {self.name} failed: {exc}") from exc

    def _embed(self, texts: list[str], prefix: str, batch_size: int, background: bool = False) -> np.ndarray:
        encodings = self._encode(texts, prefix)
        out = np.zeros((len(encodings), self.dim), dtype=np.float32)
        if not encodings:
            return out
        rows = [self._truncated(e) for e in encodings]
        batches = length_batches([len(r) for r in rows], batch_size, MAX_BATCH_TOKENS, self.alone_from)
        alone = [b for b in batches if self.alone_from and len(rows[b[0]]) >= self.alone_from]
        # indexing only: an answer's own calls (picking its quote) must never queue behind
        # indexing work that waits in the pool for that answer to end
        side = self._side_by_side() if background and len(alone) > 1 else None
        if side is not None:
            solo, pool = side
            futures = [(b, pool.submit(self._run_yielding, [rows[b[0]]], solo)) for b in alone]
            batches = batches[len(alone):]  # longest first: the alone ones lead the list
            for b, future in futures:
                out[b] = future.result()
        for chunk in batches:
            batch = [rows[i] for i in chunk]
            out[chunk] = self._run_yielding(batch) if background else self._run(batch)
        return out

    def _side_by_side(self) -> tuple[Any, ThreadPoolExecutor] | None:
        """A one-thread session and `threads` workers that run long texts side by side, each
        on its own core: for single unpadded texts that beat one call over all the threads
        (1.3x on English abstracts, `bunko bench embed`). Fast graph on a CPU only; the
        session holds a second copy of the graph (~95 MB) for the embedder's life."""
        if self.alone_from is None or self.threads < 2 or self.providers[0] != "CPUExecutionProvider":
            return None
        with self._side_lock:
            if self._side is None:
                self._side = (_load_session(self._graph_file, 1, ["CPUExecutionProvider"]),
                              ThreadPoolExecutor(self.threads, thread_name_prefix="bunko-embed"))
        return self._side

    def _truncated(self, encoding) -> np.ndarray:
        """Token ids cut to max_tokens, keeping the special tokens at both ends."""
        ids = np.asarray(encoding.ids, dtype=np.int64)
        if len(ids) <= self.max_tokens:
            return ids
        special = np.asarray(encoding.special_tokens_mask, dtype=bool)
        budget = self.max_tokens - int(special.sum())
        if budget <= 0:
            return ids[: self.max_tokens]
        keep = special | (np.cumsum(~special) <= budget)
        return ids[keep]

    def _run_yielding(self, rows: list[np.ndarray], session=None) -> np.ndarray:
        """`_run` that waits while an answer is generated and, in mode pause, is cut short
        when one starts (onnxruntime's terminate flag) and done again after it."""
        import onnxruntime as ort

        while True:
            BUDGET.wait_turn(last_batch_s=self._last_batch_s)
            options = ort.RunOptions()
            unsubscribe = BUDGET.on_foreground(lambda: setattr(options, "terminate", True))  # noqa: B023 (unsubscribed below)
            try:
                if BUDGET.yielding() and BUDGET.mode == "pause":
                    continue  # an answer began between the wait and the subscription
                started = time.monotonic()
                try:
                    vectors = self._run(rows, options, session)
                except EmbedderError:
                    if options.terminate:
                        log.debug("embedding cut short by an answer; done again after it")
                        continue
                    raise
                self._last_batch_s = time.monotonic() - started
                return vectors
            finally:
                unsubscribe()

    def _run(self, rows: list[np.ndarray], options=None, session=None) -> np.ndarray:
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feed["token_type_ids"] = np.zeros_like(ids)
        try:
            (result,) = (session or self._session).run([self._output], feed, options)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise EmbedderError(f"The embedding model {self.name} failed to run: {exc}") from exc
        vectors = self._pool(np.asarray(result, dtype=np.float32), mask)
        if vectors.shape != (len(rows), self.dim):
            raise EmbedderError(
                f"The embedding model {self.name} returned vectors of shape {vectors.shape}, "
                f"but its {CONFIG_FILE} says dim={self.dim}."
            )
        if self._normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.maximum(norms, 1e-12)
        return vectors

    def _pool(self, result: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self._pooled_in_graph:
            return result
        if result.ndim != 3:
            raise EmbedderError(
                f"The embedding model {self.name} should output [batch, seq, dim] hidden "
                f"states (pooled_in_graph is false) but gave shape {result.shape}."
            )
        if self._pooling == "cls":
            return result[:, 0, :]
        weights = mask[:, :, None].astype(np.float32)
        return (result * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def _read_config(model_dir: Path) -> dict:
    if not model_dir.is_dir():
        raise EmbedderError(f"The embedding model folder {model_dir} does not exist.")
    missing = [f for f in (MODEL_FILE, TOKENIZER_FILE, CONFIG_FILE) if not (model_dir / f).is_file()]
    if missing:
        raise EmbedderError(
            f"The embedding model folder {model_dir} is incomplete: {', '.join(missing)} missing."
        )
    path = model_dir / CONFIG_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EmbedderError(f"Cannot read {path}: {exc}.") from exc
    except json.JSONDecodeError as exc:
        raise EmbedderError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}).") from exc
    if not isinstance(raw, dict):
        raise EmbedderError(f"{path} should hold a JSON object.")

    def field(key: str, kind: type, default=None):
        value = raw.get(key, default)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            want = {str: "a text", int: "a whole number", bool: "true or false"}[kind]
            raise EmbedderError(f"{path}: '{key}' should be {want}, not {value!r}.")
        return value

    config = {
        "name": field("name", str),
        "dim": field("dim", int),
        "max_tokens": field("max_tokens", int),
        "pooling": field("pooling", str, "mean"),
        "normalize": field("normalize", bool, True),
        "query_prefix": field("query_prefix", str, ""),
        "passage_prefix": field("passage_prefix", str, ""),
        "pooled_in_graph": field("pooled_in_graph", bool, False),
        "graphs": raw.get("graphs") or {},
    }
    if not isinstance(config["graphs"], dict) or not all(
            isinstance(k, str) and isinstance(v, str) and "/" not in v and "\\" not in v
            for k, v in config["graphs"].items()):
        raise EmbedderError(f"{path}: 'graphs' should map names to file names in the folder.")
    if not config["name"].strip():
        raise EmbedderError(f"{path}: 'name' is empty.")
    if config["dim"] <= 0 or config["max_tokens"] < 3:
        raise EmbedderError(f"{path}: 'dim' and 'max_tokens' should be positive.")
    if config["pooling"] not in ("mean", "cls"):
        raise EmbedderError(f"{path}: 'pooling' should be \"mean\" or \"cls\", not {config['pooling']!r}.")
    return config


def _load_tokenizer(path: Path):
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception on bad files
        raise EmbedderError(f"The tokenizer file {path} cannot be loaded: {exc}") from exc
    # counting needs untruncated lengths; truncation and padding happen in OnnxEmbedder
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def _pad_id(tokenizer) -> int:
    for name in ("<pad>", "[PAD]", "<|endoftext|>"):
        found = tokenizer.token_to_id(name)
        if found is not None:
            return int(found)
    return 0  # any id works: padded positions are masked out


def _load_session(path: Path, threads: int, providers: list[str], spinning: bool = False):
    import onnxruntime as ort

    # Bunko is offline: onnxruntime's telemetry (ETW events on Windows builds; 1DS elsewhere,
    # see ORT_DISABLE_TELEMETRY above) is switched off explicitly rather than trusted to be off.
    ort.disable_telemetry_events()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only; warnings go nowhere useful in the app
    if not spinning:
        # Idle threads sleep instead of spinning between calls: on a busy PC (an answer
        # being generated, other programs) spinning burned the cores others waited for;
        # `bunko bench embed` measured the difference.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # onnxruntime's own exception classes
        raise EmbedderError(f"onnxruntime cannot load the model {path}: {exc}") from exc


def _content_digest(model_dir: Path, graph_file: str = MODEL_FILE) -> str:
    """sha256 over the graph then tokenizer.json, cached beside them keyed by size + mtime."""
    files = [model_dir / graph_file, model_dir / TOKENIZER_FILE]
    try:
        stamps = {f.name: [f.stat().st_size, f.stat().st_mtime_ns] for f in files}
    except OSError as exc:
        raise EmbedderError(f"Cannot read the model files in {model_dir}: {exc}.") from exc
    cache = model_dir / (_ID_CACHE_FILE if graph_file == MODEL_FILE else f".bunko-{graph_file}-id.json")
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached.get("files") == stamps and isinstance(cached.get("sha256"), str):
            return cached["sha256"]
    except (OSError, ValueError, AttributeError):
        pass
    digest = hashlib.sha256()
    try:
        for f in files:
            sha256_file(f, digest=digest)
    except OSError as exc:
        raise EmbedderError(f"Cannot read the model files in {model_dir}: {exc}.") from exc
    hexdigest = digest.hexdigest()
    from engine.paths import bundle_dir

    bundle = bundle_dir()
    if bundle is not None and model_dir.resolve().is_relative_to(bundle.resolve()):
        return hexdigest  # a packaged build never writes into its own folder
    try:
        tmp = cache.with_name(f"{cache.name}.{os.getpid()}")
        tmp.write_text(json.dumps({"files": stamps, "sha256": hexdigest}), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        log.debug("cannot cache the model digest in %s (read-only folder?)", model_dir)
    return hexdigest
