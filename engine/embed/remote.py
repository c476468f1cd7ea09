"""An embedder that runs on the user's GPU server, reached over SSH.

The graph that made a library's vectors (the local embedder's own file, so the model id
is the same) is copied to the server once, named by its sha256; a small script there
(host/bunko_embed_host.py: the standard library, numpy and onnxruntime) reads token ids
on stdin and writes vectors on stdout through one SSH channel. Tokenizing, and so
chunking and counting tokens, stays here. Before any library text goes there, a fixed
sample is embedded both ways and the vectors must agree (cosine >= MIN_COSINE).

A dropped link raises ConnectionLostError in words; the indexer has by then stored every
file whose vectors were complete, and the next run does only the rest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import posixpath
import shlex
import struct
import subprocess
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import ConnectionLostError, EmbedderError
from ..hashing import sha256_file
from .onnx_embedder import BATCH_SIZE, EMBED_GROUP, MODEL_FILE, OnnxEmbedder, _read_config, length_batches
from .onnx_embedder import MAX_BATCH_TOKENS as LOCAL_MAX_BATCH_TOKENS

log = logging.getLogger(__name__)

SCRIPT = Path(__file__).resolve().parent / "host" / "bunko_embed_host.py"
MIN_COSINE = 0.9999  # the same graph agrees to ~0.99999; the exact and fast graphs differ at ~0.999
GROUP = 64               # chunks per indexer call: one round trip carries this many
BATCH = 64               # rows per session run there (a GPU takes more than a CPU's 32)
MAX_BATCH_TOKENS = 16384  # padded tokens per run there: bounds the server's memory
HELLO_TIMEOUT_S = 180.0  # loading the graph (and CUDA) the first time
REPLY_TIMEOUT_S = 300.0  # one group on a slow CPU-only server
# Texts embedded both ways before a library's text is sent: Japanese and English, short to long.
SAMPLE = [
    "出張の日当は一日四十五ドルです。",
    "The per diem for business trips is 45 dollars a day for meals.",
    "社員は北側の駐車場を使い、来客は南側の駐車場を使います。" * 3,
    "Staff park in the north lot; visitors use the south lot. " * 6,
    "就業規則第十二条：年次有給休暇は、入社六か月後に十日付与される。" * 8,
    "Quarterly reports are due on the fifth working day after the quarter ends. " * 20,
]


class Link(Protocol):
    """Bytes both ways with a process there: an SSH channel, or a child process here (tests)."""

    def write(self, data: bytes) -> None: ...
    def read(self, n: int, timeout: float) -> bytes: ...   # b"" at the end
    def close(self) -> None: ...
    def why_ended(self) -> str: ...


class ChannelLink:
    def __init__(self, transport, command: str) -> None:
        self.channel = transport.open_session()
        self.channel.exec_command(command)

    def write(self, data: bytes) -> None:
        self.channel.sendall(data)

    def read(self, n: int, timeout: float) -> bytes:
        self.channel.settimeout(timeout)
        return self.channel.recv(n)

    def close(self) -> None:
        try:
            self.channel.shutdown_write()   # end of stdin: the script there ends
        except Exception:
            pass
        self.channel.close()

    def why_ended(self) -> str:
        err = b""
        while self.channel.recv_stderr_ready() and len(err) < 8192:
            err += self.channel.recv_stderr(4096)
        self.channel.status_event.wait(1)   # the exit status often comes just after the output's end
        code = self.channel.recv_exit_status() if self.channel.exit_status_ready() else None
        text = err.decode("utf-8", "replace").strip().splitlines()[-3:]
        return (f"exit status {code}" if code is not None else "no exit status") + \
            (": " + " | ".join(text) if text else "")


class ProcessLink:
    """The script as a child process of this computer: the same protocol without SSH."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read(self, n: int, timeout: float) -> bytes:
        assert self.proc.stdout is not None
        return self.proc.stdout.read1(n)   # type: ignore[attr-defined]

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:   # it ended first
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def why_ended(self) -> str:
        return f"exit status {self.proc.poll()}"


def host_config(local: OnnxEmbedder) -> tuple[Path, dict]:
    """The graph file the local embedder runs and what the script needs to pool it."""
    config = _read_config(local.model_dir)
    graph = MODEL_FILE if local.graph == "exact" else config["graphs"][local.graph]
    return local.model_dir / graph, {
        "dim": local.dim, "pad_id": local._pad_id, "pooling": config["pooling"],
        "normalize": config["normalize"], "pooled_in_graph": config["pooled_in_graph"],
        "model_id": local.model_id}


class RemoteEmbedder:
    """The indexer's embedder (name, model_id, dim, max_tokens, count_tokens, embed_passages)
    with the model run there; queries are still embedded here."""

    group = GROUP

    def __init__(self, local: OnnxEmbedder, link: Link, label: str, on_close=None) -> None:
        self.local = local
        self.name, self.model_id, self.dim = local.name, local.model_id, local.dim
        self.max_tokens, self.graph = local.max_tokens, local.graph
        self.label = label
        self.link = link
        if self.graph != "exact":
            # the fast graph quantises each batch as a whole, so its vectors move (cosine ~0.998)
            # with what shares a batch: group and batch exactly as this computer does
            self.group, self.batch, self.batch_tokens = EMBED_GROUP, BATCH_SIZE, LOCAL_MAX_BATCH_TOKENS
        else:
            self.batch, self.batch_tokens = BATCH, MAX_BATCH_TOKENS
        self._on_close = on_close
        self.hello: dict[str, Any] = {}
        self.providers: list[str] = []

    # -- the protocol -----------------------------------------------------------------
    def _read(self, n: int, timeout: float) -> bytes:
        """n bytes within `timeout` seconds in all: a server that sends a byte now and then
        cannot hold the run for longer."""
        data = b""
        deadline = time.monotonic() + timeout
        while len(data) < n:
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError
                piece = self.link.read(n - len(data), left)
            except TimeoutError as exc:
                raise self._lost(f"no complete answer in {timeout:.0f} s") from exc
            except (OSError, EOFError) as exc:
                raise self._lost(str(exc) or type(exc).__name__) from exc
            if not piece:
                raise self._lost(f"the embedder there ended ({self.link.why_ended()})")
            data += piece
        return data

    def _lost(self, why: str) -> ConnectionLostError:
        return ConnectionLostError(
            f"Embedding on {self.label} stopped: {why}. Files whose vectors were complete are stored; "
            "run the same command again to embed the rest.")

    def start(self) -> dict:
        """Wait for the script's hello; onnxruntime missing there is said with what to install."""
        magic, size = struct.unpack("<4sI", self._read(8, HELLO_TIMEOUT_S))
        if magic != b"BKH1" or size > 1 << 20:
            raise EmbedderError(f"The embedder on {self.label} answered with something Bunko does not know.")
        try:
            hello = json.loads(self._read(size, HELLO_TIMEOUT_S))
        except (ValueError, RecursionError) as exc:
            raise EmbedderError(f"The embedder on {self.label} sent a greeting that is not JSON ({exc}).") from exc
        if not isinstance(hello, dict):
            raise EmbedderError(f"The embedder on {self.label} answered with something Bunko does not know.")
        self.hello = hello
        error = self.hello.get("error")
        if error == "import":
            python = self.hello.get("python") or "python3"
            raise EmbedderError(
                f"Embedding on {self.label} needs onnxruntime in {python} there ({self.hello.get('detail')}). "
                f"Install it there: `{python} -m pip install onnxruntime-gpu` (NVIDIA GPU with CUDA 12) or "
                f"`{python} -m pip install onnxruntime` (CPU only); or name another Python with --host-python.")
        if error:
            raise EmbedderError(f"The embedder on {self.label} cannot load the model: {self.hello.get('detail')}")
        self.providers = list(self.hello.get("providers") or [])
        log.info("embedder on %s: onnxruntime %s, %s", self.label, self.hello.get("onnxruntime"),
                 ", ".join(self.providers))
        return self.hello

    def _send(self, rows: list[np.ndarray]) -> None:
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), np.int32)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
        lengths = np.array([len(r) for r in rows], np.int32)
        try:
            self.link.write(struct.pack("<4sII", b"BKE1", len(rows), width) + ids.tobytes() + lengths.tobytes())
        except (OSError, EOFError) as exc:
            raise self._lost(f"the link broke ({exc or type(exc).__name__}; {self.link.why_ended()})") from exc

    def _receive(self, rows: int) -> np.ndarray:
        magic, a, b = struct.unpack("<4sII", self._read(12, REPLY_TIMEOUT_S))
        if magic == b"BKX1":   # a: the message's length
            message = self._read(a, REPLY_TIMEOUT_S) if 0 < a <= 4000 else b"(no message)"
            raise EmbedderError(f"The embedder on {self.label} failed: {message.decode('utf-8', 'replace')}")
        if magic != b"BKV1" or a != rows or b != self.dim:
            raise EmbedderError(f"The embedder on {self.label} sent {a} vectors of {b} numbers for {rows} texts "
                                f"of {self.dim}; stopping.")
        vectors = np.frombuffer(self._read(4 * a * b, REPLY_TIMEOUT_S), np.float32).reshape(a, b)
        unit = not self.local._normalize or np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-2)
        if not np.isfinite(vectors).all() or not unit:
            raise EmbedderError(f"The embedder on {self.label} sent vectors that are not unit length or not "
                                "numbers; stopping before they are stored.")
        return vectors

    # -- the embedder ---------------------------------------------------------------------
    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.local.count_tokens(texts)

    def embed_queries(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        return self.local.embed_queries(texts, batch_size)

    def embed_passages(self, texts: list[str], batch_size: int | None = None, background: bool = False) -> np.ndarray:
        """Vectors as the local embedder makes them (same truncation, prefix and grouping by
        length), computed there; all batches of one call go out before the answers are read."""
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        rows = [self.local._truncated(e) for e in self.local._encode(texts, self.local._passage_prefix)]
        batches = length_batches([len(r) for r in rows], batch_size or self.batch, self.batch_tokens,
                                 self.local.alone_from)
        for batch in batches:
            self._send([rows[i] for i in batch])
        for batch in batches:
            out[batch] = self._receive(len(batch))
        return out

    def close(self) -> None:
        try:
            self.link.close()
        finally:
            if self._on_close is not None:
                self._on_close()

    def __enter__(self) -> RemoteEmbedder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def compare_sample(remote: RemoteEmbedder, local, texts: list[str] | None = None) -> float:
    """The lowest cosine between the two embedders' vectors of the sample; refuses below MIN_COSINE."""
    texts = texts or SAMPLE
    there = remote.embed_passages(texts)
    here = local.embed_passages(texts)
    cos = np.sum(there * here, axis=1) / np.maximum(
        np.linalg.norm(there, axis=1) * np.linalg.norm(here, axis=1), 1e-12)
    worst = float(cos.min())
    if not worst >= MIN_COSINE:   # NaN refuses too
        raise EmbedderError(
            f"The vectors made on {remote.label} differ from this computer's: cosine {worst:.5f} on the worst of "
            f"{len(texts)} sample texts (mean {float(cos.mean()):.5f}; at least {MIN_COSINE} is needed), so they "
            f"would not match the library's. Nothing was sent but the sample. Check onnxruntime there "
            f"({remote.hello.get('onnxruntime')}, {', '.join(remote.providers)}).")
    log.info("sample vectors from %s agree: lowest cosine %.6f", remote.label, worst)
    return worst


def _sha(path: Path) -> str:
    return sha256_file(path).hexdigest()


def _same_there(host, path: str, sha: str) -> bool:
    """The copy there still has its sha256 (where sha256sum is missing, the sample check decides)."""
    done = host.run(f"sha256sum {shlex.quote(path)}", timeout=120)
    return done.code != 0 or done.out.split()[:1] == [sha]


def put_files(host, local: OnnxEmbedder, say=None) -> tuple[str, str, str]:
    """The script, the graph and its config on the host (each once, named by content);
    returns their paths there."""
    graph, config = host_config(local)
    folder = posixpath.join(host.root, "embed")
    host.mkdir(posixpath.join(folder, "models"))
    script_text = SCRIPT.read_text(encoding="utf-8")
    script = posixpath.join(folder, f"bunko_embed_host-{hashlib.sha256(script_text.encode()).hexdigest()[:12]}.py")
    if not host.exists(script):
        host.write_text(script, script_text)
    sha = _sha(graph)
    model = posixpath.join(folder, "models", f"{sha}.onnx")
    size = graph.stat().st_size
    if host.size(model) != size or not _same_there(host, model, sha):
        if say:
            say(f"copying the embedding model ({size // 1_000_000} MB) to {host.spec.label} (once)")
        host.put(graph, model)
    text = json.dumps(config, sort_keys=True)
    conf = posixpath.join(folder, "models", f"{sha}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json")
    if not host.exists(conf):
        host.write_text(conf, text)
    return script, model, conf


def open_on_host(host, local: OnnxEmbedder, say=None, check: bool = True) -> RemoteEmbedder:
    """On a connected SSH host (closed with the embedder, or here on failure): copy what is
    missing, start the script there and compare the sample."""
    spec = host.spec
    try:
        script, model, conf = put_files(host, local, say)
        python = spec.env_python or spec.python or "python3"
        command = " ".join(shlex.quote(a) for a in [python, "-u", script, model, conf])
        if say:
            say(f"starting the embedder on {spec.label}")
        link = ChannelLink(host.client.get_transport(), f"umask 077; exec {command}")
    except BaseException:
        host.close()
        raise
    remote = RemoteEmbedder(local, link, spec.label, on_close=host.close)
    try:
        hello = remote.start()
        worst = compare_sample(remote, local) if check else None
        if say:
            gpu = remote.providers[:1] == ["CUDAExecutionProvider"]
            where = "the GPU (CUDA)" if gpu else "its CPU (onnxruntime there offers no CUDA)"
            say(f"embedding on {spec.label}: {local.graph} graph on {where}, onnxruntime {hello.get('onnxruntime')}"
                + (f"; sample vectors agree with this computer's (lowest cosine {worst:.5f})" if worst else ""))
            if local.graph != "exact" and gpu:
                say("note: this library's vectors come from the fast graph, made for CPUs; on the GPU the exact "
                    "graph is faster. For a new library, index with --embed-graph exact.")
    except BaseException:
        remote.close()
        raise
    return remote


def notice(label: str, library: str) -> str:
    """What the user is told before a library's text first goes to a server."""
    return (f"Embedding {library!r} on {label} sends the text of its files there: every passage Bunko cuts "
            f"from them, to be turned into vectors by Bunko's own script on that server. Only that server "
            "receives it, over SSH; the vectors come back and the index stays on this computer. Nothing else "
            "(other libraries, conversations, the database) is sent.")


def _agreed_file(root: Path) -> Path:
    return Path(root) / "embed-hosts.json"


def agreed(root: Path, label: str) -> bool:
    """Whether the user was told, and agreed, that libraries' text may go to `label`."""
    try:
        return label in json.loads(_agreed_file(root).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def agree(root: Path, label: str) -> None:
    """Remember that the notice was shown for `label` and accepted: it is not asked again."""
    path = _agreed_file(root)
    try:
        known = list(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        known = []
    if label not in known:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_text(json.dumps(known + [label]), encoding="utf-8")
        tmp.replace(path)
