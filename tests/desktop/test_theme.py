"""The theme's stylesheet, drawn for real: focus rings where they belong."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QListWidget, QWidget


def _near(a: QColor, b: QColor) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < 40


def test_the_navigation_rings_its_current_row_only_while_it_has_focus(qtbot) -> None:
    from desktop import theme

    palette = theme.apply_theme("light")
    ring = QColor(palette.focus)
    box = QWidget()
    row = QHBoxLayout(box)
    nav = QListWidget()
    nav.setObjectName("navigation")
    nav.addItems(["Chat", "Libraries", "Models"])
    nav.setCurrentRow(0)
    other = QLineEdit()
    row.addWidget(nav)
    row.addWidget(other)
    qtbot.addWidget(box)
    box.resize(400, 220)
    box.show()
    qtbot.waitExposed(box)

    def pixels():
        image = nav.grab().toImage()
        edge = image.pixelColor(1, image.height() - 8)        # the list's own frame, below the rows
        first = nav.visualItemRect(nav.item(0))
        row_edge = image.pixelColor(first.left() + 1, first.center().y())
        return edge, row_edge

    other.setFocus()
    qtbot.waitUntil(other.hasFocus)
    edge, row_edge = pixels()
    assert not _near(edge, ring) and not _near(row_edge, ring)   # no ring anywhere without focus
    nav.setFocus()
    qtbot.waitUntil(nav.hasFocus)
    edge, row_edge = pixels()
    assert not _near(edge, ring), "the focus ring went round the whole list"
    assert _near(row_edge, ring), "the current row shows no focus ring"


def test_latin_text_keeps_the_system_font_with_japanese_as_fallback(qtbot) -> None:
    """The system font's alias ("Sans Serif") listed first fell through to the first Japanese
    family, so English was set in IPAGothic's fixed-width Latin letters."""
    from PySide6.QtGui import QFont, QFontInfo

    from desktop.theme import metrics

    system = QFont("Sans Serif")
    font = metrics.base_font(system)
    assert QFontInfo(font).family() == QFontInfo(system).family()
    assert font.families()[0] == QFontInfo(system).family()
