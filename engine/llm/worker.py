"""The model worker: a child process that holds one llama.cpp model and answers requests.

llama.cpp ends the process it runs in on many faults (a CPU kernel that crashes, an
assertion on a malformed file, a GPU driver error), so Bunko never loads it in the
app itself: this process does, and `supervised.WorkerProcess` starts, watches and
restarts it. Requests and replies are pickled tuples on the child's stdin/stdout,
each behind a 4-byte length; the child moves those pipes aside first, so whatever
C code prints to stdout goes to stderr instead of into the replies.

A request is ``(op, args)``; the reply is ``("ok", value)`` or ``("error", kind, text)``;
`generate` streams ``("piece", text)`` first and ends with ``("ok", stats)``. The one
request read while another is under way is ``("cancel", None)``, which stops a generation.
The worker exits when its parent does: the request pipe closes, which its reader thread sees
even in the middle of a generation. (Not PR_SET_PDEATHSIG: Linux sends that when the *thread*
that started the child ends, and the HTTP server starts workers from short-lived threads.)
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import queue
import signal
import struct
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # the worker imports llama.cpp only once it is asked to load
    from ..cancel import CancelToken
    from .runtime import LoadedModel

_HEADER = struct.Struct("<I")
MAX_MESSAGE = 256 * 1024 * 1024
FAULT_ENV = "BUNKO_TEST_WORKER_FAULT"   # tests only: see _maybe_fault


class Channel:
    """Length-prefixed pickles over two binary pipes. Only ever between Bunko and its own
    child, which is why pickle is acceptable here."""

    def __init__(self, reader, writer) -> None:
        self._reader, self._writer = reader, writer
        self._lock = threading.Lock()

    def send(self, message) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._writer.write(_HEADER.pack(len(data)) + data)
            self._writer.flush()

    def recv(self):
        """The next message; EOFError when the other side has gone."""
        (size,) = _HEADER.unpack(self._read(_HEADER.size))
        if size > MAX_MESSAGE:
            raise EOFError(f"a message of {size} bytes: the stream is out of step")
        return pickle.loads(self._read(size))

    def _read(self, n: int) -> bytes:
        parts, left = [], n
        while left:
            chunk = self._reader.read(left)
            if not chunk:
                raise EOFError("the pipe closed")
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)


def _maybe_fault(point: str, extra_bufts: bool = True) -> None:
    """A test switch: crash the way llama.cpp does at `point`, so containment is testable on
    any CPU. `decode`: every decode; `decode-default`: only with the default settings (like
    the AMX fault, which safe settings avoid); `load`: while loading. `:abort` or `:kill`
    after the point picks the signal (default SIGSEGV)."""
    kind, _, how = os.environ.get(FAULT_ENV, "").partition(":")
    if kind == point or (kind == "decode-default" and point == "decode" and extra_bufts):
        os.kill(os.getpid(), {"abort": signal.SIGABRT, "kill": signal.SIGKILL}.get(how, signal.SIGSEGV))


class _BufferLines(logging.Handler):
    """llama.cpp's log lines that name the buffer types a model was loaded into (for `bunko
    doctor`: "CPU_REPACK model buffer size = …" means repacked weights are in use)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "buffer size" in text and len(self.lines) < 32:
            self.lines.append(text.split(":", 1)[-1].strip())


class Worker:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.model: LoadedModel | None = None
        self.requests: queue.Queue = queue.Queue()
        self.cancel: CancelToken | None = None  # the token of the generation under way
        self.current = 0    # the id of that generation
        self.cancelled = 0  # the newest generation id the parent asked to stop

    def read_requests(self) -> None:
        """On its own thread, so a cancel can arrive while the main thread generates."""
        try:
            while True:
                message = self.channel.recv()
                if message[0] == "cancel":
                    # ids, because a stop may cross the end of its generation on the pipe
                    self.cancelled = max(self.cancelled, message[1]["gid"])
                    token = self.cancel
                    if token is not None and self.current <= self.cancelled:
                        token.cancel()
                else:
                    self.requests.put(message)
        except (EOFError, OSError, pickle.UnpicklingError):
            os._exit(0)  # the parent has gone: nothing left to answer

    def serve(self) -> None:
        threading.Thread(target=self.read_requests, name="worker-requests", daemon=True).start()
        while True:
            op, args = self.requests.get()
            try:
                value = getattr(self, "op_" + op)(**args)
                self.channel.send(("ok", value))
            except Exception as exc:  # noqa: BLE001 - sent to the parent, which raises it there
                from ..errors import BunkoError

                kind = type(exc).__name__ if isinstance(exc, BunkoError) else "BunkoError"
                text = str(exc) if isinstance(exc, BunkoError) else f"{type(exc).__name__}: {exc}"
                self.channel.send(("error", kind, text))
            if op == "close":
                return

    @property
    def loaded(self) -> LoadedModel:
        if self.model is None:
            from ..errors import ModelLoadError

            raise ModelLoadError("No model is loaded in the model worker.")
        return self.model

    # -- requests -------------------------------------------------------------------
    def op_load(self, path: str, n_ctx: int, n_threads: int, n_batch: int, n_gpu_layers: int,
                flash_attn: bool | None, extra_bufts: bool) -> dict:
        from .runtime import LoadedModel

        _maybe_fault("load")
        native = logging.getLogger("llama.cpp")
        buffers = _BufferLines()
        level = native.level
        native.addHandler(buffers)
        native.setLevel(logging.DEBUG)   # while loading only: decoding logs go on being dropped
        try:
            self.model = m = LoadedModel(Path(path), n_ctx, n_threads, n_batch, n_gpu_layers, flash_attn,
                                         extra_bufts)
        finally:
            native.removeHandler(buffers)
            native.setLevel(level)
        return {"n_ctx": m.n_ctx, "n_vocab": m.n_vocab, "bos": m.bos, "special": m.special_texts(),
                "pid": os.getpid(), "buffers": buffers.lines}

    def op_tokenize(self, parts: list[tuple[str, bool]]) -> list[list[int]]:
        return self.loaded.tokenize_many(parts)

    def op_token_text(self, token: int) -> str:
        return self.loaded.token_text(token)

    def op_meta(self, key: str) -> str | None:
        return self.loaded.meta(key)

    def op_set_adapter(self, path: str | None, scale: float) -> None:
        self.loaded.set_adapter(Path(path) if path else None, scale)

    def op_forget(self) -> None:
        self.loaded.forget()

    def op_generate(self, gid: int, tokens: list[int], max_tokens: int, settings, stop_at_end: bool) -> dict:
        from ..cancel import CancelToken
        from .runtime import GenerationStats

        token = CancelToken()
        self.current, self.cancel = gid, token
        if self.cancelled >= gid:
            token.cancel()
        stats = GenerationStats()
        _maybe_fault("decode", self.loaded.extra_bufts)
        try:
            for piece in self.loaded.generate(tokens, max_tokens, settings, token, stats, stop_at_end):
                self.channel.send(("piece", piece))
        finally:
            self.cancel = None
        return dataclasses.asdict(stats)

    def op_probs(self, tokens: list[int], candidates: list[int]) -> list[float]:
        _maybe_fault("decode", self.loaded.extra_bufts)
        return self.loaded.next_token_probs(tokens, candidates)

    def op_system(self) -> dict:
        from .runtime import llama

        lc = llama()
        info = lc.llama_print_system_info().decode("utf-8", "replace").strip()
        return {"system_info": info, "gpu_offload": bool(lc.llama_supports_gpu_offload()),
                "llama_cpp_python": getattr(sys.modules.get("llama_cpp"), "__version__", "?")}

    def op_close(self) -> None:
        if self.model is not None:
            self.model.close()
            self.model = None


def main() -> int:
    """`python -m engine.llm.worker` (or `bunko --llm-worker` in a packaged app)."""
    reader = os.fdopen(os.dup(0), "rb", buffering=0)
    writer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # C code that prints to stdout must not corrupt the replies
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    level = os.environ.get("BUNKO_WORKER_LOG")
    if level:
        logging.basicConfig(level=level, stream=sys.stderr)
    Worker(Channel(reader, writer)).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
