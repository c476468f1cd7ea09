"""`bunko serve`: an OpenAI-compatible HTTP API on this computer, so that other
tools (editors, scripts, agents) can use Bunko's local models and libraries.

Only the standard library: http.server with a thread per connection, so that
`GET /v1/models` answers while an answer is being generated; answers take turns
through the model host's lock.

Model ids, as `GET /v1/models` lists them:

    <model>              a registered chat model
    <model>+<adapter>    that model with one of its LoRA adapters attached
    bunko:<library>      the loaded (else the default) model answering from a library;
                         the response also carries "sources" and "citations"
    <embedder>           `POST /v1/embeddings` of passages (e5's "passage: " prefix)
    <embedder>:query     the same for search queries (e5's "query: " prefix); an `input_type` of
                         query/search_query or passage/document/search_document says it too

Chat requests take the OpenAI fields messages, model, stream, stream_options,
temperature, top_p, max_tokens / max_completion_tokens and seed, plus llama.cpp's
top_k, min_p and repeat_penalty; what is not given takes Bunko's defaults, not
OpenAI's. `stop`, penalties other than repeat_penalty, and logprobs are accepted
and ignored; tools, images, n > 1 and JSON modes are refused with a 400.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import json
import logging
import secrets
import select
import socket
import threading
import io
import time
from typing import Any
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..errors import (ApiError, BunkoError, ChatTemplateError, ContextOverflowError, EmbedderError, EmbedderMismatchError,
                      LibraryNotFoundError, ModelError, ModelLoadError, ModelNotFoundError, NoModelError, ServeError,
                      StoreLockedError)
from .requests import QUERY_SUFFIX, Target, parse_chat, targets, unknown_model

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024
MAX_INPUTS = 2048          # texts in one embeddings request, as OpenAI allows
IDLE_TIMEOUT_S = 300       # a kept-alive connection with no request is dropped after this
FIRST_REQUEST_TIMEOUT_S = 10   # a new connection must begin a request this soon: the long idle
                               # wait is earned by a request with the right key, so unauthenticated
                               # sockets cannot hold the MAX_CONNECTIONS slots for minutes
REQUEST_TIMEOUT_S = 20     # from a request's first byte to its last (line, headers, body): no slowloris
MAX_CONNECTIONS = 32       # open at once; more are answered 503 and closed
_QUERY_TYPES = ("query", "search_query")                    # e5's "query: " prefix
_PASSAGE_TYPES = ("passage", "document", "search_document")  # e5's "passage: " prefix


class _ClientGone(Exception):
    """The client closed the connection (or the server is stopping) during an answer."""


# Engine errors → (HTTP status, code); the first matching class wins, so subclasses come first.
_STATUS: list[tuple[type[BunkoError] | tuple[type[BunkoError], ...], int, str]] = [
    ((LibraryNotFoundError, ModelNotFoundError), 404, "model_not_found"),
    (ContextOverflowError, 400, "context_length_exceeded"),
    (ChatTemplateError, 400, "chat_template_error"),
    ((EmbedderMismatchError, StoreLockedError), 409, "conflict"),
    ((NoModelError, ModelLoadError, ModelError, EmbedderError), 503, "model_unavailable"),
]


def status_of(exc: BunkoError) -> tuple[int, str | None]:
    if isinstance(exc, ApiError):
        return exc.status, exc.code
    for kinds, status, code in _STATUS:
        if isinstance(exc, kinds):
            return status, code
    return 400, "bunko_error"


def error_body(status: int, message: str, code: str | None = None) -> dict:
    kind = {401: "authentication_error", 404: "not_found_error"}.get(
        status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BunkoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, engine, token: str) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.engine, self.token = engine, token
        self.stopping = threading.Event()  # set before closing the engine: answers end at the next token
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"

    def handle_error(self, request, client_address) -> None:
        log.exception("connection from %s failed", client_address[0])

    # -- at most MAX_CONNECTIONS at once: a thread each, so more would exhaust the process ----------
    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning("refused a connection from %s: %d are open already", client_address[0], MAX_CONNECTIONS)
            _refuse_busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        # ThreadingMixIn's own loop, with the slot freed *before* the socket closes: a client that
        # sees its connection end may connect again at once and must find the slot free.
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self._slots.release()
            self.shutdown_request(request)


def make_server(engine, host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
                allow_remote: bool = False) -> tuple[BunkoServer, str]:
    """A server bound and ready; the caller runs `serve_forever()` and later `shutdown()`."""
    if not is_loopback(host) and not allow_remote:
        raise ServeError(
            f"Refusing to listen on {host!r}: it is not this computer's loopback address (127.0.0.1), so other "
            "machines could reach your models and documents. If you mean it, pass --allow-remote "
            "(allow_remote=True) and keep the token secret; the traffic is not encrypted.")
    token = token or secrets.token_urlsafe(24)
    try:
        engine.models.default()  # so the built-in model is listed from the first request
    except BunkoError as exc:
        log.warning("the built-in chat model is not available: %s", exc)
    try:
        server = BunkoServer((host, port), engine, token)
    except OSError as exc:
        raise ServeError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Another program (or another "
                         "`bunko serve`) may be using the port; choose another with --port.") from exc
    log.info("serving on %s", server.url)
    return server, token


def _refuse_busy(sock) -> None:
    data = json.dumps(error_body(503, f"Bunko's server has {MAX_CONNECTIONS} connections open; try again shortly.",
                                 "too_many_connections")).encode()
    try:
        sock.settimeout(1.0)
        sock.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                     b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(data), data))
    except OSError:
        pass


class Handler(BaseHTTPRequestHandler):
    server: BunkoServer
    rfile: io.BufferedReader   # buffered (StreamRequestHandler's rbufsize), so it can peek
    server_version = "Bunko"
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S

    def handle_one_request(self) -> None:
        """Wait (up to IDLE_TIMEOUT_S) for a request to begin; from then on it has REQUEST_TIMEOUT_S
        to arrive whole, however slowly its bytes trickle in, or the connection is cut."""
        authenticated = getattr(self, "_authenticated", False)
        try:
            self.connection.settimeout(IDLE_TIMEOUT_S if authenticated else FIRST_REQUEST_TIMEOUT_S)
            if not self.rfile.peek(1):
                self.close_connection = True
                return
        except (TimeoutError, OSError):
            if not authenticated:
                log.info("closed a connection from %s that sent no request within %d s",
                         self.client_address[0], FIRST_REQUEST_TIMEOUT_S)
            self.close_connection = True
            return
        self._arrived = threading.Event()
        timer = threading.Timer(REQUEST_TIMEOUT_S, self._too_slow)
        timer.daemon = True
        timer.start()
        try:
            super().handle_one_request()
        finally:
            timer.cancel()

    def _too_slow(self) -> None:
        if self._arrived.is_set():
            return
        log.warning("cut a connection from %s: its request did not arrive within %d s",
                    self.client_address[0], REQUEST_TIMEOUT_S)
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RD)   # the handler's read ends; it frees the slot, then closes
        except OSError:
            pass

    def _handle(self) -> None:
        method = self.command
        self._started = False      # whether a status line went out already
        self._body_read = False
        began = time.perf_counter()
        try:
            self._authorise()
            action = self._route(method)
            body = self._read_json() if method == "POST" else None
            self._arrived.set()   # whole now: the request timer stops here, answering may take long
            action(body)
        except _ClientGone:
            log.info("%s %s: the answer was stopped: the client went away or the server is stopping", method, self.path)
            self.close_connection = True
        except (TimeoutError, BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            log.info("%s %s: the connection broke", method, self.path)
            self.close_connection = True
        except BunkoError as exc:
            status, code = status_of(exc)
            level = logging.INFO if status < 500 else logging.WARNING
            log.log(level, "%s %s → %d: %s", method, self.path, status, exc)
            self._fail(status, str(exc), code, getattr(exc, "headers", None))
        except Exception:  # noqa: BLE001 - one bad request must not stop the server
            log.exception("%s %s failed", method, self.path)
            self._fail(500, "Bunko hit an internal error answering this request; the details are in its log.",
                       "internal_error")
        log.debug("%s %s took %.2f s", method, self.path, time.perf_counter() - began)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    # -- request ----------------------------------------------------------------
    def _authorise(self) -> None:
        scheme, _, given = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.server.token.encode()):
            self._authenticated = False
            self.close_connection = True     # a wrong key keeps no connection (nor its slot) open
            raise ApiError(401, "Missing or wrong API key: send the token that `bunko serve` printed, as "
                                "'Authorization: Bearer <token>' (the api_key of an OpenAI client).",
                           "invalid_api_key", {"WWW-Authenticate": 'Bearer realm="bunko"'})
        self._authenticated = True

    def _route(self, method: str):
        path = self.path.split("?", 1)[0].rstrip("/")
        routes: dict[str, dict[str, Any]] = {"/v1/models": {"GET": self.list_models},
                                             "/v1/chat/completions": {"POST": self.chat_completions},
                                             "/v1/embeddings": {"POST": self.embeddings}}
        if path not in routes:
            raise ApiError(404, f"There is nothing at {path or '/'}; Bunko serves /v1/models, "
                                "/v1/chat/completions and /v1/embeddings.", "not_found")
        allowed = routes[path]
        if method not in allowed:
            raise ApiError(405, f"{path} takes {', '.join(allowed)}, not {method}.", "method_not_allowed",
                           {"Allow": ", ".join(allowed)})
        return allowed[method]

    def _read_json(self) -> dict:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise ApiError(411, "Send the request body with a Content-Length, not chunked.", "length_required")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise ApiError(400, "The Content-Length header is not a number.", "invalid_request") from None
        if length > MAX_BODY:
            raise ApiError(413, f"The request body has {length:,} bytes; the limit is {MAX_BODY:,}.",
                           "request_too_large")
        raw = self.rfile.read(length) if length > 0 else b""
        self._body_read = True
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"The request body is not valid JSON: {exc}.", "invalid_json") from None
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.", "invalid_json")
        return body

    # -- response ---------------------------------------------------------------
    def _send_json(self, status: int, obj: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self._started = True
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _fail(self, status: int, message: str, code: str | None, headers: dict | None = None) -> None:
        try:
            if self._started:  # in a stream: say so in the stream, then hang up
                self._event(error_body(status, message, code))
                self._chunk(b"")
                self.close_connection = True
                return
            if not self._body_read and self.headers.get("Content-Length", "0").strip() not in ("", "0"):
                self.close_connection = True  # the unread body would be taken for the next request
            self._send_json(status, error_body(status, message, code), headers)
        except OSError:
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, unknown method) in OpenAI's shape too."""
        self.close_connection = True
        try:
            self._send_json(code, error_body(code, message or self.responses.get(code, ("Error",))[0], None))
        except OSError:
            pass  # the client is gone (or was cut for being too slow)

    def log_request(self, code="-", size="-") -> None:
        log.info('%s "%s" %s', self.address_string(), self.requestline, code)

    def log_message(self, fmt: str, *args) -> None:
        log.debug("%s %s", self.address_string(), fmt % args)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _event(self, obj) -> None:
        data = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
        self._chunk(f"data: {data}\n\n".encode())

    def _gone(self) -> bool:
        """Whether the client hung up (or the server is stopping), checked without waiting."""
        if self.server.stopping.is_set():
            return True
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
        except (OSError, ValueError):
            return True

    # -- endpoints ----------------------------------------------------------------
    def list_models(self, _body) -> None:
        now = int(time.time())
        data = [{"id": t.id, "object": "model", "created": now, "owned_by": "bunko", "kind": t.kind}
                for t in targets(self.server.engine).values()]
        self._send_json(200, {"object": "list", "data": data})

    def _target(self, name: str | None) -> Target:
        if name is None:  # no model named: whatever is loaded, else the default
            return Target("", "chat")
        known = targets(self.server.engine, embedding=False)
        if name in known:
            return known[name]
        raise unknown_model(name, known)  # embedding models too: they answer at /v1/embeddings

    def chat_completions(self, body: dict) -> None:
        request = parse_chat(body)
        if body.get("stop"):
            log.debug("stop sequences are ignored: %r", body["stop"])
        target = self._target(request.model)
        events = self.server.engine.chat.stream(
            request.question, history=request.history, rag=target.library is not None,
            libraries=[target.library] if target.library else None, model=target.model,
            adapter=target.adapter, settings=request.settings, system_prompt=request.system)
        try:
            first = next(events)  # engine errors (no model, overflow…) come before this and get a status
            if request.stream:
                self._stream_answer(request, target, first, events)
            else:
                self._whole_answer(request, target, first, events)
        finally:
            events.close()  # a client that left stops the model here, releasing it for the next request

    def _answer_events(self, events):
        """Token texts, leading whitespace dropped; the Answer is in `self._answer` at the end."""
        started = False
        for event in events:
            if self._gone():
                raise _ClientGone()
            if event.kind == "token":
                text = event.text if started else event.text.lstrip()
                if text:
                    started = True
                    yield text
            elif event.kind == "done":
                self._answer = event.answer

    def _whole_answer(self, request, target, first, events) -> None:
        self._answer = None
        text = "".join(self._answer_events(events))
        answer = self._answer
        out = {"id": f"chatcmpl-{secrets.token_hex(12)}", "object": "chat.completion", "created": int(time.time()),
               "model": target.id or answer.model,
               "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                            "finish_reason": _finish(answer), "logprobs": None}],
               "usage": _usage(answer)}
        if target.library is not None:
            out["sources"] = [_source(s) for s in first.sources]
            out["citations"] = list(answer.citations)
            out["citations_inferred"] = answer.inferred
        self._send_json(200, out)

    def _stream_answer(self, request, target, first, events) -> None:
        self.send_response(200)
        self._started = True
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        model = target.id or self.server.engine.models.loaded().model
        base = {"id": f"chatcmpl-{secrets.token_hex(12)}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model}

        def chunk(delta: dict, finish: str | None = None, **extra) -> dict:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                    **extra}

        extra: dict[str, Any] = {"sources": [_source(s) for s in first.sources]} if target.library is not None else {}
        self._event(chunk({"role": "assistant", "content": ""}, **extra))
        self._answer = None
        for text in self._answer_events(events):
            self._event(chunk({"content": text}))
        answer = self._answer
        extra = ({"citations": list(answer.citations), "citations_inferred": answer.inferred}
                 if target.library is not None else {})
        self._event(chunk({}, _finish(answer), **extra))
        if request.include_usage:
            self._event({**base, "choices": [], "usage": _usage(answer)})
        self._event("[DONE]")
        self._chunk(b"")

    def embeddings(self, body: dict) -> None:
        embedder = self.server.engine.searcher.embedder
        name = body.get("model") or embedder.name
        if name in (embedder.name, f"{embedder.name}:passage"):
            embed = embedder.embed_passages
        elif name == embedder.name + QUERY_SUFFIX:
            embed = embedder.embed_queries
        else:
            raise unknown_model(name, [embedder.name, embedder.name + QUERY_SUFFIX])
        kind = body.get("input_type")   # how some tools say which prefix: overrides the model's suffix
        if kind is not None:
            if kind not in _QUERY_TYPES + _PASSAGE_TYPES:
                raise ApiError(400, f"input_type must be one of {', '.join(_QUERY_TYPES + _PASSAGE_TYPES)}, "
                                    f"not {kind!r}.", "invalid_value")
            embed = embedder.embed_queries if kind in _QUERY_TYPES else embedder.embed_passages
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise ApiError(400, "input must be a string or a non-empty list of strings (token arrays are not "
                                "supported).", "invalid_value")
        if len(texts) > MAX_INPUTS:
            raise ApiError(400, f"input has {len(texts)} texts; send at most {MAX_INPUTS} per request.",
                           "invalid_value")
        if body.get("dimensions") not in (None, embedder.dim):
            raise ApiError(400, f"{embedder.name} makes {embedder.dim}-dimensional vectors; leave dimensions out.",
                           "invalid_value")
        fmt = body.get("encoding_format") or "float"
        if fmt not in ("float", "base64"):
            raise ApiError(400, f"encoding_format must be float or base64, not {fmt!r}.", "invalid_value")
        vectors = embed(texts)
        tokens = sum(embedder.count_tokens(texts))
        data = [{"object": "embedding", "index": i,
                 "embedding": (base64.b64encode(v.astype("<f4").tobytes()).decode("ascii") if fmt == "base64"
                               else v.tolist())}
                for i, v in enumerate(vectors)]
        self._send_json(200, {"object": "list", "data": data, "model": name,
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def _finish(answer) -> str:
    """OpenAI's "stop" and "length", or Bunko's own reason: "repetition" (the model looped and was
    stopped), "language" (the chosen model cannot write the question's language), "crashed" (the
    model's worker process died; the next request starts a new one) or "interrupted" (a remote
    model's link dropped)."""
    reason = answer.stats.get("finish_reason")
    return reason if reason in ("length", "repetition", "language", "crashed", "interrupted") else "stop"


def _usage(answer) -> dict:
    prompt, completion = answer.stats.get("prompt_tokens", 0), answer.stats.get("completion_tokens", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _source(s) -> dict:
    return {"number": s.number, "library": s.library, "path": s.path, "location": s.location, "text": s.text}
