"""One page image to text: size cap, orientation, detection, recognition, reading order.

Runs inside the OCR worker process (worker.py), never in the app's own process.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np
from PIL import Image

from . import detect, layout, models, recognize
from .fixes import fix_line, is_japanese

log = logging.getLogger(__name__)

MAX_SIDE = 2480  # A4 at 300 dpi: a bigger scan is scaled down before anything else
MAX_PIXELS = 2480 * 3508
MIN_LINE_SCORE = 0.3  # a line read with less is noise (a stain, a stamp's border)
SAMPLE_LINES = 6  # lines read twice to choose the page's orientation


@dataclass
class PageText:
    text: str
    confidence: float | None  # mean over its characters; None: nothing was found
    rotation: int = 0  # degrees the page was turned (clockwise) to read it
    vertical: bool = False
    width: int = 0
    height: int = 0
    # (x0, y0, x1, y1) as shares of the upright page, and the line's text, in reading order
    lines: list[tuple[float, float, float, float, str]] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def cap(image: Image.Image) -> Image.Image:
    """RGB, and no larger than an A4 page at 300 dpi (a poster-sized scan cannot exhaust memory)."""
    image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced size straight away
    w, h = image.size
    scale = min(1.0, MAX_SIDE / max(w, h), (MAX_PIXELS / max(w * h, 1)) ** 0.5)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGBA") if "A" in image.mode or image.mode == "P" else image.convert("RGB")
        if image.mode == "RGBA":  # transparent areas become paper, not black
            paper = Image.new("RGB", image.size, "white")
            paper.paste(image, mask=image.getchannel("A"))
            image = paper
    if scale < 1.0:
        image = image.resize((max(1, int(w * scale)), max(1, int(h * scale))), Image.BILINEAR)
    return image.convert("RGB")


class Reader:
    def __init__(self, threads: int = 2) -> None:
        self.det = models.session(models.DET, threads)
        self.rec = models.session(models.REC, threads)

    def read(self, image: Image.Image) -> PageText:
        image = cap(image)
        boxes = detect.detect(self.det, image)
        if not boxes:
            return PageText("", None, width=image.size[0], height=image.size[1])
        rotation, vertical = self._orientation(image, boxes)
        if rotation:
            image = image.rotate(-rotation, expand=True)  # PIL turns counter-clockwise
            boxes = detect.detect(self.det, image)
            if rotation == 90:  # the quarter turn was a guess between left and right: check
                turn, vertical = self._orientation(image, boxes)
                if turn == 180:
                    image, rotation = image.rotate(180), 270
                    boxes = detect.detect(self.det, image)
        pieces = [recognize.crop(image, b, vertical and b.h > b.w) for b in boxes]
        read = recognize.recognize(self.rec, pieces)
        japanese = is_japanese([t for t, _ in read])
        lines = [recognize.Line(b, fix_line(t, japanese), s, vertical and b.h > b.w)
                 for b, (t, s) in zip(boxes, read) if s >= MIN_LINE_SCORE and t.strip()]
        gray = np.asarray(image.convert("L"))
        blocks = layout.order(lines, gray)
        w, h = image.size
        ordered = [ln for b in blocks for ln in b.lines]
        chars = sum(len(ln.text) for ln in ordered)
        confidence = (sum(ln.score * len(ln.text) for ln in ordered) / chars) if chars else None
        return PageText(
            "\n\n".join(b.text for b in blocks), confidence, rotation, vertical, w, h,
            [(ln.box.x0 / w, ln.box.y0 / h, ln.box.x1 / w, ln.box.y1 / h, ln.text) for ln in ordered],
        )

    def _orientation(self, image: Image.Image, boxes: list[detect.Box]) -> tuple[int, bool]:
        """(clockwise turn that makes the page upright, whether it is written vertically).

        Wide lines: upright or upside down. Tall lines: vertical Japanese, or a
        page turned a quarter; the recogniser's confidence on a few of the
        longest lines, read each way, decides.
        """
        wide = sum(b.w for b in boxes if b.w >= b.h)
        tall = sum(b.h for b in boxes if b.h > b.w)
        if wide >= tall:
            sample = sorted((b for b in boxes if b.w >= b.h), key=lambda b: -b.w)[:SAMPLE_LINES]
            upright = self._score([recognize.crop(image, b, False) for b in sample])
            flipped = self._score([recognize.crop(image, b, False, flip=True) for b in sample])
            return (180 if flipped > upright + 0.05 else 0), False
        sample = sorted((b for b in boxes if b.h > b.w), key=lambda b: -b.h)[:SAMPLE_LINES]
        down = self._score([recognize.crop(image, b, True) for b in sample])  # top to bottom
        up = self._score([recognize.crop(image, b, True, flip=True) for b in sample])  # bottom to top
        if up > down + 0.05:
            return 90, False  # a page turned a quarter to the left: turn it back to the right
        return 0, True  # vertical writing, or a page turned right: both read as columns right to left

    def _score(self, pieces: list[Image.Image]) -> float:
        read = recognize.recognize(self.rec, pieces)
        chars = sum(len(t) for t, _ in read)
        return sum(s * len(t) for t, s in read) / chars if chars else 0.0
