"""Settings: language and theme (applied at once), and where Bunko keeps its files."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QVBoxLayout, QWidget)

from engine.api import BACKGROUND_MODES, data_dir, log_dir

from .i18n import apply_language
from .theme import THEMES, apply_theme  # noqa: F401 (apply_theme: kept importable from here)
from .i18n import Retranslating
from .system_box import SystemBox

log = logging.getLogger(__name__)


def _open_folder(path) -> None:
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        log.warning("could not open %s", path)


class SettingsPage(Retranslating, QWidget):
    def __init__(self, ctx) -> None:
        super().__init__()
        self.ctx = ctx
        self.language = QComboBox()
        for code in ("system", "ja", "en"):
            self.language.addItem("", code)
        self.theme = QComboBox()
        for code in THEMES:
            self.theme.addItem("", code)
        self.language.setCurrentIndex(max(0, self.language.findData(ctx.settings.language)))
        self.theme.setCurrentIndex(max(0, self.theme.findData(ctx.settings.get("ui/theme", "system", str))))
        self.language.currentIndexChanged.connect(self._on_language)
        self.theme.currentIndexChanged.connect(self._on_theme)

        self.appearance = QGroupBox()
        form = QFormLayout(self.appearance)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.language_label, self.theme_label = QLabel(), QLabel()
        form.addRow(self.language_label, self.language)
        form.addRow(self.theme_label, self.theme)
        self.language_note = QLabel()
        self.language_note.setWordWrap(True)
        form.addRow(self.language_note)

        # While an answer is written, background work (indexing) yields the CPU.
        self.cpu = QGroupBox()
        cpu = QFormLayout(self.cpu)
        cpu.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.background = QComboBox()
        for code in BACKGROUND_MODES:
            self.background.addItem("", code)
        self.background.setCurrentIndex(max(0, self.background.findData(ctx.settings.background)))
        self.background.currentIndexChanged.connect(self._on_background)
        self.background_label = QLabel()
        cpu.addRow(self.background_label, self.background)
        self.background_note = QLabel()
        self.background_note.setWordWrap(True)
        cpu.addRow(self.background_note)
        self.embedding_label, self.embedding = QLabel(), QLabel()
        self.embedding.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        cpu.addRow(self.embedding_label, self.embedding)

        self.files = QGroupBox()
        files = QFormLayout(self.files)
        self.data_label, self.log_label = QLabel(), QLabel()
        self.open_data, self.open_logs = QPushButton(), QPushButton()
        self.open_data.clicked.connect(lambda: _open_folder(data_dir()))
        self.open_logs.clicked.connect(lambda: _open_folder(log_dir()))
        files.addRow(self.data_label, self._path_row(data_dir(), self.open_data))
        files.addRow(self.log_label, self._path_row(log_dir() / "bunko.log", self.open_logs))

        for each in (form, cpu, files):   # labels on the middle line of their field, not above it
            each.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.appearance)
        layout.addWidget(self.cpu)
        layout.addWidget(self.files)
        self.system = SystemBox(ctx)
        layout.addWidget(self.system, 1)
        self.retranslate()

    @staticmethod
    def _path_row(path, button: QPushButton) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        label = QLabel(str(path))
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setWordWrap(True)
        box.addWidget(label, 1)
        box.addWidget(button)
        return row

    def _on_language(self) -> None:
        code = self.language.currentData()
        self.ctx.settings.set("ui/language", code)
        apply_language(code)  # every widget gets QEvent.LanguageChange

    def _on_background(self) -> None:
        self.ctx.settings.background = self.background.currentData()

    def _on_theme(self) -> None:
        code = self.theme.currentData()
        self.ctx.settings.set("ui/theme", code)
        apply_theme(code)

    def _embedding_text(self) -> str:
        """Where the embedder runs (or would run, before its first use) and on which graph."""
        try:
            info = self.ctx.engine.searcher.report()
        except Exception as exc:  # noqa: BLE001 - a settings page must open whatever the engine says
            log.warning("no embedder report: %s", exc)
            return self.tr("unknown")
        emb = info.get("embedder")
        gpu = "CUDAExecutionProvider" in info.get("available_providers", [])
        if emb:
            where = self.tr("GPU (CUDA)") if emb["device"] == "cuda" else self.tr("CPU, {n} threads").format(
                n=emb["threads"])
            graph = self.tr("fast graph") if emb["graph"] == "fast" else self.tr("exact graph")
            return f"{emb['model']}: {graph}, {where}"
        if gpu and info.get("wanted_device") != "cpu":
            return self.tr("GPU (CUDA), chosen when the model is first used")
        return self.tr("CPU, chosen when the model is first used (no CUDA in this onnxruntime)")

    def retranslate(self) -> None:
        self.appearance.setTitle(self.tr("Appearance"))
        self.language_label.setText(self.tr("Language"))
        self.theme_label.setText(self.tr("Theme"))
        # Language names stay in their own language, so anyone can find theirs.
        for i, name in enumerate((self.tr("System"), "日本語", "English")):
            self.language.setItemText(i, name)
        for i, name in enumerate((self.tr("System"), self.tr("Light"), self.tr("Dark"))):
            self.theme.setItemText(i, name)
        self.language_note.setText(self.tr("Some texts change language only after Bunko restarts."))
        self.cpu.setTitle(self.tr("Processor"))
        self.background_label.setText(self.tr("Indexing while an answer is written"))
        for i, name in enumerate((self.tr("Pauses (answers stay fast)"), self.tr("Slows down"),
                                  self.tr("Runs at full speed"))):
            self.background.setItemText(i, name)
        self.background_note.setText(self.tr(
            "On a computer with few cores, indexing and the chat model compete for them. "
            "Indexing goes back to full speed as soon as the answer is done."))
        self.embedding_label.setText(self.tr("Embedding"))
        self.embedding.setText(self._embedding_text())
        self.files.setTitle(self.tr("Files"))
        self.data_label.setText(self.tr("Data folder"))
        self.log_label.setText(self.tr("Log file"))
        self.open_data.setText(self.tr("Open"))
        self.open_logs.setText(self.tr("Open folder"))
