"""The app's side of the model worker: start it, talk to it, notice when it dies.

`WorkerProcess` is the child process and its pipes; `LocalModel` is the chat model
the rest of Bunko uses (the same calls as a remote model), answering through a worker.
When the worker dies (a signal, an abort, the OOM killer) the call under way ends in
`ModelCrashedError`, or, in the middle of an answer, the answer ends with
finish_reason "crashed" and what came is kept; the host then starts a fresh worker
for the next question (engine/llm/host.py).
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from collections.abc import Iterator

from .. import errors
from ..cancel import CancelToken
from ..errors import BunkoError, ModelCrashedError
from ..types import GenerationSettings
from .runtime import GenerationStats
from .template import render_parts, tokenize_parts
from .worker import Channel

log = logging.getLogger(__name__)

_GONE = object()       # put on the reply queue when the worker's stdout closes
POLL_S = 0.1           # how often a waiting call looks at its cancel token
STOP_GRACE_S = 10.0    # a worker that ignores a cancel this long is killed


def worker_command() -> list[str]:
    """How to start a worker: this Python with the module, or the packaged program itself."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--llm-worker"]
    return [sys.executable, "-m", "engine.llm.worker"]


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


_SIGNAL_WORDS = {"SIGSEGV": "it crashed (segmentation fault)", "SIGABRT": "it aborted",
                 "SIGKILL": "it was killed (often the system running out of memory)",
                 "SIGBUS": "it crashed (bus error)", "SIGILL": "it crashed (an instruction this CPU lacks)",
                 "SIGFPE": "it crashed (arithmetic fault)", "SIGTERM": "it was ended"}


class WorkerProcess:
    """One worker process, its request pipe and a thread that reads its replies."""

    def __init__(self, label: str) -> None:
        self.label = label
        env = dict(os.environ)
        # the worker imports the same engine as this process, wherever that came from
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        env.setdefault("GGML_NO_BACKTRACE", "1")  # on an abort ggml would attach gdb for a backtrace
        self.proc: subprocess.Popen[bytes] = subprocess.Popen(
            worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, start_new_session=True)  # Ctrl+C in a terminal is the parent's to handle
        self.pid = self.proc.pid
        self._channel = Channel(self.proc.stdout, self.proc.stdin)
        self._replies: queue.Queue = queue.Queue()
        self._fatal: str | None = None   # llama.cpp's last assertion or error line
        threading.Thread(target=self._read_replies, name=f"worker-{self.pid}-out", daemon=True).start()
        self._stderr_reader = threading.Thread(target=self._read_stderr, name=f"worker-{self.pid}-err", daemon=True)
        self._stderr_reader.start()

    def _read_replies(self) -> None:
        try:
            while True:
                self._replies.put(self._channel.recv())
        except (EOFError, OSError, ValueError) as exc:
            log.debug("worker %d: replies ended (%s)", self.pid, exc)
        finally:
            self._replies.put(_GONE)

    def _read_stderr(self) -> None:
        native = logging.getLogger("llama.cpp")
        stderr = self.proc.stderr
        assert stderr is not None   # opened as a pipe
        for raw in iter(lambda: stderr.readline(4096), b""):   # a line without end stays bounded
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                if any(k in line for k in ("GGML_ASSERT", "GGML_ABORT", "error", "failed", "fatal")):
                    self._fatal = line
                native.debug("worker %d: %s", self.pid, line)

    # -- requests -------------------------------------------------------------------
    def send(self, op: str, **args) -> None:
        try:
            self._channel.send((op, args))
        except (OSError, ValueError):
            pass  # it has died; the reply queue says so

    def reply(self, timeout: float | None = None):
        """The next message from the worker, or None after `timeout` seconds.
        Raises ModelCrashedError when the worker has died."""
        try:
            message = self._replies.get(timeout=timeout)
        except queue.Empty:
            return None
        if message is _GONE:
            self._replies.put(_GONE)  # every later call learns it too
            raise ModelCrashedError(self.describe_exit())
        return message

    def call(self, op: str, **args):
        self.send(op, **args)
        message = self.reply()
        if message[0] == "error":
            raise _rebuild(message[1], message[2])
        return message[1]

    # -- its end --------------------------------------------------------------------
    def alive(self) -> bool:
        return self.proc.poll() is None

    def describe_exit(self) -> str:
        """What happened to the worker, in words, with llama.cpp's last message when it left one."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        else:
            self._stderr_reader.join(timeout=2)  # its last words (an assertion) may still be in the pipe
        if code is None:
            how = "it stopped answering"
        elif code < 0:
            name = _signal_name(-code)
            how = f"{_SIGNAL_WORDS.get(name, 'it was stopped')}: {name}"
        else:
            how = f"it exited with code {code}"
        last = self._fatal
        return f"The model {self.label} stopped unexpectedly: {how}" + (f" (llama.cpp said: {last[:300]})" if last else "")

    def rss_bytes(self) -> int | None:
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()

    def close(self, timeout: float = 5.0) -> None:
        """Ask the worker to free the model and exit; kill it if it does not."""
        if self.alive():
            self.send("close")
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass


def _rebuild(kind: str, text: str) -> BunkoError:
    cls = getattr(errors, kind, None)
    return cls(text) if isinstance(cls, type) and issubclass(cls, BunkoError) else BunkoError(text)


class LocalModel:
    """A GGUF on this computer, held by a worker process: the calls of `runtime.LoadedModel`
    that the chat needs, plus `encode` (shared with remote models)."""

    where = "this computer"

    def __init__(self, path: Path, n_ctx: int, n_threads: int, n_batch: int, n_gpu_layers: int,
                 flash_attn: bool | None = None, extra_bufts: bool = True, label: str | None = None) -> None:
        self.path = Path(path)
        self.label = label or self.path.name
        self.extra_bufts = extra_bufts
        self.n_gpu_layers = n_gpu_layers
        self.crashed: str | None = None   # set when the worker died: the host starts a new one
        self._generation = 0
        self.worker = WorkerProcess(self.label)
        try:
            info = self.worker.call("load", path=str(self.path), n_ctx=n_ctx, n_threads=n_threads,
                                    n_batch=n_batch, n_gpu_layers=n_gpu_layers, flash_attn=flash_attn,
                                    extra_bufts=extra_bufts)
        except BaseException:
            self.worker.close(timeout=2)
            raise
        self.n_ctx = info["n_ctx"]
        self.n_vocab = info["n_vocab"]
        self.bos = info["bos"]
        self._special = info["special"]
        self.pid = info["pid"]
        self.buffers = tuple(info.get("buffers", ()))

    # -- text and tokens --------------------------------------------------------------
    def _call(self, op: str, **args):
        try:
            return self.worker.call(op, **args)
        except ModelCrashedError as exc:
            self.crashed = str(exc)
            raise

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        return self.tokenize_many([(text, special)])[0]

    def tokenize_many(self, parts: list[tuple[str, bool]]) -> list[list[int]]:
        return self._call("tokenize", parts=list(parts))

    def token_text(self, token: int) -> str:
        return self._call("token_text", token=token)

    def meta(self, key: str) -> str | None:
        return self._call("meta", key=key)

    def special_texts(self) -> dict[str, str]:
        return dict(self._special)

    def encode(self, template: str | None, messages: list) -> tuple[list[int], int]:
        """The prompt for `messages` as tokens (rendered here, tokenized in one round trip)."""
        tokens = tokenize_parts(self, render_parts(template, messages, self._special))
        return tokens, len(tokens)

    # -- adapters and cache -----------------------------------------------------------
    def check_adapter(self, adapter, model_info, registry) -> None:
        if adapter.base_model != model_info.name:
            raise errors.ModelLoadError(
                f"The adapter {adapter.name} was trained for {adapter.base_model}, not for "
                f"{model_info.name}; it would not work on this model.")

    def set_adapter(self, adapter, scale: float = 1.0) -> None:
        """Attach a registry adapter (or detach with None)."""
        self._call("set_adapter", path=str(adapter.path) if adapter is not None else None, scale=scale)

    def forget(self) -> None:
        self._call("forget")

    # -- answers --------------------------------------------------------------------
    def generate(self, tokens: list[int], max_tokens: int, sampler: GenerationSettings,
                 cancel: CancelToken | None = None, stats: GenerationStats | None = None,
                 stop_at_end: bool = True) -> Iterator[str]:
        """Stream the answer as text pieces, as `LoadedModel.generate` does. If the worker dies,
        the stream ends with finish_reason "crashed" and `stats.error` says what happened."""
        stats = stats if stats is not None else GenerationStats()
        stats.finish_reason = "length"
        self._generation += 1
        gid = self._generation
        t0 = time.perf_counter()
        t_first = t_last = None
        self.worker.send("generate", gid=gid, tokens=list(tokens), max_tokens=max_tokens, settings=sampler,
                         stop_at_end=stop_at_end)
        asked = None       # when the worker was asked to stop
        finished = False
        try:
            while True:
                if asked is None and cancel is not None and cancel.cancelled:
                    asked = self._stop(gid)
                elif asked is not None and time.monotonic() - asked > STOP_GRACE_S:
                    log.warning("the worker of %s did not stop within %.0f s; ending it", self.label, STOP_GRACE_S)
                    self.worker.kill()
                try:
                    message = self.worker.reply(POLL_S)
                except ModelCrashedError as exc:
                    finished = True
                    self.crashed = str(exc)
                    if asked is not None:   # it was ended for not stopping: a stop, not a crash
                        stats.finish_reason = "cancelled"
                    else:
                        stats.finish_reason, stats.error = "crashed", str(exc)
                        log.warning("%s", exc)
                    break
                if message is None:
                    continue
                if message[0] == "piece":
                    t_last = time.perf_counter()
                    if t_first is None:
                        t_first = t_last
                    yield message[1]
                    continue
                finished = True
                if message[0] == "error":
                    raise _rebuild(message[1], message[2])
                _take(stats, message[1])
                t_last = time.perf_counter()
                break
        finally:
            if not finished:   # the caller stopped reading: stop the worker and read to the end
                self._drain(gid, stats)
                stats.finish_reason = "cancelled"
            if t_first is not None and t_last is not None:
                stats.time_to_first_token = t_first - t0
                stats.generation_seconds = t_last - t_first

    def _stop(self, gid: int) -> float:
        self.worker.send("cancel", gid=gid)
        return time.monotonic()

    def _drain(self, gid: int, stats: GenerationStats) -> None:
        """Stop the generation and read its tail; its counts go into `stats`, as they would in-process."""
        asked = self._stop(gid)
        try:
            while time.monotonic() - asked < STOP_GRACE_S:
                message = self.worker.reply(POLL_S)
                if message is not None and message[0] == "ok":
                    _take(stats, message[1])
                if message is not None and message[0] != "piece":
                    return
            self.worker.kill()
            self.crashed = "ended: it did not stop when asked"
        except ModelCrashedError as exc:
            self.crashed = str(exc)

    def next_token_probs(self, tokens: list[int], candidates: list[int],
                         cancel: CancelToken | None = None) -> list[float]:
        return self._call("probs", tokens=list(tokens), candidates=list(candidates))

    def alive(self) -> bool:
        return self.worker.alive()

    def memory_bytes(self) -> int | None:
        """The worker's resident memory (the model's mapped pages included)."""
        return self.worker.rss_bytes()

    def close(self) -> None:
        self.worker.close()


def _take(stats: GenerationStats, values: dict) -> None:
    for key in ("prompt_tokens", "reused_tokens", "completion_tokens", "finish_reason"):
        setattr(stats, key, values[key])
    stats.time_to_first_token = values["time_to_first_token"]
    stats.generation_seconds = values["generation_seconds"]
