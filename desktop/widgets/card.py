"""A rounded, bordered surface that groups what belongs together."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from ..theme import metrics as m


class Card(QFrame):
    def __init__(self, parent: QWidget | None = None, margins: int = m.L) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(margins, margins, margins, margins)
        self.body.setSpacing(m.S)
