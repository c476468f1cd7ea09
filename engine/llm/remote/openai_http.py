"""A small OpenAI-compatible client on the standard library: list models, stream a chat answer.

Only what Bunko needs (`/v1/models`, `/v1/chat/completions` with server-sent events), so no
HTTP package is added. Every failure becomes an EndpointError in words a user can act on;
nothing here logs the key or the text of a request.

The server is another party: every read is bounded (a line, the model list, an answer's
tokens, bytes and time) and every field is checked for its type, so a broken or hostile
server gets an error in words, not the memory of this computer. An API key goes only over
https, or over plain http to this computer itself (127.0.0.1, ::1, localhost): never in
clear text across a network.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
from dataclasses import dataclass, field
from collections.abc import Iterator
from urllib.parse import urlsplit

from ...cancel import CancelToken
from ...errors import EndpointError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0   # between two pieces of a streamed answer: a model loading on the server can be slow
MAX_LINE = 1024 * 1024            # bytes of one line of the stream (one event is a few hundred)
MAX_MODELS_BODY = 4 * 1024 * 1024  # bytes of /v1/models (a list of names)
MAX_MODELS = 10_000
ANSWER_BYTES_PER_TOKEN = 2048     # the stream's bytes allowed per token asked for (events carry JSON around each)
MIN_ANSWER_BYTES = 4 * 1024 * 1024
EXTRA_TOKENS = 64                 # pieces past max_tokens before Bunko stops reading (servers split differently)
ANSWER_SECONDS = 600.0            # an answer's time, plus SECONDS_PER_TOKEN for each token asked for
SECONDS_PER_TOKEN = 2.0


def is_loopback(host: str | None) -> bool:
    """This computer itself: the only place a key may go over plain http."""
    if not host:
        return False
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalise_url(url: str) -> str:
    """'http://host:8000/', 'http://host:8000/v1' -> 'http://host:8000/v1'; 'host:8000' (no scheme)
    means https: a plain http address is only used when the user wrote http://."""
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"{url} is not an http:// or https:// address of a server.")
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return f"{parts.scheme}://{parts.netloc}{path}"


@dataclass
class Piece:
    """One event of a streamed answer: text, or the end with the server's own figures."""
    text: str = ""
    finish_reason: str | None = None
    usage: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)   # llama-server's own: prompt_ms, predicted_per_second, …


class Interrupted(Exception):
    """The stream ended before the server said it was done (the link dropped)."""


class OpenAIClient:
    def __init__(self, base_url: str, key: str | None = None, timeout: float = READ_TIMEOUT) -> None:
        self.base_url = normalise_url(base_url)
        parts = urlsplit(self.base_url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "", parts.port or (443 if self._https else 80)  # normalise_url checked it
        self._prefix = parts.path
        if key and not self._https and not is_loopback(self._host):
            raise EndpointError(f"Bunko sends API keys only over https, or over http to this computer itself; "
                                f"{self.base_url} is plain http to another machine, where the key would cross "
                                "the network readable by anyone on the way. Use the server's https:// address.")
        self.key = key
        self.timeout = timeout

    # -- plumbing ---------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=CONNECT_TIMEOUT,
                                               context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=CONNECT_TIMEOUT)
        return conn

    def _headers(self) -> dict[str, str]:
        h = {"Accept": "application/json", "Content-Type": "application/json"}
        if self.key:
            h["Authorization"] = f"Bearer {self.key}"
        return h

    def _request(self, method: str, path: str, body: dict | None = None):
        conn = self._connection()
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.sock.settimeout(self.timeout)
            data = json.dumps(body).encode("utf-8") if body is not None else None
            conn.request(method, self._prefix + path, body=data, headers=self._headers())
            resp = conn.getresponse()
        except ConnectionRefusedError as exc:
            conn.close()
            raise EndpointError(f"Nothing answers at {self.base_url}: is the server running, and is "
                                "the address right?") from exc
        except TimeoutError as exc:
            conn.close()
            raise EndpointError(f"{self.base_url} did not answer within {self.timeout:.0f} s.") from exc
        except ssl.SSLError as exc:
            conn.close()
            raise EndpointError(f"The secure connection to {self.base_url} failed ({exc.reason}). "
                                "Check the address (http or https) and the server's certificate.") from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise EndpointError(f"Cannot reach {self.base_url}: {exc}") from exc
        if resp.status >= 400:
            detail = _error_detail(resp)
            conn.close()
            raise _status_error(self.base_url, resp.status, detail)
        return conn, resp

    # -- the two calls --------------------------------------------------------
    def models(self) -> list[str]:
        """The model names the server offers (GET /v1/models)."""
        conn, resp = self._request("GET", "/models")
        try:
            body = self._read(resp, MAX_MODELS_BODY + 1)
        finally:
            conn.close()
        if len(body) > MAX_MODELS_BODY:
            raise EndpointError(f"{self.base_url} sent a list of models larger than {MAX_MODELS_BODY // 2**20} MiB; "
                                "Bunko stopped reading. Check the address: it should be an OpenAI-compatible server.")
        data = _json(body, self.base_url)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise EndpointError(f"{self.base_url} did not list models like an OpenAI-compatible server "
                                "(no 'data' list in /v1/models).")
        names = [m["id"] for m in items[:MAX_MODELS] if isinstance(m, dict) and isinstance(m.get("id"), str)]
        return [n for n in names if 0 < len(n) <= 512]

    def _read(self, resp, limit: int) -> bytes:
        try:
            return resp.read(limit)
        except TimeoutError as exc:
            raise EndpointError(f"{self.base_url} stopped sending for {self.timeout:.0f} s.") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise EndpointError(f"The connection to {self.base_url} broke: {exc}") from exc

    def stream_chat(self, model: str, messages: list[dict], options: dict,
                    cancel: CancelToken | None = None) -> Iterator[Piece]:
        """Pieces of the answer as they come; raises Interrupted when the stream breaks off.
        A server that goes on past max_tokens is cut off there (finish "length"); one that
        sends more bytes, or for longer, than such an answer takes gets an EndpointError."""
        body = {"model": model, "messages": messages, "stream": True,
                "stream_options": {"include_usage": True}, **options}
        max_tokens = options.get("max_tokens")
        max_tokens = max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else 4096
        byte_cap = max(MIN_ANSWER_BYTES, max_tokens * ANSWER_BYTES_PER_TOKEN)
        seconds = ANSWER_SECONDS + max_tokens * SECONDS_PER_TOKEN
        deadline = time.monotonic() + seconds
        conn, resp = self._request("POST", "/chat/completions", body)
        done, received, pieces = False, 0, 0
        try:
            while True:
                if cancel is not None and cancel.cancelled:
                    return
                if time.monotonic() > deadline:
                    raise EndpointError(f"{self.base_url} was still sending after {seconds:.0f} s, longer than an "
                                        f"answer of {max_tokens} tokens takes; Bunko stopped reading it.")
                try:
                    line = resp.readline(MAX_LINE + 1)
                except TimeoutError as exc:
                    raise EndpointError(f"{self.base_url} stopped sending the answer for "
                                        f"{self.timeout:.0f} s.") from exc
                except (OSError, http.client.HTTPException) as exc:
                    raise Interrupted(str(exc)) from exc
                if not line:
                    if done:
                        return
                    raise Interrupted("the connection closed before the answer ended")
                if len(line) > MAX_LINE:
                    raise EndpointError(f"{self.base_url} sent a line of over {MAX_LINE // 2**20} MiB in its answer; "
                                        "Bunko stopped reading. The server is broken or is not a chat server.")
                received += len(line)
                if received > byte_cap:
                    raise EndpointError(f"{self.base_url} sent over {byte_cap // 2**20} MiB for an answer of at most "
                                        f"{max_tokens} tokens; Bunko stopped reading it.")
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue  # blank separators, comments (': ping'), event names
                payload = line[5:].strip()
                if payload == b"[DONE]":
                    return
                event = _json(payload, self.base_url)
                if isinstance(event, dict) and "error" in event:
                    err = event["error"]
                    msg = err.get("message") if isinstance(err, dict) else err
                    raise EndpointError(f"{self.base_url} stopped with an error: {_said(msg)}")
                piece = _piece(event, self.base_url)
                if piece.text:
                    pieces += 1
                    if pieces > max_tokens + EXTRA_TOKENS:
                        log.warning("%s went on past max_tokens (%d); cut off", self.base_url, max_tokens)
                        yield Piece(finish_reason="length")
                        return
                if piece.finish_reason:
                    done = True
                yield piece
        finally:
            conn.close()


def _said(value) -> str:
    """A server's own words, short and on one line (it may send anything)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)[:300]
    return " ".join(text[:300].split()) or "(no message)"


def _bad(where: str, field_name: str, expected: str, value) -> EndpointError:
    return EndpointError(f"{where} sent a chat answer Bunko cannot read: '{field_name}' should be {expected}, "
                         f"not {type(value).__name__}. The server is not fully OpenAI-compatible; check its "
                         "version or ask its administrator.")


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 40


def _piece(event, where: str) -> Piece:
    """One event, every field checked for its type (a server may send anything)."""
    if not isinstance(event, dict):
        raise EndpointError(f"{where} sent something that is not a chat answer.")
    usage = event.get("usage") or {}
    if not isinstance(usage, dict):
        raise _bad(where, "usage", "an object", usage)
    for name in ("prompt_tokens", "completion_tokens"):
        if usage.get(name) is not None and not _count(usage[name]):
            raise _bad(where, f"usage.{name}", "a count", usage[name])
    timings = event.get("timings") or {}
    if not isinstance(timings, dict):
        raise _bad(where, "timings", "an object", timings)
    p = Piece(usage={k: usage[k] for k in ("prompt_tokens", "completion_tokens") if usage.get(k) is not None},
              timings={str(k)[:64]: v for k, v in list(timings.items())[:64]
                       if isinstance(v, (int, float)) and not isinstance(v, bool)})
    choices = event.get("choices") or []
    if not isinstance(choices, list):
        raise _bad(where, "choices", "a list", choices)
    if choices:
        c = choices[0]
        if not isinstance(c, dict):
            raise _bad(where, "choices[0]", "an object", c)
        delta = c.get("delta") or {}
        if not isinstance(delta, dict):
            raise _bad(where, "delta", "an object", delta)
        content = delta.get("content") or ""
        if not isinstance(content, str):
            raise _bad(where, "delta.content", "text", content)
        finish = c.get("finish_reason")
        if finish is not None and not isinstance(finish, str):
            raise _bad(where, "finish_reason", "text", finish)
        p.text, p.finish_reason = content, (finish[:64] if finish else None)
    return p


def _json(data: bytes, where: str):
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        shown = data[:80].decode("utf-8", "replace")
        raise EndpointError(f"{where} did not answer like an OpenAI-compatible server "
                            f"(it sent {shown!r}). Check the address: it usually ends in /v1.") from None


def _error_detail(resp) -> str:
    try:
        data = json.loads(resp.read(65536))
        err = data.get("error", data) if isinstance(data, dict) else data
        msg = err.get("message") if isinstance(err, dict) else err
        return _said(msg) if msg else ""
    except Exception:  # not JSON: the status says enough
        return ""


def _status_error(where: str, status: int, detail: str) -> EndpointError:
    said = f": {detail}" if detail else ""
    if status in (401, 403):
        text = (f"{where} refused the API key (HTTP {status}{said}). Enter the right key "
                "(bunko models add-endpoint … --key-stdin again, or the model's settings in the app).")
    elif status == 404:
        text = (f"{where} has no such model or path (HTTP 404{said}). Check the address (it usually "
                "ends in /v1) and the model's name (bunko models add-endpoint lists them).")
    elif status == 429:
        text = (f"{where} is answering too many requests (HTTP 429{said}). Wait a moment and ask "
                "again, or raise the server's limits.")
    elif status >= 500:
        text = f"{where} failed (HTTP {status}{said}). The server's log says why; try again later."
    else:
        text = f"{where} refused the request (HTTP {status}{said})."
    return EndpointError(text, status)


def wait_ready(client: OpenAIClient, seconds: float, alive=None, cancel: CancelToken | None = None) -> None:
    """Until the server lists its models (llama-server answers 503 while it loads)."""
    end = time.monotonic() + seconds
    last: Exception | None = None
    while time.monotonic() < end:
        if cancel is not None:
            cancel.raise_if_cancelled()
        if alive is not None and not alive():
            raise EndpointError("The model server stopped while it was starting.")
        try:
            client.models()
            return
        except EndpointError as exc:
            if exc.status in (401, 403):
                raise
            last = exc
        time.sleep(0.3)
    raise EndpointError(f"The model server did not become ready within {seconds:.0f} s ({last}).")
