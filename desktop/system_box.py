"""Settings → System: what `bunko doctor` prints, with Copy for a bug report and a button that
runs the llama.cpp check again."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout

from .common import while_alive
from .i18n import Retranslating


class SystemBox(Retranslating, QGroupBox):
    def __init__(self, ctx) -> None:
        super().__init__()
        self.ctx = ctx
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setMinimumHeight(180)
        self.copy = QPushButton()
        self.copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        self.probe = QPushButton()
        self.probe.clicked.connect(lambda: self.refresh(probe=True))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.probe)
        buttons.addWidget(self.copy)
        box = QVBoxLayout(self)
        box.addWidget(self.note)
        box.addWidget(self.text, 1)
        box.addLayout(buttons)
        self._loaded = False
        self.retranslate()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._loaded:   # asked once, when first seen: it may start a short check
            self._loaded = True
            self.refresh()

    def refresh(self, probe: bool = False) -> None:
        self.probe.setEnabled(False)
        self.text.setPlainText(self.tr("Checking this computer… (the llama.cpp check takes a few seconds)")
                               if probe else self.tr("Reading…"))
        self.ctx.runner.run(self.ctx.engine.doctor, probe=probe, key="doctor",
                            on_done=while_alive(self, "_show"), on_error=while_alive(self, "_failed"))

    def _show(self, report) -> None:
        self.text.setPlainText(report.text)
        self.probe.setEnabled(True)

    def _failed(self, exc: BaseException) -> None:
        self.text.setPlainText(self.tr("The system report could not be made: {reason}").format(reason=str(exc)))
        self.probe.setEnabled(True)

    def retranslate(self) -> None:
        self.setTitle(self.tr("System"))
        self.note.setText(self.tr(
            "How models run on this computer: CPU features, the llama.cpp build, and the result of its "
            "safety check. Nothing private is in it: paste it into a bug report."))
        self.copy.setText(self.tr("Copy"))
        self.probe.setText(self.tr("Run the check again"))
