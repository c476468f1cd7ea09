"""`bunko bench mcp` and `bunko bench serve`: tiny real runs (a real `bunko mcp` child over stdio, a
real server on loopback), one JSON object each, the same results both ways."""

from __future__ import annotations

import json

import pytest

from engine.cli.commands import main

pytestmark = pytest.mark.offline


def _run_json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)  # exactly one JSON object on stdout


@pytest.mark.slow
def test_bench_mcp_json(embedder_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    r = _run_json(capsys, ["--embedder", str(embedder_dir), "bench", "mcp", "--queries", "6", "--files", "3",
                           "--json"])
    assert r["bench"] == "mcp" and r["queries"] == 6 and r["same_results"] == 6
    assert r["direct"]["median_ms"] > 0 and r["mcp_stdio"]["median_ms"] > 0 and r["mcp_stdio"]["n"] == 6
    assert r["limit_ms"] == pytest.approx(1.2 * r["direct"]["median_ms"] + 5, abs=1e-2)
    assert isinstance(r["meets_goal"], bool)


def test_bench_serve_json(embedder_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    r = _run_json(capsys, ["--embedder", str(embedder_dir), "bench", "serve", "--texts", "8", "--batch", "4",
                           "--runs", "1", "--json"])
    assert r["bench"] == "serve" and r["texts"] == 8 and r["max_abs_difference"] < 1e-6
    assert r["direct_texts_per_s"] > 0 and r["http_texts_per_s"] > 0 and r["ratio"] > 0
