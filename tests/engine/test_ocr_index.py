"""OCR inside real indexing runs: a `bunko index` killed with SIGKILL mid-scan loses the
pages already read; a question about a scanned page is answered with a citation to it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.api import Engine
from engine.bench import ocr_pages as gen
from tests.engine.test_ocr import scanned_pdf

pytestmark = pytest.mark.skipif(gen.font_path() is None, reason="no Japanese font installed")


@pytest.mark.slow
def test_kill_9_mid_scan_keeps_the_pages_read(tmp_path: Path, embedder_dir: Path, monkeypatch) -> None:
    root = tmp_path / "scans"
    root.mkdir()
    scanned_pdf(root / "minutes.pdf", [gen.horizontal([line], (600, 80)) for line in gen.JA[:5]])
    db = tmp_path / "kill.duckdb"
    cache = Path(str(db) + ".ocr-pages")
    cmd = [sys.executable, "-m", "engine.cli", "--db", str(db), "--embedder", str(embedder_dir),
           "index", str(root), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=Path(__file__).parents[2])
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list(cache.glob("*/*/*.json"))) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "indexing finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = sorted(int(p.stem) for p in cache.glob("*/*/*.json"))
    assert kept[:2] == [1, 2] and len(kept) < 5

    from engine.ingest.ocr import client

    asked: list[int] = []
    real_read = client.OcrWorker.read
    monkeypatch.setattr(client.OcrWorker, "read", lambda self, page: asked.append(page) or real_read(self, page))
    with Engine.open(db, embedder_dir) as engine:
        assert engine.libraries.documents("scans") == []  # nothing of the file was stored before the kill
        result = engine.libraries.index("scans")
        assert result.added == 1
        assert asked == [p for p in range(1, 6) if p not in kept]  # only the pages not read before
        assert engine.search("稟議書の承認", k=1)[0].page == 3
        assert engine.libraries.get("scans").ocr_pages == 5
    assert not list(cache.glob("*/*/*.json"))  # stored: the kept pages are let go


@pytest.mark.slow
def test_question_about_a_scanned_page_is_answered_with_a_citation(tmp_path: Path, embedder_dir: Path,
                                                                   monkeypatch) -> None:
    from engine.types import GenerationSettings, LoadSettings

    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    root = tmp_path / "manual"
    root.mkdir()
    scanned_pdf(root / "safety.pdf", [
        gen.horizontal(["Chapter 1. General rules for visitors."], (700, 80)),
        gen.horizontal(["The fire assembly point is the north parking lot.",
                        "Fire drills are held every April."], (800, 130)),
    ])
    with Engine.open(tmp_path / "db.duckdb", embedder_dir) as engine:
        engine.libraries.index(engine.libraries.add(root, "manual").name)
        engine.models.load(None, LoadSettings(n_ctx=2048, n_threads=2))  # the tests' default: SmolLM2
        events = list(engine.ask("Where is the fire assembly point?", libraries=["manual"],
                                 settings=GenerationSettings(temperature=0.0, max_tokens=32, seed=0)))
        answer = events[-1].answer
        cited = answer.cited
        assert cited, answer.text
        assert cited[0].path == "safety.pdf" and cited[0].page == 2
        assert "north parking lot" in cited[0].text
