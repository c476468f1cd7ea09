"""A page's title, one sentence under it, and room on the right for its main actions."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .. import theme
from ..theme import metrics as m


class PageHeader(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        theme.set_role(self.title, "title")
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        theme.set_role(self.subtitle, "muted")
        text = QVBoxLayout()
        text.setSpacing(m.XS)
        text.addWidget(self.title)
        text.addWidget(self.subtitle)
        self.actions = QHBoxLayout()
        self.actions.setSpacing(m.S)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, m.S)
        row.setSpacing(m.L)
        row.addLayout(text, 1)
        row.addLayout(self.actions)

    def set_texts(self, title: str, subtitle: str = "") -> None:
        self.title.setText(title)
        self.subtitle.setText(subtitle)
        self.subtitle.setVisible(bool(subtitle))

    def add_action(self, widget: QWidget) -> QWidget:
        self.actions.addWidget(widget)
        return widget
