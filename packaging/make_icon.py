"""Draw Bunko's app icon: the character 文 in white on a rounded indigo square.

Run from the repository root (any platform, no display needed):
    python packaging/make_icon.py
writes resources/icons/bunko.png (256 px), bunko-512.png and bunko.ico (for Windows builds).
The font is whatever CJK font Qt finds; pass --font FILE to use a specific one
(the build scripts pass the IPAex Gothic font they fetch).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QImage, QPainter  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "icons"


def draw(size: int, family: str | None) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    margin = size * 0.04
    square = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#2f3e8f"))  # indigo (藍色)
    p.drawRoundedRect(square, size * 0.18, size * 0.18)
    p.setBrush(QColor("#c8553d"))  # a vermilion band along the bottom, like a book's spine label
    p.drawRect(QRectF(square.left() + size * 0.18, square.bottom() - size * 0.12, square.width() - size * 0.36, size * 0.04))
    font = QFont(family) if family else QFont()
    font.setPixelSize(int(size * 0.62))
    font.setWeight(QFont.Weight.Bold)
    p.setFont(font)
    p.setPen(QColor("white"))
    p.drawText(square.adjusted(0, -size * 0.05, 0, -size * 0.05), Qt.AlignmentFlag.AlignCenter, "文")
    p.end()
    return image


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", help="a .ttf/.otf with the character 文")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    app = QGuiApplication(sys.argv[:1])  # noqa: F841 (fonts need an application)
    family = None
    if args.font:
        font_id = QFontDatabase.addApplicationFont(args.font)
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        family = families[0] if families else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    draw(256, family).save(str(out / "bunko.png"))
    draw(512, family).save(str(out / "bunko-512.png"))
    ok = draw(256, family).save(str(out / "bunko.ico"))  # Qt's ico plugin; Windows builds use it
    print(f"wrote {out}/bunko.png, bunko-512.png{', bunko.ico' if ok else ' (no .ico: Qt has no ico writer here)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
