"""Text recognition: PP-OCRv5's CTC model on one line image at a time (in batches).

A line is scaled to 48 pixels high. A vertical line (a 縦書き column) is
turned a quarter to the left, so its top comes first, as PP-OCR was trained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .detect import Box
from .models import charset

HEIGHT = 48
MAX_WIDTH = 48 * 40  # a longer line is squeezed: its characters still fit in the time steps
BATCH = 8
# The blank's probability is weighed down before the best class is taken: on noisy scans
# the model's blank wins narrowly over simple characters (日, 二, ー, ム), which were dropped.
BLANK_WEIGHT = 0.15


@dataclass(frozen=True)
class Line:
    box: Box
    text: str
    score: float  # mean probability of the characters read
    vertical: bool


def crop(image: Image.Image, box: Box, vertical: bool, flip: bool = False) -> Image.Image:
    piece = image.crop((int(box.x0), int(box.y0), int(math.ceil(box.x1)), int(math.ceil(box.y1))))
    if vertical:
        piece = piece.transpose(Image.Transpose.ROTATE_90)
    if flip:
        piece = piece.transpose(Image.Transpose.ROTATE_180)
    return piece


def _tensor(piece: Image.Image, width: int) -> np.ndarray:
    w, h = piece.size
    rw = max(1, min(width, int(math.ceil(HEIGHT * w / max(h, 1)))))
    resized = piece.resize((rw, HEIGHT), Image.Resampling.BILINEAR)
    x = np.zeros((3, HEIGHT, width), np.float32)
    x[:, :, :rw] = (np.asarray(resized, np.float32)[:, :, ::-1].transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    return x


def recognize(session, pieces: list[Image.Image]) -> list[tuple[str, float]]:
    """(text, confidence) for each line image."""
    if not pieces:
        return []
    chars = charset()
    ratios = [p.size[0] / max(p.size[1], 1) for p in pieces]
    order = np.argsort(ratios)
    out: list[tuple[str, float]] = [("", 0.0)] * len(pieces)
    name = session.get_inputs()[0].name
    for start in range(0, len(order), BATCH):
        idx = order[start:start + BATCH]
        width = min(MAX_WIDTH, max(HEIGHT, int(math.ceil(HEIGHT * max(ratios[i] for i in idx)))))
        x = np.stack([_tensor(pieces[i], width) for i in idx])
        probs = session.run(None, {name: x})[0]
        for i, p in zip(idx, probs):
            out[i] = decode(p, chars)
    return out


def decode(probs: np.ndarray, chars: list[str], blank_weight: float | None = None) -> tuple[str, float]:
    weighted = probs.copy()
    weighted[:, 0] *= BLANK_WEIGHT if blank_weight is None else blank_weight
    best = weighted.argmax(axis=1)
    conf = probs[np.arange(len(best)), best]
    keep = best != 0
    keep[1:] &= best[1:] != best[:-1]
    picked = best[keep]
    if not len(picked):
        return "", 0.0
    text = "".join(chars[i] if i < len(chars) else "" for i in picked)
    return text, float(conf[keep].mean())
