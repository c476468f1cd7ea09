"""Reading order: the recognised lines of a page in the order a person reads them.

* Horizontal writing: top to bottom; where a gutter splits the page into
  columns, each column in turn (left to right) between full-width lines.
* Vertical writing (縦書き): columns right to left, tier by tier (段組) top to bottom.
* A ruled table (found from its long horizontal rules): row by row, the cells
  of a row on one line joined by " | ", so a label stays with its amount.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .recognize import Line

CELL = " | "


@dataclass(frozen=True)
class Block:
    """Lines read as one run of text; `table` blocks hold one line per row."""
    lines: list[Line]
    text: str
    table: bool = False


def rules(gray: np.ndarray) -> list[tuple[float, float, float]]:
    """Long horizontal rules of a page (y, x0, x1) in pixels, from the darkest rows."""
    h, w = gray.shape
    dark = gray < 128
    share = dark.mean(axis=1)
    found: list[tuple[float, float, float]] = []
    rows = np.nonzero(share > 0.35)[0]
    if not len(rows):
        return found
    groups = np.split(rows, np.nonzero(np.diff(rows) > 2)[0] + 1)
    for g in groups:
        if len(g) > max(6, h // 100):  # a thick block of ink is a picture, not a rule
            continue
        cols = np.nonzero(dark[g].any(axis=0))[0]
        found.append((float(g.mean()), float(cols.min()), float(cols.max())))
    return found


def order(lines: list[Line], gray: np.ndarray | None = None) -> list[Block]:
    lines = [ln for ln in lines if ln.text.strip()]
    if not lines:
        return []
    vertical = sum(len(ln.text) for ln in lines if ln.vertical)
    if vertical > sum(len(ln.text) for ln in lines) / 2:
        return _vertical(lines)
    rest, tables = lines, []
    table_rules = rules(gray) if gray is not None else []
    height = float(np.median([ln.box.h for ln in lines]))
    gaps = np.diff([r[0] for r in table_rules]) if len(table_rules) >= 3 else np.zeros(0)
    # A table's rules are a row apart; rules far apart divide sections of a page instead.
    if len(table_rules) >= 3 and max(gaps) < 3.5 * height:
        top, bottom = table_rules[0][0], table_rules[-1][0]
        x0 = min(r[1] for r in table_rules)
        x1 = max(r[2] for r in table_rules)
        inside = [ln for ln in lines if top <= ln.box.cy <= bottom and x0 - 5 <= ln.box.cx <= x1 + 5]
        if len(inside) >= 2:
            rest = [ln for ln in lines if ln not in inside]
            tables.append((top, _table(inside, [r[0] for r in table_rules])))
    return _horizontal(rest, tables)


def _table(lines: list[Line], rule_ys: list[float]) -> Block:
    rows: dict[int, list[Line]] = {}
    for ln in lines:
        rows.setdefault(int(np.searchsorted(rule_ys, ln.box.cy)), []).append(ln)
    ordered, texts = [], []
    for key in sorted(rows):
        cells = sorted(rows[key], key=lambda ln: ln.box.x0)
        ordered.extend(cells)
        texts.append(CELL.join(c.text.strip() for c in cells))
    return Block(ordered, "\n".join(texts), table=True)


def _horizontal(lines: list[Line], separators: list[tuple[float, Block]]) -> list[Block]:
    """Bands between full-width lines (and tables), each band's columns left to right."""
    if not lines:
        return [b for _, b in separators]
    height = float(np.median([ln.box.h for ln in lines]))
    left = min(ln.box.x0 for ln in lines)
    right = max(ln.box.x1 for ln in lines)
    narrow = [ln for ln in lines if ln.box.w < 0.6 * (right - left)]
    edges = [left - 1, *_gutters(narrow, left, right, 1.5 * height), right + 1]

    def column(ln: Line) -> int | None:
        for i in range(len(edges) - 1):
            if edges[i] <= ln.box.x0 and ln.box.x1 <= edges[i + 1]:
                return i
        return None  # crosses a gutter: a full-width heading

    seps = sorted([(ln.box.cy, _paragraphs([ln], height)) for ln in lines if column(ln) is None and len(edges) > 2]
                  + separators, key=lambda item: item[0])
    bounds = [-np.inf, *[y for y, _ in seps], np.inf]
    out: list[Block] = []
    for b in range(len(bounds) - 1):
        if b > 0:
            out.append(seps[b - 1][1])
        for c in range(len(edges) - 1):
            members = [ln for ln in lines if bounds[b] < ln.box.cy < bounds[b + 1]
                       and (column(ln) == c or (len(edges) == 2))]
            if members:
                out.append(_paragraphs(sorted(members, key=lambda ln: (ln.box.cy, ln.box.x0)), height))
    return out


def _gutters(lines: list[Line], left: float, right: float, min_gap: float) -> list[float]:
    """x positions of empty vertical strips that several lines on each side border."""
    if len(lines) < 4:
        return []
    span = int(right - left) + 2
    cover = np.zeros(span, np.int32)
    for ln in lines:
        cover[int(ln.box.x0 - left):int(ln.box.x1 - left) + 1] += 1
    empty = np.nonzero(cover == 0)[0]
    if not len(empty):
        return []
    out = []
    for run in np.split(empty, np.nonzero(np.diff(empty) > 1)[0] + 1):
        if len(run) < min_gap:
            continue
        x = left + float(run.mean())
        before = sum(1 for ln in lines if ln.box.x1 <= x)
        after = sum(1 for ln in lines if ln.box.x0 >= x)
        if before >= 2 and after >= 2:
            out.append(x)
    return out


def _paragraphs(lines: list[Line], height: float) -> Block:
    """Lines of one column joined: lines on one row side by side, rows by newlines."""
    rows: list[list[Line]] = []
    for ln in lines:
        if rows and abs(rows[-1][-1].box.cy - ln.box.cy) < 0.5 * height:
            rows[-1].append(ln)
        else:
            rows.append([ln])
    texts = [" ".join(c.text.strip() for c in sorted(row, key=lambda ln: ln.box.x0)) for row in rows]
    return Block([ln for row in rows for ln in sorted(row, key=lambda ln: ln.box.x0)], "\n".join(texts))


def _vertical(lines: list[Line]) -> list[Block]:
    """Tiers (lines whose vertical extents overlap) top to bottom, columns right to left."""
    tiers: list[list[Line]] = []
    for ln in sorted(lines, key=lambda ln: ln.box.y0):
        for tier in tiers:
            top = min(t.box.y0 for t in tier)
            bottom = max(t.box.y1 for t in tier)
            if ln.box.y0 < bottom and ln.box.y1 > top:
                tier.append(ln)
                break
        else:
            tiers.append([ln])
    blocks = []
    for tier in sorted(tiers, key=lambda t: min(ln.box.y0 for ln in t)):
        cols = sorted(tier, key=lambda ln: -ln.box.cx)
        blocks.append(Block(cols, "\n".join(ln.text.strip() for ln in cols)))
    return blocks
