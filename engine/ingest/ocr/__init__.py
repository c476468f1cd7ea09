"""OCR of scanned PDF pages and pictures (PP-OCRv5, ONNX, in a child process).

Parsers call `ocr_pages` for the pages that have no usable text layer. The
indexer sets the context of its reader thread (`ocr_session`): the shared
worker, the page cache, the library's switch, the file's hash and a progress
callback. Outside such a session a one-off worker reads the file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from collections.abc import Iterator
from typing import TYPE_CHECKING

from engine.errors import SkipFile

if TYPE_CHECKING:   # the client starts processes: imported when a page is read
    from engine.cancel import CancelToken

    from .client import OcrWorker, PageCache

LOW_CONFIDENCE = 0.8  # a page read with a lower mean confidence is listed for a person to check
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
OFF_MESSAGE = "OCR is switched off for this library"


@dataclass(frozen=True)
class OcrPage:
    page: int
    confidence: float | None
    rotation: int
    vertical: bool
    width: int
    height: int
    lines: list  # [x0, y0, x1, y1, text] as shares of the page, in reading order
    text: str

    @property
    def low(self) -> bool:
        return self.confidence is not None and self.confidence < LOW_CONFIDENCE


@dataclass
class OcrContext:
    worker: OcrWorker | None = None  # made on first use
    cache: PageCache | None = None
    enabled: bool = True
    file_hash: str = ""
    cancel: CancelToken | None = None
    on_page: Callable[[int, int], None] | None = None


_local = threading.local()


@contextmanager
def ocr_session(context: OcrContext) -> Iterator[OcrContext]:
    previous = getattr(_local, "context", None)
    _local.context = context
    try:
        yield context
    finally:
        _local.context = previous


def current() -> OcrContext | None:
    return getattr(_local, "context", None)


def ocr_pages(kind: str, data: bytes, pages: list[int] | None) -> tuple[int, list[OcrPage]]:
    """Read `pages` (all when None) of a PDF or picture: (page count, pages with text found)."""
    from .client import OcrWorker, read_pages

    context = current()
    one_off = context is None
    if context is None:
        context = OcrContext()
    if not context.enabled:
        raise SkipFile(OFF_MESSAGE)
    if context.worker is None:
        context.worker = OcrWorker()
    worker = context.worker
    try:
        total, results = read_pages(worker, kind, data, pages, context.file_hash, context.cache,
                                    context.cancel, context.on_page)
    finally:
        if one_off:
            worker.close()
    out = []
    for number in sorted(results):
        r = results[number]
        text = r.get("text") or ""
        out.append(OcrPage(number, r.get("confidence"), r.get("rotation", 0), bool(r.get("vertical")),
                           r.get("width", 0), r.get("height", 0), r.get("lines") or [], text))
    return total, out

