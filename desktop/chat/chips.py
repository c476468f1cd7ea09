"""What a citation chip under an answer says, and its hover preview."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics

from engine.types import Source

CHIP_NAME_PX = 190          # widest the file name may be in a chip; longer ones lose their middle
CHIP_WHERE_PX = 210         # the same for the heading and lines; the preview has both whole
PREVIEW_CHARS = 320         # how much of the passage the hover preview shows


def _elide_chars(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def chip_text(source: Source, metrics: QFontMetrics | None = None) -> str:
    """"[1] file.md · p.3" or "[1] file.md · 第3条": the file and where in it, each part
    elided in its middle (by `metrics`, else by characters) so that both keep their start."""
    name = Path(source.path).name
    where = source.location or (f"p.{source.page}" if source.page is not None else "")
    if metrics is not None:
        mid = Qt.TextElideMode.ElideMiddle
        name, where = metrics.elidedText(name, mid, CHIP_NAME_PX), metrics.elidedText(where, mid, CHIP_WHERE_PX)
    else:
        name, where = _elide_chars(name, 28), _elide_chars(where, 28)
    return f"[{source.number}] {name} · {where}" if where else f"[{source.number}] {name}"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chip_preview(source: Source) -> str:
    """The hover preview of a chip: file, library and location, and the start of the passage."""
    passage = " ".join(source.text.split())
    if len(passage) > PREVIEW_CHARS:
        passage = passage[:PREVIEW_CHARS - 1] + "…"
    where = f" · {_html(source.location)}" if source.location else ""
    return (f"<p style='white-space:pre'><b>{_html(source.path)}</b>{where}<br>"
            f"<span>{_html(source.library)}</span></p><p>{_html(passage)}</p>")
