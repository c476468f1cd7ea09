"""Offline, proven: `bunko index`, `search`, `ask` and `serve` run under the socket audit
(tests/socket_audit.py), which fails the test on any connection or name lookup that is not
loopback or a Unix socket. The audit itself is checked first: it must catch what it claims to."""

from __future__ import annotations

import http.client
import json
import socket
import threading

import pytest

from engine.cli import main
from tests import socket_audit as audit_module


def test_the_audit_catches_connections_and_lookups_even_when_swallowed(socket_audit):
    audit = audit_module.start()
    try:
        with socket.socket() as tcp, pytest.raises(audit_module.OfflineViolation):
            tcp.connect(("192.0.2.1", 80))   # refused before a packet leaves
        try:
            socket.getaddrinfo("example.com", 443)
        except Exception:  # noqa: BLE001 - code that hides the failure is still caught
            pass
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            with pytest.raises(audit_module.OfflineViolation):
                udp.sendto(b"x", ("8.8.8.8", 53))
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            socket.create_connection(server.getsockname()).close()   # loopback is allowed
    finally:
        audit_module.stop(audit)
    assert [v.split()[0] for v in audit.violations] == ["socket.connect", "socket.getaddrinfo", "socket.sendto"]
    assert any("127.0.0.1" in seen for seen in audit.local)
    assert audit not in audit_module._active and not socket_audit.violations   # an inner audit is its own


@pytest.mark.slow
@pytest.mark.offline
def test_index_search_ask_and_serve_stay_on_this_computer(tmp_path, embedder_dir, monkeypatch, capsys,
                                                         socket_audit):
    from engine.api import Engine
    from engine.serve.server import make_server
    from engine.types import GenerationSettings, LoadSettings

    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "travel.md").write_text("# Travel\n\nThe daily allowance is 4,700 yen per day.\n", encoding="utf-8")
    db = str(tmp_path / "b.duckdb")
    common = ["--db", db, "--embedder", str(embedder_dir)]
    assert main([*common, "index", str(docs), "--quiet"]) == 0
    assert main([*common, "search", "daily allowance", "--json"]) == 0
    assert "travel.md" in capsys.readouterr().out

    with Engine.open(db, embedder_dir) as engine:
        engine.models.load(None, LoadSettings(n_ctx=512, n_threads=2))
        events = list(engine.ask("What is the daily allowance?", libraries=["docs"],
                                 settings=GenerationSettings(max_tokens=4, temperature=0)))
        assert events[-1].kind == "done" and events[-1].answer.sources
        server, token = make_server(engine, port=0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=60)
            conn.request("POST", "/v1/chat/completions", headers={"Authorization": f"Bearer {token}"},
                         body=json.dumps({"model": "bunko:docs", "max_tokens": 2,
                                          "messages": [{"role": "user", "content": "allowance?"}]}))
            response = conn.getresponse()
            assert response.status == 200, response.read()
            response.read()
            conn.close()
        finally:
            server.shutdown()
            server.server_close()
    assert any("127.0.0.1" in seen for seen in socket_audit.local)   # the hook watched the whole time


def test_onnxruntime_telemetry_is_switched_off_where_a_session_is_made(embedder_dir, monkeypatch):
    import onnxruntime as ort

    from engine.embed import load_embedder

    calls = []
    real = ort.disable_telemetry_events
    monkeypatch.setattr(ort, "disable_telemetry_events", lambda: calls.append("off") or real())
    embedder = load_embedder(embedder_dir)
    assert calls and embedder.embed_queries(["x"]).shape[0] == 1
