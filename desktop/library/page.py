"""The Libraries page: the folders Bunko answers from, their indexing, and the
files it could not use."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QMessageBox,
                               QPushButton, QSplitter, QStackedWidget, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from .. import theme
from ..theme import metrics as m
from ..widgets import DETAIL_ROLE, PROGRESS_ROLE, TONE_ROLE, EmptyState, StatusDelegate, tidy_table

from engine.api import clock
from engine.types import IndexProgress, IndexResult, Library
from engine.errors import EmbedderMismatchError

from ..dropping import DropPaths
from .embed_host import HOST_QUESTIONS, EmbedHostChoice, ask_about_host
from .indexing import IndexQueue
from ..common import local_time
from .progress import IndexProgressPanel
from .skipped import SkippedFilesView

log = logging.getLogger(__name__)

WATCH_INTERVAL_KEY = "library/watch_interval"  # seconds between re-indexing watched libraries
DEFAULT_WATCH_INTERVAL = 30.0



class LibrariesPage(DropPaths, QWidget):
    NAME, STATUS, FOLDER, DOCUMENTS, CHUNKS, SKIPPED, FAILED, UPDATED, WATCH, ERROR = range(10)

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.libraries: dict[str, Library] = {}
        self.errors: dict[str, str] = {}        # name -> the last run's error, shown in its row
        self._last: IndexProgress | None = None
        self._shown = False                     # the current run is on screen (quiet runs only once they work)
        self._adding: list[tuple[str, str | None]] = []
        self._add_running = False
        self._select: str | None = None         # select this library once the table has it
        self._resume_pending = False

        self.queue = IndexQueue(ctx, self)
        self.table = self._make_table()
        self.add_button = QPushButton()
        self.reindex_button = QPushButton()
        self.remove_button = QPushButton()
        self.add_button.clicked.connect(self.choose_folder)
        self.reindex_button.clicked.connect(lambda: self.reindex())
        self.remove_button.clicked.connect(lambda: self.remove())
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        theme.set_role(self.hint, "muted")
        self.add_button.setProperty("kind", "primary")
        self.empty = EmptyState("folder")   # no library yet: say what a library is, one click to add one
        self.empty.action.connect(self.choose_folder)
        self.progress = IndexProgressPanel()
        self.progress.pause_clicked.connect(self.pause)
        self.progress.resume_clicked.connect(self.resume)
        self.progress.cancel_clicked.connect(self.cancel)
        self.skipped = SkippedFilesView(ctx)
        self.skipped.include_changed.connect(self.reindex)  # the switch takes effect at once

        self.embed_host = EmbedHostChoice(ctx)   # this PC, or the user's GPU server
        buttons = QHBoxLayout()
        for button in (self.add_button, self.reindex_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.embed_host)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.skipped)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.body = QStackedWidget()
        self.body.addWidget(self.empty)
        self.body.addWidget(splitter)
        self.body.setCurrentWidget(splitter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(m.L, m.M, m.L, m.M)
        layout.setSpacing(m.S)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.progress)
        self._add_shortcuts()
        self.setAcceptDrops(True)

        self.queue.started.connect(self._on_started)
        self.queue.progress.connect(self._on_progress)
        self.queue.stopping.connect(self.progress.show_stopping)
        self.queue.paused.connect(self._on_paused)
        self.queue.finished.connect(self._on_finished)
        self.queue.failed.connect(self._on_failed)
        self.queue.idle.connect(self._on_idle)
        ctx.listen("libraries", self.refresh)

        self.watch_timer = QTimer(self)
        self.watch_timer.timeout.connect(self._watch_tick)
        self.watch_timer.start(self._watch_interval_ms())
        self._update_buttons()
        self.retranslate()
        self.refresh()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.refresh()  # cells such as "not yet" are written in the language of the moment
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.add_button.setText(self.tr("Add folder…"))
        self.reindex_button.setText(self.tr("Re-index now"))
        self.remove_button.setText(self.tr("Remove…"))
        self.hint.setText(self.tr("Bunko answers from the documents in these folders. "
                                  "Add a folder with the button, or drop folders onto this page."))
        self.empty.set_texts(self.tr("No libraries yet"),
                             self.tr("A library is a folder of documents (PDF, Word, Excel, PowerPoint, Markdown, "
                                     "text). Bunko reads it on this computer so that chat answers cite your files."),
                             self.tr("Add a folder…"))
        self.table.setHorizontalHeaderLabels([
            self.tr("Name"), self.tr("Status"), self.tr("Folder"), self.tr("Documents"), self.tr("Chunks"),
            self.tr("Skipped"),
            self.tr("Failed"), self.tr("Last update"), self.tr("Watch"), self.tr("Last error")])
        for column in (self.DOCUMENTS, self.CHUNKS, self.SKIPPED, self.FAILED):   # over their right-aligned numbers
            self.table.horizontalHeaderItem(column).setTextAlignment(Qt.AlignmentFlag.AlignRight
                                                                     | Qt.AlignmentFlag.AlignVCenter)
        self.table.horizontalHeaderItem(self.WATCH).setToolTip(
            self.tr("Re-index the folder by itself while Bunko is open, so new and changed files are found."))

    def _make_table(self) -> QTableWidget:
        table = QTableWidget(0, 10)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSortingEnabled(True)
        tidy_table(table)  # long folders and errors are elided; the tooltip has them whole
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.FOLDER, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(self.ERROR, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(self.ERROR, 220)
        # state as a badge (a slim bar and the time left while it indexes), failures in red
        self.status_delegate = StatusDelegate(table)
        for column in (self.STATUS, self.FAILED):
            table.setItemDelegateForColumn(column, self.status_delegate)
        table.itemChanged.connect(self._item_changed)
        table.itemSelectionChanged.connect(self._selection_changed)
        return table

    def _add_shortcuts(self) -> None:
        for keys, slot in ((QKeySequence.StandardKey.Delete, lambda: self.remove()),
                           (QKeySequence.StandardKey.Refresh, lambda: self.reindex())):
            action = QAction(self)
            action.setShortcut(keys)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.table.addAction(action)

    # -- public --------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the libraries again (in the background) and show them."""
        self.ctx.runner.run(self.ctx.engine.libraries.list, key="libraries:list", on_done=self._show,
                            on_error=self._show_error)

    def add_folder(self, path: str | Path, name: str | None = None) -> None:
        """Register a folder and index it. Several folders are added one after the other."""
        self._adding.append((str(path), name))
        self._add_next()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Add a folder of documents"))
        if folder:
            self.add_folder(folder)

    def reindex(self, name: str | None = None) -> None:
        """Bring a library in step with its folder now (queued behind a run in progress)."""
        name = name or self.selected_name()
        if name:
            self.errors.pop(name, None)
            self.queue.enqueue(name)
            self._show_status(name)

    def resume_all(self) -> None:
        """Index every library in the background: a run cut short when the app closed goes on."""
        self._resume_pending = True
        self.refresh()

    def pause(self) -> None:
        self.queue.pause()

    def resume(self) -> None:
        self.queue.resume()

    def cancel(self) -> None:
        self.queue.cancel()

    def remove(self, name: str | None = None) -> None:
        """Forget a library after asking; the folder and its files stay as they are."""
        name = name or self.selected_name()
        if not name:
            return
        lib = self.libraries.get(name)
        answer = QMessageBox.question(
            self, self.tr("Remove library"),
            self.tr("Remove the library “{name}” from Bunko?\n\nIts index is deleted. The folder {folder} "
                    "and the files in it stay on disk, untouched.").format(name=name, folder=lib.root if lib else ""))
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.errors.pop(name, None)
        self.queue.forget(name, then=lambda: self.ctx.runner.run(
            self.ctx.engine.libraries.remove, name, on_done=lambda _: self._removed(name), on_error=self._show_error))

    def shutdown(self) -> None:
        """Closing the app: stop indexing now; the next start resumes it (resume_all)."""
        self.watch_timer.stop()
        self.queue.shutdown()

    def is_indexing(self) -> bool:
        return self.queue.running()

    def selected_name(self) -> str | None:
        row = self.table.currentRow()
        item = self.table.item(row, self.NAME) if row >= 0 else None
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def select(self, name: str) -> None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, self.NAME).data(Qt.ItemDataRole.UserRole) == name:
                self.table.selectRow(row)
                return
        self._select = name

    # -- the table ---------------------------------------------------------------
    def _show(self, libs: list[Library]) -> None:
        selected = self._select or self.selected_name()
        self._select = None
        self.libraries = {lib.name: lib for lib in libs}
        self.body.setCurrentIndex(1 if libs else 0)
        for button in (self.add_button, self.reindex_button, self.remove_button):
            button.setVisible(bool(libs))  # with none yet, the empty state carries the one Add button
        self.table.blockSignals(True)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(libs))
        for row, lib in enumerate(libs):
            self._fill_row(row, lib)
        self.table.setSortingEnabled(True)
        self.table.blockSignals(False)
        if selected in self.libraries:
            self.select(selected)
        elif libs and self.table.currentRow() < 0:
            self.table.selectRow(0)
        self._selection_changed()
        if self._resume_pending:
            self._resume_pending = False
            for lib in libs:
                self.queue.enqueue(lib.name, quiet=True)

    def _fill_row(self, row: int, lib: Library) -> None:
        def cell(column: int, value, tip: str | None = None) -> QTableWidgetItem:
            item = QTableWidgetItem()
            item.setData(Qt.ItemDataRole.DisplayRole, value)  # numbers stay numbers, so they sort as such
            if isinstance(value, int):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if tip:
                item.setToolTip(tip)
            self.table.setItem(row, column, item)
            return item

        name = cell(self.NAME, lib.name)
        name.setData(Qt.ItemDataRole.UserRole, lib.name)
        cell(self.FOLDER, lib.root, lib.root)
        ocr = (self.tr("{pages} pages read by OCR, {low} with low confidence (listed below)").format(
            pages=lib.ocr_pages, low=lib.ocr_low) if lib.ocr_pages else None)
        if lib.partial:
            part = self.tr("{n} indexed in part (listed below)").format(n=lib.partial)
            ocr = f"{ocr}\n{part}" if ocr else part
        docs = cell(self.DOCUMENTS, lib.documents, ocr)
        if lib.ocr_low or lib.partial:
            docs.setData(TONE_ROLE, "warning")
        cell(self.CHUNKS, lib.chunks)
        cell(self.SKIPPED, lib.skipped)
        cell(self.STATUS, "")
        self._fill_status(row, lib)
        failed = cell(self.FAILED, lib.errors)
        if lib.errors:
            failed.setData(TONE_ROLE, "danger")
        cell(self.UPDATED, local_time(lib.indexed_at) or self.tr("not yet"))
        watch = cell(self.WATCH, "", self.tr("Re-index every {n} s while Bunko is open").format(
            n=f"{self._watch_interval_ms() / 1000:g}"))
        watch.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable)
        watch.setCheckState(Qt.CheckState.Checked if lib.watch else Qt.CheckState.Unchecked)
        error = self.errors.get(lib.name, "")
        cell(self.ERROR, error, error)

    def status_of(self, lib: Library) -> tuple[str, str, float | None, str]:
        """(text, tone, progress 0…1 or None, time left) of a library's row."""
        queue, name = self.queue, lib.name
        last = self._last if self._last is not None and self._last.library == name else None
        fraction = last.fraction if last is not None else None
        if queue.current == name and self._shown:
            left = self.tr("{time} left").format(time=clock(last.eta_s)) \
                if last is not None and last.eta_s is not None and last.eta_s >= 1 else ""
            return self.tr("Indexing"), "accent", fraction or 0.0, left
        if queue.paused_name == name:
            return self.tr("Paused"), "warning", fraction, ""
        if name in self.errors:
            return self.tr("Failed"), "danger", None, ""
        if queue.current != name and any(n == name for n, quiet in queue.waiting if not quiet):
            return self.tr("Queued"), "neutral", None, ""
        if lib.indexed_at is None:
            return self.tr("Not indexed"), "neutral", None, ""
        return self.tr("Ready"), "success", None, ""

    def _fill_status(self, row: int, lib: Library) -> None:
        item = self.table.item(row, self.STATUS)
        text, tone, progress, left = self.status_of(lib)
        for role, value in ((Qt.ItemDataRole.DisplayRole, text), (TONE_ROLE, tone), (PROGRESS_ROLE, progress),
                            (DETAIL_ROLE, left)):
            if item.data(role) != value:
                item.setData(role, value)

    def _show_status(self, name: str | None) -> None:
        """Redraw one library's state (indexing progress arrives several times a second)."""
        lib = self.libraries.get(name) if name else None
        if lib is None:
            return
        for row in range(self.table.rowCount()):
            if self.table.item(row, self.NAME).data(Qt.ItemDataRole.UserRole) == name:
                self.table.blockSignals(True)
                self._fill_status(row, lib)
                self.table.blockSignals(False)
                return

    def row_values(self, name: str) -> dict[str, object] | None:
        """The row of a library as shown (for tests and the status bar)."""
        for row in range(self.table.rowCount()):
            if self.table.item(row, self.NAME).data(Qt.ItemDataRole.UserRole) == name:
                keys = ("name", "status", "folder", "documents", "chunks", "skipped", "failed", "updated", "watch",
                        "error")
                values = {k: self.table.item(row, c).data(Qt.ItemDataRole.DisplayRole) for c, k in enumerate(keys)}
                values["watch"] = self.table.item(row, self.WATCH).checkState() == Qt.CheckState.Checked
                return values
        return None

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != self.WATCH:
            return
        name = self.table.item(item.row(), self.NAME).data(Qt.ItemDataRole.UserRole)
        on = item.checkState() == Qt.CheckState.Checked
        self.ctx.runner.run(self.ctx.engine.libraries.set_watch, name, on, on_done=lambda _: self.ctx.notify("libraries"),
                            on_error=self._watch_failed)

    def _watch_failed(self, exc: BaseException) -> None:
        self.ctx.show_error(exc, self)
        self.refresh()  # put the checkbox back as the database has it

    def _selection_changed(self) -> None:
        name = self.selected_name()
        if name != self.skipped.library:
            self.skipped.show_library(name)
        if name != self.embed_host.library:
            self.embed_host.show_library(name)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.selected_name() is not None
        self.reindex_button.setEnabled(has)
        self.remove_button.setEnabled(has)

    # -- adding and removing ---------------------------------------------------------
    def _add_next(self) -> None:
        if self._add_running or not self._adding:
            return
        path, name = self._adding.pop(0)
        self._add_running = True
        self.ctx.status.emit(self.tr("Adding {folder}…").format(folder=path))
        self.ctx.runner.run(self.ctx.engine.libraries.add, path, name, on_done=self._added, on_error=self._add_failed)

    def _added(self, lib: Library) -> None:
        self._add_running = False
        self._select = lib.name
        self.ctx.notify("libraries")
        self.queue.enqueue(lib.name)
        self._add_next()

    def _add_failed(self, exc: BaseException) -> None:
        self._add_running = False
        self._show_error(exc)
        self._add_next()

    def _removed(self, name: str) -> None:
        self.ctx.notify("libraries")
        self.ctx.status.emit(self.tr("Removed the library {name}; its folder is untouched.").format(name=name))

    def _show_error(self, exc: BaseException) -> None:
        self.ctx.show_error(exc, self)

    # -- indexing ------------------------------------------------------------------
    def _on_started(self, name: str) -> None:
        # A watch run that finds nothing to do stays off screen, or the panel would blink every interval.
        self._shown = not self.queue.quiet
        if self._shown:
            self.progress.show_starting(name)
        self._show_status(name)

    def _on_progress(self, p: IndexProgress) -> None:
        self._last = p
        self._shown = self._shown or p.files_total > 0
        if self._shown:
            self.progress.show_progress(p)
            self._show_status(p.library)
            self.ctx.indexing.emit(p)

    def _ended(self, name: str, complete: bool) -> None:
        """Tell the status bar the run is over ("done", or None when it did not finish), show the new counts."""
        last = self._last if self._last is not None and self._last.library == name else IndexProgress(library=name, phase="done")
        self._last = None
        if self._shown:
            self.ctx.indexing.emit(dataclasses.replace(last, phase="done", eta_s=None, current=None) if complete
                                   else None)
        self._shown = False
        self.ctx.notify("libraries")
        if self.skipped.library == name:
            self.skipped.refresh()

    def _on_finished(self, name: str, result: IndexResult) -> None:
        if not result.cancelled:
            self.errors.pop(name, None)
            changed = (result.added + result.updated + result.renamed + result.removed + result.failed
                       + result.skipped)
            if changed:
                self.ctx.status.emit(self.tr(
                    "{name} is indexed: {added} added, {updated} updated, {removed} removed, {skipped} skipped, "
                    "{failed} failed.").format(
                    name=name, added=result.added, updated=result.updated, removed=result.removed,
                    skipped=result.skipped, failed=result.failed))
        elif self.queue.paused_name != name:
            self.ctx.status.emit(self.tr("Indexing {name} stopped.").format(name=name))
        self._ended(name, complete=not result.cancelled)

    def _on_failed(self, name: str, exc: BaseException, quiet: bool) -> None:
        self.errors[name] = str(exc)
        self._ended(name, complete=False)
        if isinstance(exc, EmbedderMismatchError) and not quiet:
            self._ask_rebuild(name, exc)
        elif not quiet and (host := self.queue.hosts.get(name)) is not None:
            if ask_about_host(self, exc, host, self.queue.secrets):
                self.errors.pop(name, None)
                self.queue.enqueue(name)
            elif not isinstance(exc, HOST_QUESTIONS):   # declined: the row says why
                self._show_error(exc)
        elif quiet:  # watch and start-up runs: the row shows it; no dialog every 30 seconds
            self.ctx.status.emit(self.tr("Indexing {name} failed: {error}").format(name=name, error=exc))
        else:
            self._show_error(exc)

    def _ask_rebuild(self, name: str, exc: BaseException) -> None:
        """The embedder changed since this library was indexed: re-embed it only if the user says so."""
        answer = QMessageBox.question(
            self, self.tr("Re-index library"),
            self.tr("{error}\n\nRe-index “{name}” now? Every file is embedded again; until then "
                    "the library is not searched by meaning.").format(error=exc, name=name))
        if answer == QMessageBox.StandardButton.Yes:
            self.errors.pop(name, None)
            self.queue.enqueue(name, rebuild=True)

    def _on_paused(self, name: str) -> None:
        self.progress.show_paused(name)
        self._show_status(name)
        self.ctx.status.emit(self.tr("Indexing {name} is paused.").format(name=name))

    def _on_idle(self) -> None:
        if self.queue.paused_name is None:
            self.progress.show_idle()

    # -- watching ------------------------------------------------------------------
    def _watch_interval_ms(self) -> int:
        seconds = self.ctx.settings.get(WATCH_INTERVAL_KEY, DEFAULT_WATCH_INTERVAL, float)
        return int(max(0.2, seconds or DEFAULT_WATCH_INTERVAL) * 1000)

    def _watch_tick(self) -> None:
        self.watch_timer.setInterval(self._watch_interval_ms())  # a changed setting applies from now
        for lib in self.libraries.values():
            if lib.watch and not self.queue.busy(lib.name):
                self.queue.enqueue(lib.name, quiet=True)

    # -- drag and drop (DropPaths) ------------------------------------------------------
    def accepts_path(self, path: Path) -> bool:
        return path.is_dir()

    def take_path(self, path: Path) -> None:
        self.add_folder(path)
