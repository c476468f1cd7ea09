"""What a page shows when it has nothing yet: an icon, a title, one sentence saying what
to do next, and the one button that does it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from .. import theme
from ..theme import icons
from ..theme import metrics as m

ICON_PX = 32


class EmptyState(QWidget):
    action = Signal()

    def __init__(self, icon: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        self._icon_name = icon
        self.icon = QLabel()
        self.icon.setObjectName("emptyIcon")
        self.icon.setFixedSize(56, 56)
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel()
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        theme.set_role(self.title, "subtitle")
        self.text = QLabel()
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setWordWrap(True)
        theme.set_role(self.text, "muted")
        self.button = QPushButton()
        self.button.setProperty("kind", "primary")
        self.button.clicked.connect(self.action)
        self.button.hide()

        column = QVBoxLayout(self)
        column.setContentsMargins(m.XL, m.XL, m.XL, m.XL)
        column.setSpacing(m.M)
        column.addStretch(1)
        column.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignHCenter)
        texts = QVBoxLayout()           # the title and sentence: as wide as the page, up to a readable column
        texts.setSpacing(m.M)
        for label in (self.title, self.text):
            label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            texts.addWidget(label)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addLayout(texts, 1000)
        centred.addStretch(1)
        column.addLayout(centred)
        column.addSpacing(m.XS)
        column.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addStretch(2)
        self.setMaximumWidth(16777215)
        self._paint_icon()
        theme.notifier().changed.connect(self._paint_icon)

    def _paint_icon(self, *_args) -> None:
        if not self._icon_name:
            self.icon.hide()
            return
        ratio = self.devicePixelRatioF() or 1.0
        pix: QPixmap = icons.pixmap(self._icon_name, theme.current().accent_fg, round(ICON_PX * ratio))
        pix.setDevicePixelRatio(ratio)
        self.icon.setPixmap(pix)

    def _fit_column(self) -> None:
        """A readable column: the sentence wraps at about 76 characters (some 38 in Japanese)
        instead of running across a wide page in one long line."""
        width = max(320, self.text.fontMetrics().averageCharWidth() * 76)
        for label in (self.title, self.text):
            label.setMaximumWidth(width)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_column()

    def set_texts(self, title: str, text: str, action: str = "") -> None:
        self.title.setText(title)
        self.text.setText(text)
        self._fit_column()
        self.button.setText(action)
        self.button.setVisible(bool(action))

    def sizeHint(self):
        hint = super().sizeHint()
        # a readable column: the sentence wraps instead of running across a wide page
        hint.setWidth(min(hint.width(), self.fontMetrics().averageCharWidth() * 60))
        return hint
