"""Text detection: PP-OCRv5's DB model, then boxes from its probability map.

The model marks a shrunk core of every text line; a box is a connected
region of that map, grown back by the DB rule (area x ratio / perimeter).
Pages are deskewed before they get here, so boxes are upright rectangles:
that keeps the post-processing to numpy (no OpenCV, no polygon library).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
MAX_SIDE = 1600  # the detector's input: a page's longer side (multiple of 32)
MIN_SIDE = 64
THRESH = 0.3  # a pixel is text above this probability
BOX_THRESH = 0.55  # a region's mean probability needed to keep it
UNCLIP = 1.6
MIN_SIZE = 3  # pixels of the map, the shorter side of a region


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float
    score: float

    @property
    def w(self) -> float:
        return self.x1 - self.x0

    @property
    def h(self) -> float:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def prepare(image: Image.Image, max_side: int = MAX_SIDE) -> tuple[np.ndarray, float, float]:
    """The model's input for `image` (RGB) and the factors back to its pixels."""
    w, h = image.size
    scale = min(1.0, max_side / max(w, h))
    nw = max(MIN_SIDE, int(round(w * scale / 32)) * 32)
    nh = max(MIN_SIDE, int(round(h * scale / 32)) * 32)
    resized = image.resize((nw, nh), Image.Resampling.BILINEAR)
    x = (np.asarray(resized, np.float32)[:, :, ::-1] / 255.0 - MEAN) / STD  # BGR, as trained
    return x.transpose(2, 0, 1)[None].astype(np.float32), w / nw, h / nh


def detect(session, image: Image.Image, max_side: int = MAX_SIDE) -> list[Box]:
    x, fx, fy = prepare(image, max_side)
    prob = session.run(None, {session.get_inputs()[0].name: x})[0][0, 0]
    return boxes_from_map(prob, fx, fy, image.size)


def boxes_from_map(prob: np.ndarray, fx: float = 1.0, fy: float = 1.0,
                   size: tuple[int, int] | None = None) -> list[Box]:
    """Text boxes in image pixels from the DB probability map."""
    mask = prob > THRESH
    labels, rows, starts, ends = _runs(mask)
    if not len(labels):
        return []
    n = int(labels.max()) + 1
    cum = np.concatenate([np.zeros((prob.shape[0], 1), np.float64), np.cumsum(prob, axis=1, dtype=np.float64)], 1)
    sums = np.bincount(labels, cum[rows, ends] - cum[rows, starts], n)
    areas = np.bincount(labels, (ends - starts).astype(np.float64), n)
    y0 = np.full(n, np.inf)
    np.minimum.at(y0, labels, rows)
    y1 = np.zeros(n)
    np.maximum.at(y1, labels, rows + 1)
    x0 = np.full(n, np.inf)
    np.minimum.at(x0, labels, starts)
    x1 = np.zeros(n)
    np.maximum.at(x1, labels, ends)
    width, height = size or (prob.shape[1] * fx, prob.shape[0] * fy)
    out = []
    for i in range(n):
        bw, bh = x1[i] - x0[i], y1[i] - y0[i]
        if min(bw, bh) < MIN_SIZE or areas[i] == 0:
            continue
        score = sums[i] / areas[i]
        if score < BOX_THRESH:
            continue
        d = bw * bh * UNCLIP / (2 * (bw + bh))
        out.append(Box(max(0.0, (x0[i] - d) * fx), max(0.0, (y0[i] - d) * fy),
                       min(width, (x1[i] + d) * fx), min(height, (y1[i] + d) * fy), float(score)))
    return out


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Connected regions (8-neighbour) of `mask` as runs: (label, row, start, end) per run.

    Runs of one row are joined with the overlapping runs of the row above by
    union-find; a page has a few thousand runs, so plain Python is quick enough.
    """
    h, w = mask.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    rows, starts = np.nonzero(d == 1)
    _, ends = np.nonzero(d == -1)
    count = len(rows)
    parent = list(range(count))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_first = np.searchsorted(rows, np.arange(h + 1))
    sl, el = starts.tolist(), ends.tolist()
    for r in range(1, h):
        a, a_end = int(row_first[r - 1]), int(row_first[r])
        b, b_end = a_end, int(row_first[r + 1])
        while a < a_end and b < b_end:
            if sl[a] <= el[b] and sl[b] <= el[a]:  # touching, diagonals included
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            if el[a] < el[b]:
                a += 1
            else:
                b += 1
    roots = np.fromiter((find(i) for i in range(count)), np.int64, count)
    _, labels = np.unique(roots, return_inverse=True)
    return labels, rows, starts, ends
