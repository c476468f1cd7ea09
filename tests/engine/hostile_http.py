"""A hostile OpenAI-compatible server on loopback, for the tests of the endpoint client: it sends
endless lines, huge bodies, answers past max_tokens and fields of the wrong type. It records
the Authorization headers it is sent, to show where a key went."""

from __future__ import annotations

import http.server
import json
import threading
import time

FLOOD = 512 * 1024 * 1024    # bytes a flooding answer sends at most (the unbounded reads kept all of it)
BLOCK = b"a" * 65536


def _event(obj) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _token(text: str = "tok ") -> bytes:
    return _event({"choices": [{"delta": {"content": text}, "finish_reason": None}]})


MALFORMED = {
    "usage_list": _event({"choices": [], "usage": [1, 2]}),
    "content_list": _event({"choices": [{"delta": {"content": [{"type": "text", "text": "hi"}]}}]}),
    "choices_dict": _event({"choices": {"0": {"delta": {"content": "hi"}}}}),
    "delta_text": _event({"choices": [{"delta": "hi"}]}),
    "finish_number": _event({"choices": [{"delta": {"content": "hi"}, "finish_reason": 7}]}),
    "usage_text": _event({"choices": [], "usage": {"prompt_tokens": "many"}}),
    "timings_list": _event({"choices": [], "timings": ["fast"]}),
    "deep_json": b"data: " + b"[" * 200_000 + b"]" * 200_000 + b"\n\n",
}


class Hostile(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"   # the body ends when the connection closes: no length to trust
    behaviour = "ok"
    seen_keys: list = []

    def log_message(self, *a) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen_keys.append(self.headers.get("Authorization"))
        if type(self).behaviour == "huge_models":
            self._head("application/json")
            self._flood(b'{"data": [' + b'{"id": "m"}, ' * 5000)
            return
        body = json.dumps({"data": [{"id": "gpt"}]}).encode()
        self._head("application/json")
        self.wfile.write(body)

    def do_POST(self) -> None:
        type(self).seen_keys.append(self.headers.get("Authorization"))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind = type(self).behaviour
        self._head("text/event-stream")
        try:
            if kind == "endless_line":
                self.wfile.write(b"data: ")
                self._flood(BLOCK)
            elif kind == "ignores_max_tokens":
                self._flood(_token() * 64)
            elif kind == "padding":
                self._flood(b": " + b"x" * 4000 + b"\n")
            elif kind == "slow_drip":
                for _ in range(100_000):
                    self.wfile.write(_token())
                    self.wfile.flush()
                    time.sleep(0.05)
            elif kind in MALFORMED:
                self.wfile.write(_token("ok ") + MALFORMED[kind] + b"data: [DONE]\n\n")
            else:
                self.wfile.write(_token("hello") + _event({"choices": [{"delta": {}, "finish_reason": "stop"}],
                                                          "usage": {"prompt_tokens": 3, "completion_tokens": 1}})
                                 + b"data: [DONE]\n\n")
        except OSError:
            pass   # the client hung up: what it should do

    def _head(self, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.end_headers()

    def _flood(self, block: bytes) -> None:
        sent = 0
        try:
            while sent < FLOOD:
                self.wfile.write(block)
                sent += len(block)
        except OSError:
            pass


def start(behaviour: str = "ok"):
    """(server, base URL); the caller shuts it down."""
    Hostile.behaviour = behaviour
    Hostile.seen_keys = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    # a short poll: the caller's shutdown() waits up to one poll interval (0.5 s by default)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"
