"""A small OpenAI-compatible client on the standard library: list models, stream a chat answer.

Only what Bunko needs (`/v1/models`, `/v1/chat/completions` with server-sent events), so no
HTTP package is added. Every failure becomes an EndpointError in words a user can act on;
nothing here logs the key or the text of a request.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import urlsplit

from ...cancel import CancelToken
from ...errors import EndpointError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0   # between two pieces of a streamed answer: a model loading on the server can be slow


def normalise_url(url: str) -> str:
    """'host:8000', 'http://host:8000/', 'http://host:8000/v1' -> 'http://host:8000/v1'."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
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
        self._host, self._port = parts.hostname, parts.port or (443 if self._https else 80)
        self._prefix = parts.path
        self.key = key
        self.timeout = timeout

    # -- plumbing ---------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
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
        except (socket.timeout, TimeoutError) as exc:
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
            data = _json(resp.read(), self.base_url)
        finally:
            conn.close()
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise EndpointError(f"{self.base_url} did not list models like an OpenAI-compatible server "
                                "(no 'data' list in /v1/models).")
        return [str(m["id"]) for m in items if isinstance(m, dict) and "id" in m]

    def stream_chat(self, model: str, messages: list[dict], options: dict,
                    cancel: CancelToken | None = None) -> Iterator[Piece]:
        """Pieces of the answer as they come; raises Interrupted when the stream breaks off."""
        body = {"model": model, "messages": messages, "stream": True,
                "stream_options": {"include_usage": True}, **options}
        conn, resp = self._request("POST", "/chat/completions", body)
        done = False
        try:
            while True:
                if cancel is not None and cancel.cancelled:
                    return
                try:
                    line = resp.readline()
                except (socket.timeout, TimeoutError) as exc:
                    raise EndpointError(f"{self.base_url} stopped sending the answer for "
                                        f"{self.timeout:.0f} s.") from exc
                except (OSError, http.client.HTTPException) as exc:
                    raise Interrupted(str(exc)) from exc
                if not line:
                    if done:
                        return
                    raise Interrupted("the connection closed before the answer ended")
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue  # blank separators, comments (': ping'), event names
                payload = line[5:].strip()
                if payload == b"[DONE]":
                    return
                event = _json(payload, self.base_url)
                if isinstance(event, dict) and "error" in event:
                    err = event["error"]
                    msg = err.get("message") if isinstance(err, dict) else str(err)
                    raise EndpointError(f"{self.base_url} stopped with an error: {msg}")
                piece = _piece(event, self.base_url)
                if piece.finish_reason:
                    done = True
                yield piece
        finally:
            conn.close()


def _piece(event, where: str) -> Piece:
    if not isinstance(event, dict):
        raise EndpointError(f"{where} sent something that is not a chat answer.")
    p = Piece(usage=event.get("usage") or {}, timings=event.get("timings") or {})
    choices = event.get("choices") or []
    if choices:
        c = choices[0] if isinstance(choices[0], dict) else {}
        delta = c.get("delta") or {}
        p.text = delta.get("content") or ""
        p.finish_reason = c.get("finish_reason")
    return p


def _json(data: bytes, where: str):
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        shown = data[:80].decode("utf-8", "replace")
        raise EndpointError(f"{where} did not answer like an OpenAI-compatible server "
                            f"(it sent {shown!r}). Check the address: it usually ends in /v1.") from None


def _error_detail(resp) -> str:
    try:
        data = json.loads(resp.read(65536))
        err = data.get("error", data) if isinstance(data, dict) else data
        msg = err.get("message") if isinstance(err, dict) else err
        return str(msg)[:300] if msg else ""
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
