"""The wizard's table of training examples: the question, the answer and a token count per
example, with the question and the answer editable in place."""

from __future__ import annotations

import copy

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from engine.api import example_tokens


def _last(messages: list[dict], role: str) -> int | None:
    return next((i for i in range(len(messages) - 1, -1, -1) if messages[i]["role"] == role), None)


class ExamplesModel(QAbstractTableModel):
    QUESTION, ANSWER, TOKENS = range(3)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.examples: list[dict] = []     # {"messages": [...]} plus the engine's "_line" and our "_source"

    def add(self, examples: list[dict], source: str) -> None:
        if not examples:
            return
        start = len(self.examples)
        self.beginInsertRows(QModelIndex(), start, start + len(examples) - 1)
        for e in examples:
            own = copy.deepcopy(e)
            own["_source"] = source
            self.examples.append(own)
        self.endInsertRows()

    def remove_rows(self, rows) -> None:
        for row in sorted(set(rows), reverse=True):
            if 0 <= row < len(self.examples):
                self.beginRemoveRows(QModelIndex(), row, row)
                del self.examples[row]
                self.endRemoveRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.examples = []
        self.endResetModel()

    def longer_than(self, tokens: int) -> list[int]:
        """Rows whose text is (roughly) longer than `tokens`."""
        return [row for row, e in enumerate(self.examples) if example_tokens(e) > tokens]

    # -- QAbstractTableModel ----------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.examples)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else 3

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        return (self.tr("Question"), self.tr("Answer"), self.tr("Tokens (approx.)"))[section]

    def flags(self, index):
        base = super().flags(index)
        if index.isValid() and index.column() in (self.QUESTION, self.ANSWER):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.examples):
            return None
        example = self.examples[index.row()]
        messages = example["messages"]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, Qt.ItemDataRole.ToolTipRole):
            if column == self.TOKENS:
                return example_tokens(example) if role != Qt.ItemDataRole.ToolTipRole else None
            at = _last(messages, "user" if column == self.QUESTION else "assistant")
            text = messages[at]["content"] if at is not None else ""
            if role == Qt.ItemDataRole.DisplayRole:
                return " ".join(text.split())[:300]
            return text
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.TOKENS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() == self.TOKENS:
            return False
        text = str(value).strip()
        if not text:
            return False   # an empty turn would make the example invalid: delete the row instead
        messages = self.examples[index.row()]["messages"]
        at = _last(messages, "user" if index.column() == self.QUESTION else "assistant")
        if at is None:
            return False
        messages[at]["content"] = text
        self.dataChanged.emit(index, self.index(index.row(), self.TOKENS))
        return True
