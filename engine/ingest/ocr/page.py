"""One page image to text: size cap, orientation, detection, recognition, reading order.

Runs inside the OCR worker process (worker.py), never in the app's own process.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np
from PIL import Image

from . import detect, layout, models, recognize
from . import vertical as vertical_marks
from .fixes import fix_line, is_japanese

log = logging.getLogger(__name__)

MAX_SIDE = 2480  # A4 at 300 dpi: a bigger scan is scaled down before anything else
MAX_PIXELS = 2480 * 3508
MIN_LINE_SCORE = 0.3  # a line read with less is noise (a stain, a stamp's border)
SAMPLE_LINES = 6  # the longest lines, shown to the direction model to choose the orientation


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
        image = image.resize((max(1, int(w * scale)), max(1, int(h * scale))), Image.Resampling.BILINEAR)
    return image.convert("RGB")


SKEW_MAX = 6.0  # degrees: a scan fed in crooked by up to this much is straightened
SKEW_STEP = 0.25


def skew_angle(image: Image.Image) -> float:
    """The page's slant in degrees (counter-clockwise turn that straightens it), from the
    sharpest profile of ink along rows (horizontal writing) or columns (vertical)."""
    small = image.convert("L")
    small.thumbnail((1000, 1000))
    ink = np.asarray(small) < 140
    ys, xs = np.nonzero(ink)
    if len(ys) < 200:
        return 0.0
    if len(ys) > 150_000:  # a dense page: a sample says as much
        pick = np.random.default_rng(0).choice(len(ys), 150_000, replace=False)
        ys, xs = ys[pick], xs[pick]
    h, w = ink.shape
    best, best_score = 0.0, -1.0
    for angle in np.arange(-SKEW_MAX, SKEW_MAX + 1e-9, SKEW_STEP):
        t = np.tan(np.radians(angle))
        rows = np.bincount(np.clip(ys - xs * t + w * abs(t), 0, None).astype(np.int64))
        cols = np.bincount(np.clip(xs + ys * t + h * abs(t), 0, None).astype(np.int64))
        score = max(float((rows.astype(np.float64) ** 2).sum()), float((cols.astype(np.float64) ** 2).sum()))
        if score > best_score * (1 + 1e-6):
            best, best_score = float(angle), score
    return best


class Reader:
    def __init__(self, threads: int = 2) -> None:
        self.det = models.session(models.DET, threads)
        self.rec = models.session(models.REC, threads)
        try:
            self.cls = models.session(models.CLS, 1)
        except models.OcrModelMissing:  # optional: without it every page is taken as upright
            self.cls = None

    def read(self, image: Image.Image) -> PageText:
        image = cap(image)
        angle = skew_angle(image)
        if abs(angle) >= 0.5:
            image = image.rotate(angle, expand=True, fillcolor="white", resample=Image.Resampling.BICUBIC)
        boxes = detect.detect(self.det, image)
        if not boxes:
            return PageText("", None, width=image.size[0], height=image.size[1])
        rotation, vertical = self._orientation(image, boxes)
        if rotation:
            w, h = image.size
            image = image.rotate(-rotation, expand=True)  # PIL turns counter-clockwise
            boxes = [turn(b, rotation, w, h) for b in boxes]
        pieces = [recognize.crop(image, b, vertical and b.h > b.w) for b in boxes]
        read = recognize.recognize(self.rec, pieces)
        if vertical:
            read = self._marks(image, boxes, read)
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

    def _marks(self, image: Image.Image, boxes: list[detect.Box], read: list[tuple[str, float]]):
        """Vertical columns read a second time as upright cells, for the 、。ー the first reading drops."""
        columns = [i for i, b in enumerate(boxes) if b.h > b.w and read[i][0]]
        cut = {i: vertical_marks.strip(image, boxes[i]) for i in columns}
        # read again only where the column has more cells than characters were read
        strips = {i: c[0] for i, c in cut.items() if c is not None and c[1] > len(read[i][0])}
        again = dict(zip(strips, recognize.recognize(self.rec, list(strips.values()))))
        return [(vertical_marks.add_marks(t, again[i][0]), s) if i in again else (t, s)
                for i, (t, s) in enumerate(read)]

    def _orientation(self, image: Image.Image, boxes: list[detect.Box]) -> tuple[int, bool]:
        """(clockwise turn that makes the page upright, whether it is written vertically).

        Wide lines: upright or upside down. Tall lines: vertical writing (or a page
        turned a quarter to the right, which reads the same, column by column), or a
        page turned a quarter to the left. PP-OCR's small direction model (0 or 180
        degrees) decides on the page's longest lines.
        """
        wide = sum(b.w for b in boxes if b.w >= b.h)
        tall = sum(b.h for b in boxes if b.h > b.w)
        if wide >= tall:
            sample = sorted((b for b in boxes if b.w >= b.h), key=lambda b: -b.w)[:SAMPLE_LINES]
            upside_down = self._turned(image, sample, False)
            return (180 if upside_down else 0), False
        sample = sorted((b for b in boxes if b.h > b.w), key=lambda b: -b.h)[:SAMPLE_LINES]
        if self._turned(image, sample, True):
            return 90, False  # a page turned a quarter to the left: turn it back to the right
        return 0, True

    def _turned(self, image: Image.Image, sample: list[detect.Box], vertical: bool) -> bool:
        """Whether the direction model finds these lines upside down (weighted by length)."""
        if self.cls is None or not sample:
            return False
        pieces = [recognize.crop(image, b, vertical) for b in sample]
        p180 = direction(self.cls, pieces)
        weights = np.array([max(b.w, b.h) for b in sample], np.float64)
        return float((p180 * weights).sum() / weights.sum()) > 0.6


def direction(session, pieces: list[Image.Image]) -> np.ndarray:
    """P(upside down) of each line image, from the middle of the line (4:1, as the model takes)."""
    xs = []
    for piece in pieces:
        w, h = piece.size
        seg = min(w, 4 * h)
        x0 = (w - seg) // 2
        part = piece.crop((x0, 0, x0 + seg, h))
        rw = max(1, min(192, int(np.ceil(48 * seg / max(h, 1)))))
        x = np.zeros((3, 48, 192), np.float32)
        x[:, :, :rw] = (np.asarray(part.resize((rw, 48), Image.Resampling.BILINEAR), np.float32)[:, :, ::-1]
                        .transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
        xs.append(x)
    return session.run(None, {session.get_inputs()[0].name: np.stack(xs)})[0][:, 1]


def turn(b: detect.Box, rotation: int, w: int, h: int) -> detect.Box:
    """A box of a w x h page, on the page turned `rotation` degrees clockwise."""
    if rotation == 90:
        return detect.Box(h - b.y1, b.x0, h - b.y0, b.x1, b.score)
    if rotation == 180:
        return detect.Box(w - b.x1, h - b.y1, w - b.x0, h - b.y0, b.score)
    if rotation == 270:
        return detect.Box(b.y0, w - b.x1, b.y1, w - b.x0, b.score)
    return b
