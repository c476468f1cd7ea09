"""Wizard steps 2 and 4: the base model, and the training settings (a preset, the
advanced numbers, the job's name) with an estimate of memory and time."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from PySide6.QtCore import QRegularExpression, Qt, QTimer
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QRadioButton, QSpinBox, QToolButton, QVBoxLayout, QWidget, QWizard,
                               QWizardPage)

from .. import theme

import engine.api as api

from ..common import human_size, training_estimate, while_alive
from .training_view import ERROR, WARN
from ..i18n import Retranslating

NAME_RULE = r"[\w.\-]{1,64}"      # the engine's rule: the name also names the adapter
GIB = 1024 ** 3


class BaseStep(Retranslating, QWizardPage):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.combo = QComboBox()
        self.note = QLabel()
        self.note.setTextFormat(Qt.TextFormat.PlainText)   # server errors and document names: never markup
        self.note.setWordWrap(True)
        self.label = QLabel()
        self.label.setBuddy(self.combo)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.combo)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.combo.currentIndexChanged.connect(lambda *_: self.completeChanged.emit())
        self.retranslate()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Base model"))
        self.setSubTitle(self.tr("The model the adapter is trained for; in chat the adapter is used with it."))
        self.label.setText(self.tr("&Model:"))
        self.note.setText(self.tr("The trainer reads the model's GGUF file; quantized models are dequantized for "
                                  "training, so the training computer needs room for the full-precision weights."))

    def initializePage(self) -> None:
        if self.combo.count():
            return
        models = self.ctx.engine.models

        def read():
            try:
                models.default()          # the built-in model, registered on first use
            except api.BunkoError:
                pass
            return [m for m in models.list() if m.kind == "model"]

        self.ctx.runner.run(read, key="finetune:bases", on_done=while_alive(self, "_fill"),
                            on_error=while_alive(self, "_failed"))

    def _fill(self, models: list) -> None:
        self.combo.clear()
        for m in models:
            size = human_size(m.size)
            self.combo.addItem(f"{m.name} ({size})" if size else m.name, m.name)
        if not models:
            self.note.setText(self.tr("There is no model yet: add a GGUF model on the Models page first."))
        self.completeChanged.emit()

    def _failed(self, exc: BaseException) -> None:
        self.note.setText(str(exc))

    def base(self) -> str | None:
        return self.combo.currentData()

    def isComplete(self) -> bool:
        return self.base() is not None


class SettingsStep(Retranslating, QWizardPage):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.taken: set[str] = set()     # job, model and adapter names in use
        self._name_edited = False
        self._setting = False
        self.setCommitPage(True)

        self.presets = QButtonGroup(self)
        preset_row = QVBoxLayout()
        self.preset_buttons: dict[str, QRadioButton] = {}
        for name in api.PRESETS:
            button = QRadioButton()
            self.presets.addButton(button)
            self.preset_buttons[name] = button
            preset_row.addWidget(button)
        self.preset_buttons["quick"].setChecked(True)
        self.advanced_button = QToolButton()
        self.advanced_button.setCheckable(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.toggled.connect(self._toggle_advanced)
        self.rank = QSpinBox()
        self.rank.setRange(1, 512)
        self.alpha = QDoubleSpinBox()
        self.alpha.setRange(0.5, 4096)
        self.alpha.setDecimals(1)
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(6)
        self.learning_rate.setRange(0.000001, 0.1)
        self.learning_rate.setSingleStep(0.00005)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100)
        self.seq_len = QSpinBox()
        self.seq_len.setRange(32, 32768)
        self.seq_len.setSingleStep(64)
        self.batch = QSpinBox()
        self.batch.setRange(1, 512)
        self.max_steps = QSpinBox()
        self.max_steps.setRange(0, 1_000_000)
        self.save_every = QSpinBox()
        self.save_every.setRange(1, 1_000_000)
        self.load_4bit = QCheckBox()
        self.advanced = QWidget()
        self.form = QFormLayout(self.advanced)
        self.form.setContentsMargins(24, 0, 0, 0)
        self.fields = (self.rank, self.alpha, self.learning_rate, self.epochs, self.seq_len, self.batch,
                       self.max_steps, self.save_every, self.load_4bit)
        self.form_labels = [QLabel() for _ in self.fields]
        for label, field in zip(self.form_labels, self.fields):
            self.form.addRow(label, field)
            label.setBuddy(field)
        self.advanced.hide()
        self.name = QLineEdit()
        self.name.setValidator(QRegularExpressionValidator(QRegularExpression(
            NAME_RULE, QRegularExpression.PatternOption.UseUnicodePropertiesOption), self.name))
        self.name_label = QLabel()
        self.name_label.setBuddy(self.name)
        self.name_error = QLabel()
        theme.set_role(self.name_error, ERROR)
        self.estimate_label = QLabel()
        self.estimate_label.setTextFormat(Qt.TextFormat.PlainText)   # server errors and document names: never markup
        self.estimate_label.setWordWrap(True)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        theme.set_role(self.warning, WARN)

        name_row = QHBoxLayout()
        name_row.addWidget(self.name_label)
        name_row.addWidget(self.name, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(preset_row)
        layout.addWidget(self.advanced_button)
        layout.addWidget(self.advanced)
        layout.addLayout(name_row)
        layout.addWidget(self.name_error)
        layout.addWidget(self.estimate_label)
        layout.addWidget(self.warning)
        layout.addStretch(1)

        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.timeout.connect(self.estimate)
        self.presets.buttonToggled.connect(self._preset_changed)
        for field in self.fields:
            signal = field.toggled if isinstance(field, QCheckBox) else field.valueChanged
            signal.connect(self._field_changed)
        self.name.textEdited.connect(self._name_typed)
        self.name.textChanged.connect(self._check_name)
        self.show_settings(api.PRESETS["quick"])
        self.retranslate()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Training settings"))
        self.setSubTitle(self.tr("A preset suits most data; the advanced numbers are for people who know LoRA."))
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("&Start training"))
        words = {"quick": self.tr("&Quick: one pass over the data; a first try"),
                 "balanced": self.tr("&Balanced: three passes, a larger adapter"),
                 "thorough": self.tr("T&horough: five passes, the largest adapter; for larger data sets")}
        for name, button in self.preset_buttons.items():
            button.setText(words.get(name, name))
        self.advanced_button.setText(self.tr("&Advanced"))
        labels = (self.tr("LoRA rank:"), self.tr("LoRA alpha:"), self.tr("Learning rate:"), self.tr("Epochs:"),
                  self.tr("Sequence length (tokens):"), self.tr("Batch size:"), self.tr("Stop after steps:"),
                  self.tr("Checkpoint every (steps):"), self.tr("Load the base in 4-bit (GPU only):"))
        for label, text in zip(self.form_labels, labels):
            label.setText(text)
        self.max_steps.setSpecialValueText(self.tr("no limit (epochs decide)"))
        self.name_label.setText(self.tr("Job &name:"))
        self.name.setToolTip(self.tr("Letters, digits, '.', '-' and '_'; it also names the adapter."))
        self._check_name()

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    # -- settings ------------------------------------------------------------------------------
    def preset_name(self) -> str:
        return next((n for n, b in self.preset_buttons.items() if b.isChecked()), "quick")

    def show_settings(self, s) -> None:
        self._setting = True
        try:
            self.rank.setValue(s.rank)
            self.alpha.setValue(s.alpha)
            self.learning_rate.setValue(s.learning_rate)
            self.epochs.setValue(s.epochs)
            self.seq_len.setValue(s.seq_len)
            self.batch.setValue(s.batch)
            self.max_steps.setValue(s.max_steps)
            self.save_every.setValue(s.save_every)
            self.load_4bit.setChecked(s.load_4bit)
        finally:
            self._setting = False
        self._field_changed()

    def settings(self):
        """The engine TrainSettings the page shows."""
        return dataclasses.replace(
            api.PRESETS[self.preset_name()], rank=self.rank.value(), alpha=self.alpha.value(),
            learning_rate=round(self.learning_rate.value(), 6), epochs=self.epochs.value(),
            seq_len=self.seq_len.value(), batch=self.batch.value(), max_steps=self.max_steps.value(),
            save_every=self.save_every.value(), load_4bit=self.load_4bit.isChecked())

    def _preset_changed(self, button, checked: bool) -> None:
        if checked:
            self.show_settings(api.PRESETS[self.preset_name()])

    def _field_changed(self, *_args) -> None:
        if self._setting:
            return
        wizard = self.wizard()
        if wizard is not None:
            wizard.data_step.set_seq_len(self.seq_len.value())
        self._estimate_timer.start(200)

    # -- the name ----------------------------------------------------------------------------------
    def initializePage(self) -> None:
        wizard = self.wizard()
        base = wizard.base_step.base() or "model"
        if not self._name_edited:
            stem = re.sub(r"[^\w.\-]+", "-", base).strip("-") or "model"
            self.name.setText(f"{stem[:40]}-lora-{datetime.now():%Y%m%d-%H%M}")
        jobs, models = self.ctx.engine.jobs, self.ctx.engine.models
        self.ctx.runner.run(lambda: {j.name for j in jobs.list()} | {m.name for m in models.list()},
                            key="finetune:names", on_done=while_alive(self, "_set_taken"))
        self._field_changed()

    def _set_taken(self, names: set[str]) -> None:
        self.taken = names
        self._check_name()

    def _name_typed(self, _text: str) -> None:
        self._name_edited = True

    def job_name(self) -> str:
        return self.name.text().strip()

    def _check_name(self, *_args) -> None:
        name = self.job_name()
        if not re.fullmatch(NAME_RULE, name):
            text = self.tr("Give the job a name.") if not name else \
                self.tr("Use letters, digits, '.', '-' and '_' only (at most 64).")
        elif name in self.taken:
            text = self.tr("A job, model or adapter is called “{name}” already.").format(name=name)
        else:
            text = ""
        self.name_error.setText(text)
        self.name_error.setVisible(bool(text))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        name = self.job_name()
        return bool(re.fullmatch(NAME_RULE, name)) and name not in self.taken

    # -- the estimate -------------------------------------------------------------------------------
    def estimate(self) -> None:
        wizard = self.wizard()
        if wizard is None or wizard.base_step.base() is None:
            return
        train, _held = wizard.data_step.split()
        if not train:
            return
        report = wizard.host_step.report
        gpu = bool(report and report.gpus)
        self.ctx.runner.run(self.ctx.engine.jobs.estimate, wizard.base_step.base(), train, self.settings(), gpu,
                            key="finetune:estimate", on_done=while_alive(self, "_show_estimate", report),
                            on_error=while_alive(self, "_estimate_failed"))

    def _show_estimate(self, report, e) -> None:
        self.estimate_label.setText(self.tr("Estimate: {estimate}.").format(
            estimate=training_estimate(e.steps, e.memory_bytes, e.device, e.seconds)))
        warnings = []
        if report is not None and report.gpus:
            have = max(g.get("memory_mib", 0) for g in report.gpus) * 2 ** 20
            if e.memory_bytes > have:
                warnings.append(self.tr("That may not fit in the GPU's {n} GiB: choose 4-bit loading, a smaller "
                                        "batch or a shorter sequence length.").format(n=f"{have / GIB:.0f}"))
        long = self.wizard().data_step.model.longer_than(self.seq_len.value()) if self.wizard() else []
        if long:
            warnings.append(self.tr("{n} examples are longer than {seq} tokens; the ends of their answers would be "
                                    "cut.").format(n=len(long), seq=self.seq_len.value()))
        self.warning.setText("\n".join(warnings))
        self.warning.setVisible(bool(warnings))

    def _estimate_failed(self, exc: BaseException) -> None:
        self.estimate_label.setText(self.tr("No estimate: {error}").format(error=exc))

