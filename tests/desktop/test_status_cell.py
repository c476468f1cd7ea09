"""StatusDelegate: the same badge, slim bar and time left in any table or list, drawn in the palette."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyleOptionViewItem, QTableWidget, QTableWidgetItem

from desktop import theme
from desktop.widgets import BADGE_ROLE, DETAIL_ROLE, PROGRESS_ROLE, TONE_ROLE, StatusDelegate, tidy_table
from desktop.widgets.status_cell import BAR_WIDTH


@pytest.fixture(autouse=True)
def system_theme_after():
    yield
    theme.apply_theme("system")


def _colours(image, rect) -> set[str]:
    return {QColor(image.pixel(x, y)).name() for x in range(rect.left(), rect.right())
            for y in range(rect.top(), rect.bottom())}


def test_a_cell_draws_its_badge_bar_and_time_left_in_the_palette(qtbot):
    theme.apply_theme("light")
    p = theme.current()
    table = QTableWidget(2, 1)
    tidy_table(table)
    delegate = StatusDelegate(table)
    table.setItemDelegateForColumn(0, delegate)
    running = QTableWidgetItem("Indexing")
    for role, value in ((TONE_ROLE, "accent"), (PROGRESS_ROLE, 0.5), (DETAIL_ROLE, "1:35 left")):
        running.setData(role, value)
    failed = QTableWidgetItem("Failed")
    failed.setData(TONE_ROLE, "danger")
    table.setItem(0, 0, running)
    table.setItem(1, 0, failed)
    table.setColumnWidth(0, 320)
    table.resize(360, 140)
    qtbot.addWidget(table)
    table.show()
    qtbot.waitExposed(table)
    table.clearSelection()
    table.setCurrentCell(-1, -1)

    option = QStyleOptionViewItem()
    option.font = table.font()
    plain = table.fontMetrics().horizontalAdvance("Indexing")
    assert delegate.sizeHint(option, table.model().index(0, 0)).width() > plain + BAR_WIDTH
    assert table.rowHeight(0) >= delegate.sizeHint(option, table.model().index(0, 0)).height()

    image = table.viewport().grab().toImage()
    first, second = table.visualRect(table.model().index(0, 0)), table.visualRect(table.model().index(1, 0))
    top = _colours(image, first)
    assert p.accent_soft in top and p.accent in top and p.border in top     # badge, bar done, bar to go
    assert p.danger_soft in _colours(image, second) and p.accent not in _colours(image, second)
    accent_x = [x for x in range(first.left(), first.right()) if QColor(image.pixel(x, first.center().y())).name() == p.accent]
    assert BAR_WIDTH * 0.4 <= len(accent_x) <= BAR_WIDTH * 0.6                # half done: half the bar


def test_a_list_row_elides_its_name_before_the_badge(qtbot):
    theme.apply_theme("dark")
    listing = QListWidget()
    delegate = StatusDelegate(listing)
    listing.setItemDelegate(delegate)
    listing.setResizeMode(QListWidget.ResizeMode.Adjust)
    item = QListWidgetItem("3  a comparison run with a rather long name indeed")
    item.setData(BADGE_ROLE, "stopped")
    item.setData(TONE_ROLE, "warning")
    listing.addItem(item)
    listing.resize(220, 80)
    qtbot.addWidget(listing)
    listing.show()
    qtbot.waitExposed(listing)
    listing.clearSelection()
    index = listing.model().index(0, 0)
    option = QStyleOptionViewItem()
    option.font = listing.font()
    assert delegate.minimum_width(option, index) < listing.viewport().width()   # fits once the name is elided
    assert listing.visualRect(index).width() <= listing.viewport().width()     # no sideways scrolling
    image = listing.viewport().grab().toImage()
    assert theme.current().warning_soft in _colours(image, listing.visualRect(index))   # the badge is on screen
    assert listing.horizontalScrollBar().maximum() == 0
