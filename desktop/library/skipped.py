"""The files of one library that were not indexed, each with the reason, so a
person can see why a document never shows up in answers; those indexed in part
(a file too large to embed whole) and those with a note to check (pages read by
OCR with low confidence). Above them, the library's switch to index generated
code and files that .gitignore leaves out, which are skipped by default."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from engine.errors import LibraryNotFoundError
from engine.types import DocumentInfo, Library

from .reasons import is_partial, partial_text, reason_text

log = logging.getLogger(__name__)


class SkippedFilesView(QWidget):
    PATH, STATUS, REASON = range(3)
    include_changed = Signal(str)  # a library's switch was set: index it again

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.library: str | None = None
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.include = QCheckBox()
        self.include.setEnabled(False)
        self.include.toggled.connect(self._include_toggled)
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
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.include)
        layout.addLayout(top)
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
        self.include.setText(self.tr("Include generated and ignored files"))
        self.include.setToolTip(self.tr(
            "Also index generated code (node_modules, build folders, lock files, minified bundles, source maps, "
            "data dumps) and files that a .gitignore leaves out. A .bunkoignore file always applies."))

    def show_library(self, name: str | None) -> None:
        """Load the skipped and failed files of `name` in the background (None clears)."""
        self.library = name
        if name is None:
            self.title.setText(self.tr("Skipped and failed files: select a library above."))
            self.tree.clear()
            self._set_include(False, enabled=False)
            return
        self.title.setText(self.tr("Skipped and failed files in {name}").format(name=name))
        self.ctx.runner.run(self._read, name, key="library:skipped",
                            on_done=lambda docs, n=name: self._fill(n, docs), on_error=self._failed)

    def refresh(self) -> None:
        self.show_library(self.library)

    def _read(self, name: str) -> tuple[Library, list[DocumentInfo]]:  # on a worker thread
        libraries = self.ctx.engine.libraries
        return libraries.get(name), libraries.documents(name, status="attention")

    def _set_include(self, on: bool, enabled: bool = True) -> None:
        self.include.blockSignals(True)
        self.include.setChecked(on)
        self.include.setEnabled(enabled)
        self.include.blockSignals(False)

    def _include_toggled(self, on: bool) -> None:
        name = self.library
        if name is None:
            return
        self.include.setEnabled(False)  # until the switch is stored
        self.ctx.runner.run(self.ctx.engine.libraries.set_include_generated, name, on,
                            on_done=lambda _, n=name: self._included(n), on_error=self._include_failed)

    def _included(self, name: str) -> None:
        self.include.setEnabled(True)
        self.include_changed.emit(name)

    def _include_failed(self, exc: BaseException) -> None:
        self.ctx.show_error(exc, self)
        self.refresh()  # the box as the database has it

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, LibraryNotFoundError):  # removed meanwhile
            self.show_library(None)
            return
        self.ctx.show_error(exc)

    def _fill(self, name: str, read: tuple[Library, list[DocumentInfo]]) -> None:
        if name != self.library:
            return
        lib, docs = read
        self._set_include(lib.include_generated)
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        labels = {"skipped": self.tr("Skipped"), "error": self.tr("Failed"), "indexed": self.tr("Check")}
        partial = 0
        for doc in docs:
            status, reason = labels.get(doc.status, doc.status), reason_text(doc.reason)
            if doc.status == "indexed" and is_partial(doc.reason):
                partial += 1
                status, reason = self.tr("Indexed in part"), partial_text(doc.reason or "", doc.size)
            item = QTreeWidgetItem([doc.path, status, reason])
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
            check = sum(1 for doc in docs if doc.status == "indexed") - partial
            text = self.tr("Files not indexed in {name}: {skipped} skipped, {failed} failed").format(
                name=name, skipped=len(docs) - failed - check - partial, failed=failed)
            if partial:
                text += self.tr("; {n} indexed in part (too large to embed whole)").format(n=partial)
            if check:
                text += self.tr("; {check} indexed with pages to check (OCR: low confidence)").format(check=check)
            self.title.setText(text)

    def rows(self) -> list[tuple[str, str, str]]:
        """What the view shows, in order (for tests and copy)."""
        return [tuple(self.tree.topLevelItem(i).text(c) for c in range(3)) for i in range(self.tree.topLevelItemCount())]
