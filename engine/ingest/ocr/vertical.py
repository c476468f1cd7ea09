"""Punctuation and long marks of vertical writing.

A 縦書き column is read turned a quarter (recognize.crop), and so read, the
model drops 、 and 。 (they sit at the top right of their cell) and often ー
(drawn as a vertical bar). A second reading of the same column with each
character cell set upright side by side, and those marks moved where
horizontal writing has them, finds them; its kanji are less reliable (a cut
between cells can split a character), so only the marks it adds are taken
into the first reading.
"""

from __future__ import annotations

import difflib

import numpy as np
from PIL import Image

from .detect import Box

MARKS = set("、。，．・ー「」『』（）！？")


def strip(image: Image.Image, box: Box) -> tuple[Image.Image, int] | None:
    """The column's character cells upright in one row and how many there are, or None
    when it has no ink."""
    col = image.crop((int(box.x0), int(box.y0), int(np.ceil(box.x1)), int(np.ceil(box.y1)))).convert("L")
    ink = np.asarray(col) < 128
    xs = np.nonzero(ink.any(axis=0))[0]
    rows = np.asarray(ink.any(axis=1))
    ys = np.nonzero(rows)[0]
    if len(xs) < 2 or not len(ys):
        return None
    pitch = xs[-1] - xs[0] + 1  # a CJK glyph is about as tall as the column is wide
    cells: list[tuple[int, int]] = []
    y, end = int(ys[0]), int(ys[-1]) + 1
    while y < end and len(cells) < 400:
        lo, hi = int(y + 0.6 * pitch), int(min(end, y + 1.25 * pitch))
        if lo >= end:
            cells.append((y, end))
            break
        cut = lo + int(np.argmin(ink[lo:hi].sum(axis=1))) if hi > lo else end
        cells.append((y, cut))
        after = np.nonzero(rows[cut:])[0]
        if not len(after):
            break
        y = cut + int(after[0])
    side = max(8, int(pitch * 1.15))
    out = Image.new("L", (side * len(cells) + side // 2, side + side // 4), 255)
    for i, (y0, y1) in enumerate(cells):
        cell = ink[y0:y1]
        cx, cy = np.nonzero(cell.any(axis=0))[0], np.nonzero(cell.any(axis=1))[0]
        if not len(cx):
            continue
        glyph = col.crop((int(cx[0]), y0 + int(cy[0]), int(cx[-1]) + 1, y0 + int(cy[-1]) + 1))
        gw, gh = glyph.size
        if gw < 0.45 * pitch and gh < 0.45 * pitch and cx[0] - xs[0] > 0.4 * pitch:
            px, py = side // 8, side - gh - side // 8  # 、。 go to the bottom left, as written across
        else:
            if gh > 2.2 * gw and gh > 0.6 * pitch:  # ー and other marks drawn upright
                glyph = glyph.transpose(Image.Transpose.ROTATE_90)
                gw, gh = glyph.size
            px, py = (side - gw) // 2, (side - gh) // 2
        out.paste(glyph, (i * side + side // 4 + max(0, px), side // 8 + max(0, py)))
    return out.convert("RGB"), len(cells)


def add_marks(base: str, other: str) -> str:
    """`base` with the punctuation and long marks that only `other` has, where it has them."""
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, base, other, autojunk=False).get_opcodes():
        extra, more = other[j1:j2], (j2 - j1) - (i2 - i1)
        if op == "insert" and all(ch in MARKS for ch in extra):
            out.append(base[i1:i2] + extra)
        elif op == "replace" and more > 0 and all(ch in MARKS for ch in extra[:more]):
            out.append(extra[:more] + base[i1:i2])  # a mark before a character read differently
        elif op == "replace" and more > 0 and all(ch in MARKS for ch in extra[-more:]):
            out.append(base[i1:i2] + extra[-more:])
        else:
            out.append(base[i1:i2])
    return "".join(out)
