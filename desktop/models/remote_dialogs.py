"""Adding a model that runs on a server: any OpenAI-compatible endpoint, or llama-server
started on the user's GPU server over SSH. Both go through engine.api only; nothing
connects until the user presses a button that says it will."""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from engine.api import HostSpec


def parse_host(text: str, ssh_config: str | None = None) -> HostSpec | None:
    """An alias from ~/.ssh/config, or user@host[:port]; None when it is neither."""
    return HostSpec.parse(text, ssh_config=ssh_config)


class EndpointDialog(QDialog):
    """Base URL and API key; the models are listed from /v1/models when asked."""

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.added = None
        self.setWindowTitle(self.tr("Add a model from an endpoint"))
        self.url = QLineEdit()
        self.url.setPlaceholderText("http://gpu.example:8000/v1")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText(self.tr("kept in the system keyring"))
        self.model = QComboBox()
        self.list_button = QPushButton(self.tr("List models"))
        self.list_button.clicked.connect(self.list_models)
        self.name = QLineEdit()
        self.name.setPlaceholderText(self.tr("default: the model's name"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(self.list_button)
        form = QFormLayout()
        form.addRow(self.tr("Base URL"), self.url)
        form.addRow(self.tr("API key"), self.key)
        form.addRow(self.tr("Model"), row)
        form.addRow(self.tr("Name in Bunko"), self.name)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.add)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def list_models(self) -> None:
        self.message.setText(self.tr("Asking {url} for its models…").format(url=self.url.text()))
        self.ctx.runner.run(self.ctx.engine.endpoint_models, self.url.text(), self.key.text() or None,
                            on_done=self._listed, on_error=self._failed)

    def _listed(self, names: list[str]) -> None:
        self.model.clear()
        self.model.addItems(names)
        self.message.setText(self.tr("{n} models offered.").format(n=len(names)))

    def add(self) -> None:
        self.buttons.setEnabled(False)
        self.ctx.runner.run(self.ctx.engine.add_endpoint, self.url.text(), self.key.text() or None,
                            self.model.currentText() or None, self.name.text().strip() or None,
                            on_done=self._added, on_error=self._failed)

    def _added(self, info) -> None:
        self.added = info
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(str(exc))


class GpuServerDialog(QDialog):
    """A GGUF of this computer to run with llama-server on an SSH host."""

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.added = None
        self.setWindowTitle(self.tr("Add a model on a GPU server"))
        self.host = QLineEdit()
        self.host.setPlaceholderText(self.tr("an alias from ~/.ssh/config, or user@host:port"))
        self.gguf = QLineEdit()
        browse = QPushButton(self.tr("Choose…"))
        browse.clicked.connect(self._choose)
        self.ctx_size = QSpinBox()
        self.ctx_size.setRange(512, 131072)
        self.ctx_size.setSingleStep(1024)
        self.ctx_size.setValue(4096)
        self.idle = QDoubleSpinBox()
        self.idle.setRange(0, 24 * 60)
        self.idle.setValue(30)
        self.idle.setSuffix(self.tr(" min (0 = never)"))
        self.binary = QLineEdit()
        self.binary.setPlaceholderText(self.tr("optional: a llama-server already on the server"))
        self.test_button = QPushButton(self.tr("Test connection"))
        self.test_button.clicked.connect(self.test_connection)
        self.message = QLabel()
        self.message.setWordWrap(True)
        file_row = QHBoxLayout()
        file_row.addWidget(self.gguf, 1)
        file_row.addWidget(browse)
        form = QFormLayout()
        form.addRow(self.tr("Server"), self.host)
        form.addRow(self.tr("GGUF model"), file_row)
        form.addRow(self.tr("Context"), self.ctx_size)
        form.addRow(self.tr("Stop when idle after"), self.idle)
        form.addRow(self.tr("llama-server"), self.binary)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.add)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.test_button)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a GGUF model"), "",
                                              self.tr("GGUF models (*.gguf);;All files (*)"))
        if path:
            self.gguf.setText(path)

    def spec(self) -> HostSpec | None:
        spec = parse_host(self.host.text())
        if spec is None:
            self.message.setText(self.tr("Enter an alias from ~/.ssh/config, or user@host:port."))
        return spec

    def test_connection(self) -> None:
        from engine.api import probe_host

        spec = self.spec()
        if spec is None:
            return
        self.message.setText(self.tr("Connecting to {host}…").format(host=spec.label))
        self.ctx.runner.run(probe_host, spec, on_done=self._probed, on_error=self._failed)

    def _probed(self, report) -> None:
        gpus = ", ".join(f"{g.get('name')} ({int(g.get('free_mib') or 0) / 1024:.0f} of "
                         f"{int(g.get('memory_mib') or 0) / 1024:.0f} GB free)" for g in report.gpus)
        disk = f"{report.disk_free_bytes / 1e9:.0f} GB" if report.disk_free_bytes else "?"
        self.message.setText(self.tr("Connected. GPUs: {gpus}; driver {driver}; free disk {disk}.").format(
            gpus=gpus or self.tr("none (llama-server would run on the CPU)"), driver=report.driver or "-", disk=disk))

    def add(self) -> None:
        spec = self.spec()
        if spec is None:
            return
        self.buttons.setEnabled(False)
        self.ctx.runner.run(self.ctx.engine.add_remote_model, spec, self.gguf.text(), None, self.ctx_size.value(),
                            self.idle.value(), self.binary.text().strip() or None,
                            on_done=self._added, on_error=self._failed)

    def _added(self, info) -> None:
        self.added = info
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(str(exc))

