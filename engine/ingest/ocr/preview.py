"""The citation preview of an OCR'd passage: its page image with the passage's lines marked.

The page is rendered by the OCR worker (pdfium and the image decoders are native
code run on the user's file) and turned as it was for reading, so the stored
line boxes fall on the words.
"""

from __future__ import annotations

import json
import unicodedata

from engine.paths import file_uri, uri_path
from engine.types import ScanPage

PREVIEW_SIDE = 1400  # pixels, the longer side of the image shown


def _flat(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def regions(lines: list, passage: str) -> list[tuple[float, float, float, float]]:
    """The boxes of the page's lines that the passage holds (a line cut by the chunker
    counts when its first or last few characters are there)."""
    flat = _flat(passage)
    out = []
    for x0, y0, x1, y1, text in lines:
        t = _flat(text)
        if t and (t in flat or (len(t) >= 6 and (t[:6] in flat or t[-6:] in flat))):
            out.append((x0, y0, x1, y1))
    return out


def page_scan(store, chunk_id: int) -> ScanPage | None:
    """The scan behind a passage, or None when its page was not read by OCR."""
    from engine.ingest.parsers import read_bytes
    from engine.ingest.scan import MAX_FILE_BYTES

    from .client import OcrWorker

    cur = store.cursor()
    try:
        row = cur.execute(
            "SELECT c.text, c.page, d.kind, d.path, d.path_raw, l.root, o.rotation, o.lines, o.confidence "
            "FROM chunks c JOIN documents d ON d.id = c.document_id JOIN libraries l ON l.id = d.library_id "
            "JOIN ocr_pages o ON o.document_id = d.id AND o.page = c.page WHERE c.id = ?", [chunk_id]).fetchone()
    finally:
        cur.close()
    if row is None:
        return None
    text, page, kind, path, raw, root, rotation, lines, confidence = row
    data = read_bytes(uri_path(file_uri(root, path, bytes(raw) if raw is not None else None)), MAX_FILE_BYTES)
    worker = OcrWorker(threads=1)
    try:
        png = worker.render("pdf" if kind == "pdf" else "image", data, page, PREVIEW_SIDE, rotation or 0)
    finally:
        worker.close()
    return ScanPage(page=page, png=png, regions=regions(json.loads(lines or "[]"), text), confidence=confidence)
