"""A small rounded label for a status: neutral, accent, success, warning, danger."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from .. import theme

TONES = ("neutral", "accent", "success", "warning", "danger")


class StatusBadge(QLabel):
    def __init__(self, text: str = "", tone: str = "neutral", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setObjectName("badge")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.set_tone(tone)

    def set_tone(self, tone: str) -> None:
        theme.set_role(self, tone if tone in TONES else "neutral", "tone")

    def tone(self) -> str:
        return self.property("tone") or "neutral"

    def show_status(self, text: str, tone: str) -> None:
        self.setText(text)
        self.set_tone(tone)
        self.setVisible(bool(text))
