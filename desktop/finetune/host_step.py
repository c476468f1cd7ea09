"""Wizard step 3: where the training runs, this computer or a GPU server over SSH, and
Test connection, which must pass before the wizard goes on."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QRadioButton, QSpinBox, QVBoxLayout, QWidget, QWizardPage)

from .. import theme

import engine.api as api

from ..common import while_alive
from .host_dialogs import ask_to_retry, error_text
from .jobs_model import host_text
from .ssh_config import ssh_hosts
from ..i18n import Retranslating

GIB = 1024 ** 3


class HostStep(Retranslating, QWizardPage):
    def __init__(self, ctx, secrets, host_defaults: dict | None = None, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.secrets = secrets                  # SessionSecrets shared with the followers
        self.host_defaults = dict(host_defaults or {})
        self.report = None                      # engine HostReport of the last successful test
        self._passed = None                     # the HostSpec that test was for
        self._testing = False

        self.local = QRadioButton()
        self.ssh = QRadioButton()
        self.kind = QButtonGroup(self)
        self.kind.addButton(self.local)
        self.kind.addButton(self.ssh)
        self.local.setChecked(True)
        self.alias = QComboBox()
        self.alias.setEditable(True)
        self.alias.addItems([""] + ssh_hosts())
        self.hostname = QLineEdit()
        self.user = QLineEdit()
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.key_file = QLineEdit()
        self.browse = QPushButton()
        self.browse.clicked.connect(self.choose_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_file, 1)
        key_row.addWidget(self.browse)
        self.ssh_fields = QWidget()
        self.form = QFormLayout(self.ssh_fields)
        self.form.setContentsMargins(24, 0, 0, 0)
        self.form_labels = [QLabel() for _ in range(5)]
        for label, field in zip(self.form_labels, (self.alias, self.hostname, self.user, self.port, key_row)):
            self.form.addRow(label, field)
            if isinstance(field, QWidget):
                label.setBuddy(field)
        self.form_labels[4].setBuddy(self.key_file)
        self.test_button = QPushButton()
        self.test_button.clicked.connect(self.test)
        self.report_label = QLabel()
        self.report_label.setWordWrap(True)
        self.report_label.setTextFormat(Qt.TextFormat.RichText)
        self.report_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.local)
        layout.addWidget(self.ssh)
        layout.addWidget(self.ssh_fields)
        layout.addLayout(test_row)
        layout.addWidget(self.report_label, 1)

        self.kind.buttonToggled.connect(self._kind_changed)
        for field in (self.hostname, self.user, self.key_file):
            field.textChanged.connect(self._changed)
        self.alias.currentTextChanged.connect(self._changed)
        self.port.valueChanged.connect(self._changed)
        self.retranslate()
        self._kind_changed()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Where to train"))
        self.setSubTitle(self.tr("Training needs a GPU for anything but the smallest models. Your data goes only "
                                 "to the computer chosen here."))
        self.local.setText(self.tr("&This computer"))
        self.ssh.setText(self.tr("&GPU server over SSH"))
        labels = (self.tr("Host from ~/.ssh/config:"), self.tr("or host name:"), self.tr("User:"), self.tr("Port:"),
                  self.tr("Key file:"))
        for label, text in zip(self.form_labels, labels):
            label.setText(text)
        self.port.setSpecialValueText(self.tr("default (22)"))
        self.browse.setText(self.tr("Browse…"))
        self.test_button.setText(self.tr("Test &connection"))
        if self.report is not None:
            self._show_report(self.report)

    def choose_key(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose the private key"), str(Path.home() / ".ssh"))
        if path:
            self.key_file.setText(path)

    # -- the host ---------------------------------------------------------------------------
    def spec(self):
        """The HostSpec the fields describe (host_defaults fill in the rest, for tests)."""
        if self.local.isChecked():
            return api.HostSpec(**{**self.host_defaults, "kind": "local"})
        fields = {"kind": "ssh", "alias": self.alias.currentText().strip() or None,
                  "hostname": self.hostname.text().strip() or None, "user": self.user.text().strip() or None,
                  "port": self.port.value() or None, "key_file": self.key_file.text().strip() or None}
        return api.HostSpec(**{**self.host_defaults, **fields})

    def _kind_changed(self, *_args) -> None:
        self.ssh_fields.setEnabled(self.ssh.isChecked())
        self._changed()
        if self.local.isChecked() and self.isVisible():
            self.test()

    def _changed(self, *_args) -> None:
        if self._passed is not None and self._passed != self.spec():
            self._passed = None
            self.report_label.clear()
        self.completeChanged.emit()

    def initializePage(self) -> None:
        if self.local.isChecked() and self._passed is None:
            self.test()

    def isComplete(self) -> bool:
        return not self._testing and self._passed is not None and self._passed == self.spec()

    # -- Test connection ------------------------------------------------------------------------
    def test(self) -> None:
        spec = self.spec()
        if spec.kind == "ssh" and not (spec.alias or spec.hostname):
            self._show_error(self.tr("Choose a host from ~/.ssh/config or type a host name."))
            return
        self._testing = True
        self.test_button.setEnabled(False)
        self.report_label.setText(self.tr("Connecting to {host}…").format(host=self._label(spec)))
        self.completeChanged.emit()
        self.ctx.runner.run(api.probe_host, spec, self.secrets.get(spec), key="finetune:probe",
                            on_done=while_alive(self, "_tested", spec),
                            on_error=while_alive(self, "_test_failed", spec))

    def _tested(self, spec, report) -> None:
        self._testing = False
        self.test_button.setEnabled(True)
        self.report = report
        self._passed = spec if report.ok and spec == self.spec() else None
        self._show_report(report)
        self.completeChanged.emit()

    def _test_failed(self, spec, exc: BaseException) -> None:
        self._testing = False
        self.test_button.setEnabled(True)
        self.completeChanged.emit()
        if ask_to_retry(self, exc, spec, self.secrets):
            self.test()
            return
        self._show_error(error_text(exc) if isinstance(exc, api.BunkoError) else f"{type(exc).__name__}: {exc}")

    def _show_error(self, text: str) -> None:
        self.report_label.setText(f"<p style='color:{theme.current().danger}'>{_html(text)}</p>")

    def _label(self, spec) -> str:
        return host_text(spec.label)

    def _show_report(self, r) -> None:
        lines = [self.tr("<b>{host}</b>: {system}").format(host=_html(host_text(r.label)), system=_html(r.system))]
        lines.append(self.tr("Python: {version}").format(version=_html(r.python or self.tr("not found"))))
        if r.gpus:
            for gpu in r.gpus:
                lines.append(self.tr("GPU: {name}, {memory} GiB ({free} GiB free)").format(
                    name=_html(gpu.get("name", "")), memory=f"{gpu.get('memory_mib', 0) / 1024:.1f}",
                    free=f"{gpu.get('free_mib', 0) / 1024:.1f}"))
            lines.append(self.tr("Driver: {version}").format(version=_html(r.driver or "?")))
        elif r.label == "this computer":
            lines.append(self.tr("No NVIDIA GPU: CPU training is only practical for tiny models like the "
                                 "embedded SmolLM2."))
        else:
            lines.append(self.tr("No NVIDIA GPU found on the server: training would run on its CPU."))
        if r.disk_free_bytes is not None:
            lines.append(self.tr("Free disk: {n} GiB").format(n=f"{r.disk_free_bytes / GIB:.1f}"))
        if r.env_ready:
            lines.append(self.tr("Trainer environment: ready"))
        elif r.label == "this computer":
            lines.append(self.tr("Trainer environment: will be set up on first run (needs internet on this "
                                 "computer)"))
        else:
            lines.append(self.tr("Trainer environment: will be set up on first run (needs internet on the "
                                 "server)"))
        for problem in r.problems:
            lines.append(f"<span style='color:{theme.current().danger}'>{_html(problem)}</span>")
        for warning in r.warnings:
            if not warning.startswith("No NVIDIA GPU"):   # said above in the UI language
                lines.append(f"<span style='color:{theme.current().warning}'>{_html(warning)}</span>")
        if r.ok:
            lines.append(self.tr("<b>Ready to train here.</b>"))
        self.report_label.setText("<br>".join(lines))


def _html(text) -> str:
    return html.escape(str(text))
