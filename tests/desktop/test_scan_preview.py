"""The citation preview of a passage read by OCR shows its scanned page, the passage's lines
marked: a real picture indexed through the real OCR worker, found by a real keyword search."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.api import Engine
from tests.fakes import StubEmbedder
from engine.bench import ocr_pages as gen
from engine.types import Source

pytestmark = pytest.mark.skipif(gen.font_path() is None, reason="no Japanese font installed")


@pytest.mark.slow
def test_scanned_passage_preview_marks_its_lines(qtbot, tmp_path: Path) -> None:
    from desktop.chat.citation_preview import CitationPreview

    root = tmp_path / "docs"
    root.mkdir()
    # turned upside down: the marks must land on the upright page shown
    gen.horizontal(gen.JA[:3], (800, 300)).rotate(180).save(root / "scan.png")
    engine = Engine.open(tmp_path / "bunko.duckdb", embedder=StubEmbedder())
    with engine:
        lib = engine.libraries.add(root)
        assert engine.libraries.index(lib.name).added == 1
        hit = engine.search("稟議書の承認", k=1, mode="keyword")[0]
        scan = engine.libraries.page_scan(hit.chunk_id)
    assert scan is not None and scan.page == 1 and scan.png.startswith(b"\x89PNG")
    assert len(scan.regions) == 3  # the three lines, all in the one passage
    top = min(scan.regions, key=lambda r: r[1])
    assert top[1] < 0.3  # the first line is at the top of the upright page

    source = Source.from_dict(Source.from_hit(1, hit).as_dict())
    preview = CitationPreview(source, "稟議書の承認は部長")
    qtbot.addWidget(preview)
    preview.show()
    preview.show_scan(scan)
    assert preview.scan_area.isVisible() and "OCR" in preview.scan_note.text()
    image = preview.scan_image.toImage()
    x0, y0, x1, y1 = top
    edge = image.pixelColor(int(x0 * image.width()) + 1, int((y0 + y1) / 2 * image.height()))
    assert edge.red() > 200 and edge.blue() < 80, edge.name()  # the orange frame of a marked line
    preview.grab().save(str(tmp_path / "scan_preview.png"))
