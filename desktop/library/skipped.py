"""The files of one library that were not indexed, each with the reason, so a
person can see why a document never shows up in answers; and those indexed with
a note to check (pages read by OCR with low confidence)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from engine.errors import LibraryNotFoundError
from engine.types import DocumentInfo

from .reasons import reason_text

log = logging.getLogger(__name__)


class SkippedFilesView(QWidget):
    PATH, STATUS, REASON = range(3)

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.library: str | None = None
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(self.PATH, Qt.SortOrder.AscendingOrder)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(self.PATH, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.tree)
        self.retranslate()
        self.show_library(None)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.refresh()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.tree.setHeaderLabels([self.tr("File"), self.tr("Status"), self.tr("Reason")])

    def show_library(self, name: str | None) -> None:
        """Load the skipped and failed files of `name` in the background (None clears)."""
        self.library = name
        if name is None:
            self.title.setText(self.tr("Skipped and failed files: select a library above."))
            self.tree.clear()
            return
        self.title.setText(self.tr("Skipped and failed files in {name}").format(name=name))
        self.ctx.runner.run(self._read, name, key="library:skipped",
                            on_done=lambda docs, n=name: self._fill(n, docs), on_error=self._failed)

    def refresh(self) -> None:
        self.show_library(self.library)

    def _read(self, name: str) -> list[DocumentInfo]:  # on a worker thread
        engine = self.ctx.engine
        return engine.libraries.documents(name, status="attention")

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, LibraryNotFoundError):  # removed meanwhile
            self.show_library(None)
            return
        self.ctx.show_error(exc)

    def _fill(self, name: str, docs: list[DocumentInfo]) -> None:
        if name != self.library:
            return
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        labels = {"skipped": self.tr("Skipped"), "error": self.tr("Failed"), "indexed": self.tr("Check")}
        for doc in docs:
            reason = reason_text(doc.reason)
            item = QTreeWidgetItem([doc.path, labels.get(doc.status, doc.status), reason])
            item.setToolTip(self.PATH, doc.path)
            item.setToolTip(self.REASON, reason)
            self.tree.addTopLevelItem(item)
        self.tree.setSortingEnabled(True)
        self.tree.resizeColumnToContents(self.PATH)
        self.tree.setColumnWidth(self.PATH, min(self.tree.columnWidth(self.PATH), 420))
        self.tree.resizeColumnToContents(self.STATUS)
        if not docs:
            self.title.setText(self.tr("No skipped or failed files in {name}.").format(name=name))
        else:
            failed = sum(1 for doc in docs if doc.status == "error")
            check = sum(1 for doc in docs if doc.status == "indexed")
            text = self.tr("Files not indexed in {name}: {skipped} skipped, {failed} failed").format(
                name=name, skipped=len(docs) - failed - check, failed=failed)
            if check:
                text += self.tr("; {check} indexed with pages to check (OCR: low confidence)").format(check=check)
            self.title.setText(text)

    def rows(self) -> list[tuple[str, str, str]]:
        """What the view shows, in order (for tests and copy)."""
        return [tuple(self.tree.topLevelItem(i).text(c) for c in range(3)) for i in range(self.tree.topLevelItemCount())]
