"""Pictures (PNG, JPEG, TIFF with its pages, BMP, WebP): every page read by OCR."""

from __future__ import annotations

from engine.errors import ParseError
from engine.ingest.document import ParsedDocument
from engine.ingest.normalize import make_section

from . import ocr_pages

_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"RIFF")


def parse_image(data: bytes) -> ParsedDocument:
    if not data.startswith(_MAGIC):
        raise ParseError("the file is not a picture Bunko can read (PNG, JPEG, TIFF, BMP or WebP)")
    total, read = ocr_pages("image", data, None)
    sections = [s for s in (make_section(p.text, page=p.page) for p in read) if s]
    if not sections:
        raise ParseError("no text was found in the picture")
    return ParsedDocument(sections=sections, kind="image", ocr=read)
