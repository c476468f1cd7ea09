"""Adding a model that runs on a server: any OpenAI-compatible endpoint, or llama-server
started on the user's GPU server over SSH. Both go through engine.api only; nothing
connects until the user presses a button that says it will."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QRadioButton,
                               QSpinBox, QVBoxLayout, QWidget)

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
        self.url.setPlaceholderText("https://gpu.example:8000/v1")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText(self.tr("kept in the system keyring"))
        self.model = QComboBox()
        self.list_button = QPushButton(self.tr("List models"))
        self.list_button.clicked.connect(self.list_models)
        self.name = QLineEdit()
        self.name.setPlaceholderText(self.tr("default: the model's name"))
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)   # server errors and document names: never markup
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
        self.ctx.runner.run(self.ctx.engine.models.endpoint_models, self.url.text(), self.key.text() or None,
                            on_done=self._listed, on_error=self._failed)

    def _listed(self, names: list[str]) -> None:
        self.model.clear()
        self.model.addItems(names)
        self.message.setText(self.tr("{n} models offered.").format(n=len(names)))

    def add(self) -> None:
        self.buttons.setEnabled(False)
        self.ctx.runner.run(self.ctx.engine.models.add_endpoint, self.url.text(), self.key.text() or None,
                            self.model.currentText() or None, self.name.text().strip() or None,
                            on_done=self._added, on_error=self._failed)

    def _added(self, info) -> None:
        self.added = info
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(str(exc))


class GpuServerDialog(QDialog):
    """A GGUF to run with llama-server on an SSH host: uploaded from this computer, or a catalog
    model downloaded on the server itself (when it has internet)."""

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.added = None
        self.setWindowTitle(self.tr("Add a model on a GPU server"))
        self.host = QLineEdit()
        self.host.setPlaceholderText(self.tr("an alias from ~/.ssh/config, or user@host:port"))
        self.upload = QRadioButton(self.tr("Upload from this PC"))
        self.download = QRadioButton(self.tr("Download on the server"))
        self.upload.setChecked(True)
        self.source = QButtonGroup(self)
        for button in (self.upload, self.download):
            self.source.addButton(button)
        self.download.toggled.connect(self._source_changed)
        self.gguf = QLineEdit()
        self.browse = browse = QPushButton(self.tr("Choose…"))
        browse.clicked.connect(self._choose)
        self.catalog = QComboBox()          # catalog models with an exact size and sha256
        self.catalog.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.hide()
        self._task = None
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
        self.message.setTextFormat(Qt.TextFormat.PlainText)   # server errors and document names: never markup
        self.message.setWordWrap(True)
        file_row = QHBoxLayout()
        file_row.addWidget(self.gguf, 1)
        file_row.addWidget(browse)
        form = QFormLayout()
        form.addRow(self.tr("Server"), self.host)
        source_row = QHBoxLayout()
        source_row.addWidget(self.upload)
        source_row.addWidget(self.download)
        source_row.addStretch(1)
        form.addRow(self.tr("Model file"), source_row)
        form.addRow(self.tr("GGUF model"), file_row)
        form.addRow(self.tr("Catalog model"), self.catalog)
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
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)

    def _source_changed(self, download: bool) -> None:
        self.gguf.setEnabled(not download)
        self.browse.setEnabled(not download)
        self.catalog.setEnabled(download)
        if download and self.catalog.count() == 0:
            self.ctx.runner.run(self.ctx.engine.models.catalog, gpu=False, key="remote:catalog",
                                on_done=self._fill_catalog, on_error=self._failed)

    def _fill_catalog(self, rows: list) -> None:
        self.catalog.clear()
        for r in rows:
            if r.verified:   # pinned: a commit, an exact size and a sha256 the server can check
                self.catalog.addItem(f"{r.name} — {r.quant} ({r.size / 1e9:.1f} GB)", (r.id, r.quant))
        if self.catalog.count() == 0:
            self.message.setText(self.tr("No catalog model has an exact size and sha256 yet, so none can be "
                                         "downloaded on the server. Upload one from this PC instead."))

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
        binary = self.binary.text().strip() or None
        if self.download.isChecked():
            choice = self.catalog.currentData()
            if choice is None:
                self.message.setText(self.tr("Choose a catalog model to download on the server."))
                return
            self.buttons.setEnabled(False)
            self.progress.setRange(0, 0)
            self.progress.show()
            self.message.setText(self.tr("Downloading on {host}; this PC sends nothing but the request.").format(
                host=spec.label))
            self._task = self.ctx.runner.run(self._download_there, spec, choice[0], choice[1],
                                             self.ctx_size.value(), self.idle.value(), binary,
                                             on_progress=self._progressed, on_done=self._added, on_error=self._failed)
            return
        self.buttons.setEnabled(False)
        self.ctx.runner.run(self.ctx.engine.models.add_remote, spec, self.gguf.text(), None, self.ctx_size.value(),
                            self.idle.value(), binary, on_done=self._added, on_error=self._failed)

    def _download_there(self, spec, model_id, quant, n_ctx, idle, binary, progress=None, cancel=None):  # worker
        return self.ctx.engine.models.add_remote(spec, None, None, n_ctx, idle, binary, catalog=model_id, quant=quant,
                                                progress=progress, cancel=cancel)

    def _progressed(self, p) -> None:
        if p.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * p.done / p.total))
        if p.message:
            self.message.setText(p.message)

    def reject(self) -> None:
        if self._task is not None:
            self._task.cancel()   # the part downloaded so far stays there: the next try resumes
        super().reject()

    def _added(self, info) -> None:
        self.added = info
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.progress.hide()
        self.message.setText(str(exc))

