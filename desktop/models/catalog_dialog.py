"""Models → Get models…: the catalog with fit and rough speed, and a download with
progress, time left and cancel; or an import from a folder (a USB drive)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QMessageBox, QProgressBar, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout)

from engine.api import clock
from engine.errors import Cancelled
from engine.types import CatalogRow

from ..common import while_alive

ROW = Qt.ItemDataRole.UserRole


def _size(n: int | None) -> str:
    if not n:
        return ""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


class CatalogDialog(QDialog):
    """Lists engine.models.catalog() and runs engine.models.download / import_models through the runner."""

    KEY = "models:download"

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.task = None
        self.added: list = []
        self.setWindowTitle(self.tr("Get models"))
        self.resize(900, 520)
        self.hint = QLabel(self.tr(
            "Instruct models that write good Japanese. Downloading is the only thing that goes online; "
            "the file is checked (size, sha256) before it is added. Speeds are rough guesses."))
        self.hint.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setHeaderLabels([self.tr("Model"), self.tr("Quantization"), self.tr("Size"), self.tr("Licence"),
                                   self.tr("Languages"), self.tr("Fits this computer"), self.tr("Rough speed")])
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.reason = QLabel()
        self.reason.setTextFormat(Qt.TextFormat.PlainText)   # server errors and document names: never markup
        self.reason.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.hide()
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)   # server errors and document names: never markup
        self.status.setWordWrap(True)
        self.download_button = QPushButton(self.tr("Download"))
        self.cancel_button = QPushButton(self.tr("Cancel download"))
        self.import_button = QPushButton(self.tr("Import from folder…"))
        self.close_button = QPushButton(self.tr("Close"))
        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button.clicked.connect(self.cancel)
        self.import_button.clicked.connect(self.choose_folder)
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for b in (self.download_button, self.cancel_button, self.import_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        for w in (self.hint, self.tree, self.reason, self.bar, self.status):
            layout.addWidget(w)
        layout.addLayout(buttons)
        self._update_buttons()
        # Held weakly: the dialog may be closed (and deleted) before the catalog arrives.
        ctx.runner.run(ctx.engine.models.catalog, key="models:catalog", on_done=while_alive(self, "_fill"),
                       on_error=lambda exc: ctx.show_error(exc, self))

    def _fill(self, rows: list[CatalogRow]) -> None:
        self.tree.clear()
        for row in rows:
            speed = self.tr("~{n} tokens/s").format(n=f"{row.tokens_per_s:.0f}") if row.tokens_per_s else ""
            fits = {"GPU": self.tr("Yes, on the GPU"), "GPU+CPU": self.tr("Yes, GPU and CPU"),
                    "CPU": self.tr("Yes, on the CPU")}.get(row.where, self.tr("No")) if row.fits else self.tr("No")
            item = QTreeWidgetItem([row.name, row.quant, ("~" if not row.size_exact else "") + _size(row.size),
                                    row.licence, ", ".join(row.languages), fits, speed])
            item.setData(0, ROW, row)
            item.setToolTip(0, row.repo + ("\n" + row.notes if row.notes else ""))
            self.tree.addTopLevelItem(item)
        self._update_buttons()

    def selected(self) -> dict | None:
        item = self.tree.currentItem()
        return item.data(0, ROW) if item is not None else None

    def _update_buttons(self) -> None:
        busy = self.task is not None
        row = self.selected()
        self.download_button.setEnabled(row is not None and not busy)
        self.import_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.reason.setText(row.reason if row else "")

    # -- work ------------------------------------------------------------------------------
    def download_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        allow = False
        if not row.verified:
            answer = QMessageBox.warning(
                self, self.tr("Download an unverified model?"),
                self.tr("Bunko's catalog does not pin {name} {quant} to a checked version (commit and sha256), "
                        "so it cannot tell the file the hub serves today from the one that was reviewed. "
                        "Download it only if you trust its publisher ({repo}).").format(
                            name=row.name, quant=row.quant, repo=row.repo),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
            allow = True
        self.status.setText(self.tr("Downloading {name} {quant}…").format(name=row.name, quant=row.quant))
        self._start(self.ctx.engine.models.download, row.id, row.quant, allow_unverified=allow)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Import GGUF models from a folder"))
        if folder:
            self.import_path(folder)

    def import_path(self, path: str) -> None:
        self.status.setText(self.tr("Importing from {path}…").format(path=path))
        self._start(self.ctx.engine.models.import_files, path)

    def _start(self, fn, *args, **kwargs) -> None:
        self.bar.setRange(0, 0)
        self.bar.show()
        self.task = self.ctx.runner.run(fn, *args, key=self.KEY, on_progress=self._progress,
                                        on_done=self._done, on_error=self._failed, **kwargs)
        self._update_buttons()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel(drop=False)

    def _progress(self, p) -> None:
        if p.total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * p.done / p.total))
        stage = {"download": self.tr("Downloading"), "check": self.tr("Checking"),
                 "copy": self.tr("Copying")}.get(p.phase, p.phase)
        rate = f"{p.rate / 1e6:.1f} MB/s" if p.rate else "-- MB/s"
        self.bar.setFormat(self.tr("{stage}: {done} of {total}, {rate}, {left} left").format(
            stage=stage, done=_size(p.done), total=_size(p.total), rate=rate, left=clock(p.eta_s)))

    def _finish(self) -> None:
        self.task = None
        self.bar.hide()
        self._update_buttons()

    def _done(self, result) -> None:
        self._finish()
        models = getattr(result, "added", None)
        models = [result] if models is None else models
        self.added.extend(models)
        names = ", ".join(m.name for m in models)
        refused = getattr(result, "refused", [])
        text = self.tr("Added: {names}").format(names=names) if models else self.tr("Nothing was added.")
        if refused:
            text += "\n" + self.tr("Not imported:") + "\n" + "\n".join(f"{p}: {why}" for p, why in refused)
        self.status.setText(text)
        self.ctx.notify("models")

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        if isinstance(exc, Cancelled):
            self.status.setText(self.tr("Download stopped. Download again to resume where it stopped."))
        else:
            self.status.setText(str(exc))

    def closeEvent(self, event) -> None:
        self.cancel()
        super().closeEvent(event)
