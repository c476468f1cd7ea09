"""How models are loaded and how they write answers, saved as soon as they change."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.types import GenerationSettings, LoadSettings
from ..i18n import Retranslating



def _spin(low: int, high: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setGroupSeparatorShown(True)
    return box


def _double(low: float, high: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    return box


class ModelSettingsPanel(Retranslating, QWidget):
    reload_requested = Signal()
    changed = Signal()  # something was saved to ctx.settings

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        # An automatic setting (None) is the lowest value of its box, shown as "Auto":
        # -1 for GPU layers, where 0 means "CPU only"; 0 for context and threads.
        self.gpu_layers = _spin(-1, 999)
        self.context = _spin(0, 1_048_576, 1024)
        self.threads = _spin(0, 512)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.reload_button = QPushButton()
        self.reload_button.clicked.connect(self.reload_requested)
        self.temperature = _double(0.0, 2.0, 0.05)
        self.top_p = _double(0.0, 1.0, 0.01)
        self.top_k = _spin(0, 1000)
        self.min_p = _double(0.0, 1.0, 0.01)
        self.repeat_penalty = _double(0.5, 2.0, 0.05)
        self.max_tokens = _spin(16, 131_072, 64)
        self.defaults_button = QPushButton()
        self.defaults_button.clicked.connect(self.restore_defaults)

        self.loading_box = QGroupBox()
        form = QFormLayout(self.loading_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.labels: dict[QWidget, QLabel] = {}
        for box in (self.gpu_layers, self.context, self.threads):
            self.labels[box] = QLabel()
            form.addRow(self.labels[box], box)
        form.addRow(self.note)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.reload_button)
        form.addRow(row)
        self.answers_box = QGroupBox()
        form = QFormLayout(self.answers_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        for box in (self.temperature, self.top_p, self.top_k, self.min_p, self.repeat_penalty, self.max_tokens):
            self.labels[box] = QLabel()
            form.addRow(self.labels[box], box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.loading_box)
        layout.addWidget(self.answers_box)
        layout.addWidget(self.defaults_button)
        layout.addStretch(1)

        self.retranslate()
        self.load()
        for box in (self.gpu_layers, self.context, self.threads):
            box.valueChanged.connect(self._save_loading)
        for box in (self.temperature, self.top_p, self.top_k, self.min_p, self.repeat_penalty, self.max_tokens):
            box.valueChanged.connect(self._save_generation)

    def retranslate(self) -> None:
        self.loading_box.setTitle(self.tr("Loading"))
        self.answers_box.setTitle(self.tr("Answers"))
        texts = {
            self.gpu_layers: (self.tr("GPU layers:"), self.tr(
                "How many layers run on the graphics card. Auto puts as many as fit; 0 keeps the whole model "
                "on the CPU.")),
            self.context: (self.tr("Context size:"), self.tr(
                "How much text the model sees at once: question, sources and answer. Auto uses the model's "
                "own size, at most 8,192 tokens.")),
            self.threads: (self.tr("Threads:"), self.tr("CPU threads. Auto uses one per physical core.")),
            self.temperature: (self.tr("Temperature:"), self.tr(
                "0 always picks the likeliest word; higher values vary more.")),
            self.top_p: (self.tr("Top-p:"), self.tr("Choose only among the likeliest words that together "
                                                     "reach this probability.")),
            self.top_k: (self.tr("Top-k:"), self.tr("Choose only among this many likeliest words; 0 turns "
                                                     "this filter off.")),
            self.min_p: (self.tr("Min-p:"), self.tr("Leave out words less likely than this share of the "
                                                     "likeliest one.")),
            self.repeat_penalty: (self.tr("Repeat penalty:"), self.tr(
                "Above 1 makes the model repeat itself less; 1 turns it off.")),
            self.max_tokens: (self.tr("Longest answer:"), self.tr("The longest answer, in tokens.")),
        }
        for box, (label, tip) in texts.items():
            self.labels[box].setText(label)
            box.setToolTip(tip)
        for box in (self.gpu_layers, self.context, self.threads):
            box.setSpecialValueText(self.tr("Auto"))
        self.context.setSuffix(self.tr(" tokens"))
        self.note.setText(self.tr("These apply the next time a model is loaded."))
        self.reload_button.setText(self.tr("Reload model"))
        self.reload_button.setToolTip(self.tr("Load the current model again with these settings."))
        self.defaults_button.setText(self.tr("Restore defaults"))

    # -- reading and writing ctx.settings ---------------------------------------------
    def load(self) -> None:
        """Show what ctx.settings holds (without saving it back)."""
        self._show(self.ctx.settings.loading(), self.ctx.settings.generation())

    def _show(self, s: LoadSettings, g: GenerationSettings) -> None:
        boxes = (self.gpu_layers, self.context, self.threads, self.temperature, self.top_p, self.top_k,
                 self.min_p, self.repeat_penalty, self.max_tokens)
        values = (s.n_gpu_layers, s.n_ctx, s.n_threads, g.temperature, g.top_p, g.top_k, g.min_p,
                  g.repeat_penalty, g.max_tokens)
        for box, value in zip(boxes, values):
            box.blockSignals(True)
            box.setValue(box.minimum() if value is None else value)
            box.blockSignals(False)

    def loading_settings(self) -> LoadSettings:
        def auto(box: QSpinBox) -> int | None:
            return None if box.value() == box.minimum() else box.value()

        return dataclasses.replace(self.ctx.settings.loading(), n_gpu_layers=auto(self.gpu_layers),
                                   n_ctx=auto(self.context), n_threads=auto(self.threads))

    def generation_settings(self) -> GenerationSettings:
        return dataclasses.replace(
            self.ctx.settings.generation(), temperature=round(self.temperature.value(), 4),
            top_p=round(self.top_p.value(), 4), top_k=self.top_k.value(), min_p=round(self.min_p.value(), 4),
            repeat_penalty=round(self.repeat_penalty.value(), 4), max_tokens=self.max_tokens.value())

    def _save_loading(self) -> None:
        self.ctx.settings.set_loading(self.loading_settings())
        self.changed.emit()

    def _save_generation(self) -> None:
        self.ctx.settings.set_generation(self.generation_settings())
        self.changed.emit()

    def restore_defaults(self) -> None:
        self._show(LoadSettings(), GenerationSettings())
        self._save_loading()
        self._save_generation()
