"""The one way Bunko's tables look: rows (no cell grid), whole-row selection, alternate
row colours, no row numbers, headers over the start of their column, and rows tall enough for a status badge."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QTableView

from ..theme import metrics as m


def tidy_table(table: QTableView) -> None:
    table.setShowGrid(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    table.verticalHeader().setMinimumSectionSize(1)
    table.verticalHeader().setDefaultSectionSize(QFontMetrics(table.font()).height() + 2 * m.S + 2)
