"""`bunko serve` under abuse, with a real server on a free port and raw sockets: sampling
values that are not finite numbers, too many messages, requests that trickle in
(slowloris) and more connections than the server takes. No model is needed: each is
refused before one would run."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest

from engine.serve import server as serve
from engine.api import Engine


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(serve, "REQUEST_TIMEOUT_S", 1.5, raising=False)  # room for a loaded machine
    monkeypatch.setattr(serve, "MAX_CONNECTIONS", 3, raising=False)
    with Engine.open(tmp_path / "b.duckdb") as engine:
        srv, token = serve.make_server(engine, port=0)
        # a short poll: shutdown() waits up to one poll interval (0.5 s by default) after each test
        thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        srv.test_token = token
        try:
            yield srv
        finally:
            srv.shutdown()
            srv.server_close()


def post_raw(srv, raw_body: bytes):
    conn = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=10)
    conn.request("POST", "/v1/chat/completions", body=raw_body,
                 headers={"Authorization": f"Bearer {srv.test_token}", "Content-Type": "application/json"})
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    return resp.status, body


HELLO = '"messages": [{"role": "user", "content": "hi"}]'


@pytest.mark.parametrize("field, value", [
    ("temperature", "NaN"), ("temperature", "Infinity"), ("top_p", "-Infinity"), ("min_p", "NaN"),
    ("repeat_penalty", "Infinity"), ("repeat_penalty", "1e308"), ("max_tokens", "1" + "0" * 30),
    ("top_k", "99999999999"), ("temperature", "3"),
])
def test_sampling_values_must_be_finite_and_in_range(server, field, value):
    status, body = post_raw(server, f'{{{HELLO}, "{field}": {value}}}'.encode())
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error" and body["error"]["code"] == "invalid_value"
    assert field in body["error"]["message"]


def test_too_many_messages_are_refused(server):
    from engine.serve.requests import MAX_MESSAGES
    messages = [{"role": "user", "content": "hi"}] * (MAX_MESSAGES + 1)
    status, body = post_raw(server, json.dumps({"messages": messages}).encode())
    assert status == 400 and "at most" in body["error"]["message"]


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> bool:
    """Whether the server closes `sock` within `seconds` while we keep sending a byte at a time."""
    end = time.monotonic() + seconds
    sock.settimeout(0.1)
    i = 0
    while time.monotonic() < end:
        try:
            data = sock.recv(4096)
            if not data:
                return True
        except TimeoutError:
            pass
        except OSError:
            return True
        if trickle:
            try:
                sock.send(trickle[i % len(trickle):i % len(trickle) + 1])
            except OSError:
                return True
            i += 1
    return False


def test_a_request_trickling_in_is_cut(server):
    with socket.create_connection(server.server_address[:2]) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        assert _closed_within(sock, 4, trickle=b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")  # headers never end
    with socket.create_connection(server.server_address[:2]) as sock:  # a body that never ends
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                     + server.test_token.encode() + b"\r\nContent-Length: 1000\r\n\r\n{")
        assert _closed_within(sock, 4, trickle=b" ")
    # an idle kept-alive connection is not a slow request: it is only dropped after IDLE_TIMEOUT_S
    with socket.create_connection(server.server_address[:2]) as sock:
        assert not _closed_within(sock, 1.2)


def _status_soon(srv, method: str, path: str, seconds: float = 10) -> int:
    """The status of a request, asked again while the server answers 503 (full: it frees a slot
    once it has seen a client close, which a client cannot wait for)."""
    deadline = time.monotonic() + seconds
    while True:
        conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=10)
        conn.request(method, path, headers={"Authorization": f"Bearer {srv.test_token}"})
        status = conn.getresponse().status
        conn.close()
        if status != 503 or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_connections_beyond_the_cap_get_a_503_and_the_server_recovers(server):
    address = server.server_address[:2]
    idle = [socket.create_connection(address) for _ in range(serve.MAX_CONNECTIONS)]
    try:
        time.sleep(0.3)
        with socket.create_connection(address) as extra:
            extra.settimeout(5)
            reply = b""
            while chunk := extra.recv(4096):
                reply += chunk
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503") and json.loads(body)["error"]["code"] == "too_many_connections"
    finally:
        for s in idle:
            s.close()
    # answered again (the wrong method, to need no model) once the server has seen the closes
    assert _status_soon(server, "GET", "/v1/chat/completions") == 405


def test_connections_that_never_authenticate_cannot_hold_the_slots(server, monkeypatch):
    """Idle sockets that sent nothing are dropped after FIRST_REQUEST_TIMEOUT_S, not IDLE_TIMEOUT_S,
    so MAX_CONNECTIONS of them free their slots quickly; a wrong key's connection is closed; a
    connection with the right key keeps the long keep-alive."""
    monkeypatch.setattr(serve, "FIRST_REQUEST_TIMEOUT_S", 0.5)
    address = server.server_address[:2]
    idle = [socket.create_connection(address) for _ in range(serve.MAX_CONNECTIONS)]
    try:
        assert all(_closed_within(s, 4) for s in idle)
        conn = http.client.HTTPConnection(*address, timeout=10)
        conn.request("GET", "/v1/chat/completions", headers={"Authorization": f"Bearer {server.test_token}"})
        assert conn.getresponse().status == 405   # a slot was free again, long before 300 s
        conn.close()
    finally:
        for s in idle:
            s.close()
    with socket.create_connection(address) as sock:   # a wrong key: answered 401, then closed
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n\r\n")
        assert _closed_within(sock, 4)
    with socket.create_connection(address) as sock:   # the right key: kept alive past the first wait
        sock.sendall(b"GET /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                     + server.test_token.encode() + b"\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(4096).startswith(b"HTTP/1.1 405")
        assert not _closed_within(sock, 1.5)
