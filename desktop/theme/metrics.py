"""Spacing, radii and the type scale: the rhythm every page shares.

Sizes are in device-independent pixels (Qt scales them at 125–200 %), type sizes are
factors of the system's own font size, so a person's chosen size is respected.
"""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase, QFontInfo

# spacing steps: XS, S, M, L, XL, XXL
XS, S, M, L, XL, XXL = 4, 8, 12, 16, 24, 32
RADIUS_S, RADIUS_M, RADIUS_L = 6, 8, 12

# type scale, as a factor of the base size
CAPTION, BODY, SUBTITLE, TITLE, DISPLAY = 0.88, 1.0, 1.12, 1.4, 1.75

# Readable answers: at most about this many average characters per line.
LINE_CHARS = 86

# Japanese families, best first: the one Bunko ships (IPAex Gothic), then the usual system ones.
JAPANESE_FAMILIES = ("IPAexGothic", "IPAexゴシック", "Noto Sans CJK JP", "Noto Sans JP", "Yu Gothic UI",
                     "Meiryo UI", "Meiryo", "Hiragino Sans", "IPAPGothic", "TakaoPGothic", "IPAGothic")


def base_font(system: QFont) -> QFont:
    """The system font, with Japanese families as fallbacks so kana and kanji come from one
    well-made font instead of whatever the platform picks per character."""
    font = QFont(system)
    known = set(QFontDatabase.families())
    # The system font may be named by an alias ("Sans Serif" on Linux): listed first in a family
    # list it fell through to the first Japanese family, whose fixed-width Latin letters then set
    # every English word. Name the family the alias resolves to.
    first = QFontInfo(system).family() or system.family()
    fallbacks = [f for f in JAPANESE_FAMILIES if f in known]
    families = [first] + [f for f in fallbacks if f != first]
    font.setFamilies(families)
    return font


def point_size(base: QFont, factor: float) -> float:
    size = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
    return round(size * factor, 1)
