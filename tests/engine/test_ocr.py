"""OCR with the real PP-OCRv5 models in the real worker process, on pages rendered here
with a Japanese font: horizontal, vertical, columns, a ruled table, turned, degraded;
as pictures and as image-only PDFs, indexed into a real DuckDB file.

One worker is shared by the module (the models load once); pages are small.
"""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from PIL import Image as PILImage

from engine.bench import ocr_pages as gen

pytestmark = pytest.mark.skipif(gen.font_path() is None, reason="no Japanese font installed")


@pytest.fixture(scope="module")
def worker():
    from engine.ingest.ocr.client import OcrWorker

    w = OcrWorker(threads=2)
    yield w
    w.close()


def png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def read(worker, image, kind="image") -> dict:
    from engine.ingest.ocr.client import read_pages

    _, pages = read_pages(worker, kind, png(image) if kind == "image" else image, None)
    return pages[1]


@pytest.mark.slow
def test_horizontal_degraded_page_reads_within_cer(worker) -> None:
    lines = gen.JA[:3] + gen.EN[:1]
    crooked = gen.horizontal(lines, (800, 400)).rotate(3.5, expand=True, fillcolor="white")  # fed in askew
    page = read(worker, gen.degrade(crooked, "noise+jpeg"))
    assert gen.cer(page["text"], "\n".join(lines)) <= 0.05, page["text"]
    assert page["confidence"] > 0.8
    assert [ln[4] for ln in page["lines"]][0].startswith("第三条")  # top line first


@pytest.mark.slow
def test_vertical_columns_read_right_to_left(worker) -> None:
    cols = [c.replace("　", "") for c in gen.JA[2:5]]
    page = read(worker, gen.vertical(cols, (400, 800)))
    assert page["vertical"] is True
    assert gen.cer(page["text"], "\n".join(cols)) <= 0.10, page["text"]  # 、。 are still dropped in columns
    found = [page["text"].find(c[:6]) for c in cols]
    assert -1 not in found and found == sorted(found), page["text"]


@pytest.mark.slow
@pytest.mark.parametrize("turn", [90, 180])
def test_turned_pages_are_read_upright(worker, turn) -> None:
    lines = gen.JA[5:7]
    page = read(worker, gen.horizontal(lines, (800, 240)).rotate(turn, expand=True))
    assert gen.cer(page["text"], "\n".join(lines)) <= 0.05, page["text"]
    assert page["rotation"] in (90, 180, 270) or page["vertical"]


@pytest.mark.slow
def test_columns_and_ruled_table_keep_reading_order(worker) -> None:
    left, right = gen.JA[:2], gen.JA[4:6]
    page = read(worker, gen.columns(left, right, (1300, 240)))
    text = page["text"]
    assert text.find(left[1][:6]) < text.find(right[0][:6]), text  # the left column ends before the right begins
    table = read(worker, gen.table(gen.TABLE, (860, 340)))
    rows = table["text"].splitlines()
    assert any(r.replace(" ", "").startswith("モニター|24|720,000円") for r in rows), rows


def test_layout_orders_vertical_tiers_and_table_rows() -> None:
    """The ordering logic alone, on boxes placed by hand."""
    import numpy as np

    from engine.ingest.ocr.detect import Box
    from engine.ingest.ocr.layout import order
    from engine.ingest.ocr.recognize import Line

    cols = [Line(Box(x, 10, x + 20, 300, 1), t, 0.9, True) for x, t in ((100, "二"), (200, "一"), (50, "三"))]
    assert [b.text for b in order(cols)] == ["一\n二\n三"]
    gray = np.full((400, 600), 255, np.uint8)
    for y in (50, 150, 250):
        gray[y:y + 2, 20:580] = 0
    cells = [Line(Box(x, y, x + 80, y + 30, 1), t, 0.9, False)
             for x, y, t in ((300, 180, "30円"), (40, 180, "費用"), (40, 80, "品目"), (300, 80, "金額"))]
    assert order(cells, gray)[0].text == "品目 | 金額\n費用 | 30円"
    sections = np.full((1200, 600), 255, np.uint8)  # rules between sections of a page: no table
    for y in (50, 600, 1150):
        sections[y:y + 2, 20:580] = 0
    prose = [Line(Box(40, y, 500, y + 30, 1), t, 0.9, False) for y, t in ((100, "一行目"), (140, "二行目"))]
    assert order(prose, sections)[0].text == "一行目\n二行目"


def test_look_alikes_are_fixed_on_japanese_pages_only() -> None:
    from engine.ingest.ocr.fixes import fix_line

    assert fix_line("デ一タの费用は1, 250, 000円", True) == "データの費用は1,250,000円"
    assert fix_line("七年間とする° 第三条", True) == "七年間とする。 第三条"
    assert fix_line("気温は20°です", True) == "気温は20°です"  # a real degree stays
    assert fix_line("费用", False) == "费用"


def test_a_crashing_worker_is_reported_in_words(worker, monkeypatch) -> None:
    """Native code dying mid-page (the worker aborts itself), then killed from outside:
    each time the file fails with a reason, and the next page starts a fresh worker."""
    from engine.ingest.ocr.client import OcrFailed, OcrWorker, read_pages

    monkeypatch.setenv("BUNKO_OCR_TEST_CRASH", "1")
    crashing = OcrWorker(threads=1)
    with pytest.raises(OcrFailed, match=r"OCR process stopped unexpectedly \(SIGABRT\) while reading page 1"):
        read_pages(crashing, "image", png(gen.horizontal(["テスト"], (200, 80))), None)
    monkeypatch.delenv("BUNKO_OCR_TEST_CRASH")
    killer = threading.Timer(1.0, lambda: os.kill(crashing.pid, signal.SIGKILL))
    image = png(gen.horizontal(gen.JA, (900, 700)))
    killer.start()
    with pytest.raises(OcrFailed, match=r"SIGKILL"):
        read_pages(crashing, "image", image, None)
    killer.join()
    _, pages = read_pages(crashing, "image", png(gen.horizontal([gen.JA[0]], (700, 80))), None)
    assert "第三条" in pages[1]["text"]  # a fresh worker took over
    crashing.close()


def test_bad_pictures_fail_with_a_reason(worker) -> None:
    from engine.ingest.ocr.client import OcrFailed, OcrWorker

    with pytest.raises(OcrFailed, match="cannot be decoded"):
        worker.open("image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(OcrFailed, match="cannot be opened"):
        worker.open("pdf", b"%PDF-1.4 garbage")
    poster = PILImage.new("1", (9500, 9000), 1)  # 85 megapixels, a few KB as PNG
    with pytest.raises(OcrFailed, match="too large"):
        worker.open("image", png(poster))
    assert worker.alive()  # a refusal leaves the worker usable
    assert isinstance(worker, OcrWorker)


def scanned_pdf(path: Path, images: list, text_page: str | None = None) -> None:
    """An image-only PDF (one picture per page), with an optional first page of real text."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(595, 842))
    if text_page:
        c.setFont("Helvetica", 12)
        c.drawString(72, 760, text_page)
        c.showPage()
    for image in images:
        w, h = image.size
        scale = min(500 / w, 760 / h)
        c.drawImage(ImageReader(image), 40, 842 - 40 - h * scale, w * scale, h * scale)
        c.showPage()
    c.save()


@pytest.mark.slow
@pytest.mark.offline
def test_scanned_files_are_indexed_searched_and_listed(tmp_path, embedder_dir) -> None:
    """A PDF with a text page and a scanned page, a multi-page TIFF, a noisy low-confidence
    picture: the scanned text is found by search with its page; the low page is listed;
    the text-layer page is not OCR'd; the per-page confidences are stored."""
    from engine.api import Engine

    docs = tmp_path / "docs"
    docs.mkdir()
    scanned_pdf(docs / "contract.pdf", [gen.horizontal(["第七条　違約金は契約金額の二割とする。", gen.EN[2]],
                                                       (800, 200))],
                text_page="This first page has a real text layer about the warranty for parts and labour.")
    frames = [gen.horizontal([gen.JA[6]], (700, 90)), gen.vertical(["議長は総務部の田中が務めた"], (120, 420))]
    frames[0].save(docs / "scan.tiff", save_all=True, append_images=frames[1:])
    gen.degrade(gen.horizontal(["かすれた文字の注文書"], (420, 90)), "smudge").save(docs / "fax.png")
    (docs / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    with Engine.open(tmp_path / "db" / "bunko.duckdb", embedder_dir) as engine:
        lib = engine.libraries.add(docs, "scans")
        messages: list[str] = []
        result = engine.libraries.index(lib.name, lambda p: p.message and messages.append(p.message))
        assert result.added == 3 and result.failed == 1, result
        assert any("cannot be decoded" in reason for _, reason in result.errors)
        hits = engine.search("違約金は契約金額の何割", k=3)
        assert hits[0].path == "contract.pdf" and hits[0].page == 2, hits[0]
        hits = engine.search("議長は誰が務めた", k=3)
        assert hits[0].path == "scan.tiff" and hits[0].page == 2
        rows = engine._store.con.execute(
            "SELECT d.path, o.page, o.confidence, o.vertical FROM ocr_pages o JOIN documents d ON d.id = o.document_id"
            " ORDER BY d.path, o.page").fetchall()
        assert [(r[0], r[1]) for r in rows] == [("contract.pdf", 2), ("fax.png", 1), ("scan.tiff", 1), ("scan.tiff", 2)]
        assert rows[3][3] is True  # the vertical frame
        lib = engine.libraries.get("scans")
        assert lib.ocr_pages == 4
        listed = {d.path: d for d in engine.libraries.documents("scans", "attention")}
        assert "broken.jpg" in listed
        low = [p for p, d in listed.items() if d.reason and d.reason.startswith("OCR: low confidence on page 1")]
        assert low == ["fax.png"] and lib.ocr_low == 1, listed
        assert listed["fax.png"].status == "indexed"  # listed to check, still searchable


@pytest.mark.offline
def test_ocr_switched_off_skips_pictures_and_migration_adds_tables(tmp_path, embedder_dir) -> None:
    import duckdb

    from engine.api import Engine
    from engine.store.schema import MIGRATIONS

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    for version in range(11):
        for statement in MIGRATIONS[version]:
            con.execute(statement)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', '11')")
    con.close()
    docs = tmp_path / "docs"
    docs.mkdir()
    gen.horizontal(["テスト"], (200, 80)).save(docs / "a.png")
    with Engine.open(db, embedder_dir) as engine:
        assert engine._store.con.execute("SELECT count(*) FROM ocr_pages").fetchone() == (0,)
        lib = engine.libraries.add(docs, "off")
        assert lib.ocr is True
        engine.libraries.set_ocr("off", False)
        result = engine.libraries.index("off")
        assert result.skipped == 1 and result.skips[0][1] == "OCR is switched off for this library"
        engine.libraries.set_ocr("off", True)  # the skipped picture is looked at again
        assert engine.libraries.documents("off") == []


@pytest.mark.slow
def test_cancel_mid_file_keeps_pages_read(tmp_path, worker) -> None:
    """Pages read before a cancel (or a kill of the app) stay in the page cache: the next
    run reads only the rest."""
    from engine.cancel import CancelToken
    from engine.errors import Cancelled
    from engine.ingest.ocr.client import PageCache, read_pages

    cache = PageCache(tmp_path / "cache")
    pdf = tmp_path / "three.pdf"
    scanned_pdf(pdf, [gen.horizontal([line], (500, 70)) for line in gen.JA[:3]])
    data = pdf.read_bytes()
    cancel = CancelToken()

    def on_page(done, total):
        if done == 1:
            cancel.cancel()

    with pytest.raises(Cancelled):
        read_pages(worker, "pdf", data, [1, 2, 3], "h1", cache, cancel, on_page)
    assert cache.get("h1", 1) is not None and cache.get("h1", 2) is None
    calls = []
    t0 = time.monotonic()
    _, pages = read_pages(worker, "pdf", data, [1, 2, 3], "h1", cache, None, lambda d, t: calls.append(d))
    assert "第三条" in pages[1]["text"] and "支払期日" in pages[2]["text"]
    assert time.monotonic() - t0 < 60


def test_cancel_stops_a_page_under_way_within_a_second(worker) -> None:
    from engine.cancel import CancelToken
    from engine.errors import Cancelled
    from engine.ingest.ocr.client import read_pages

    cancel = CancelToken()
    image = png(gen.horizontal(gen.JA * 3, (1400, 1300)))  # a page that takes seconds
    threading.Timer(0.8, cancel.cancel).start()
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        read_pages(worker, "image", image, None, cancel=cancel)
    assert time.monotonic() - t0 < 0.8 + 2.0   # the poll, the kill and its wait, on a busy machine
    assert not worker.alive()  # killed mid-page; the next request starts a fresh one
