"""Wizard step 1: the examples to learn from, imported from files or from this app's own
conversations, checked and editable, with the bad rows listed by line."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QInputDialog, QLabel,
                               QListWidget, QPushButton, QSpinBox, QTableView, QVBoxLayout, QWizardPage)

from .. import theme

import engine.api as api

from ..common import while_alive
from ..dropping import DropPaths
from .examples_model import ExamplesModel
from .format_box import FormatBox
from .training_view import ERROR, WARN
from ..i18n import Retranslating

DATA_SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv", ".tsv")


class DataStep(Retranslating, DropPaths, QWizardPage):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sources: list[str] = []
        self.problems: list[tuple[str, object]] = []   # (source, engine RowProblem)
        self.seq_len = api.PRESETS["quick"].seq_len     # the settings step updates it

        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.import_button = QPushButton()
        self.conversations_button = QPushButton()
        self.draft_button = QPushButton()
        self.draft_status = QLabel()
        self.draft_status.hide()
        self.delete_button = QPushButton()
        self.draft_button.clicked.connect(self.draft_from_library)
        self.import_button.clicked.connect(self.choose_files)
        self.conversations_button.clicked.connect(self.add_conversations)
        self.delete_button.clicked.connect(self.delete_selected)
        self.model = ExamplesModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table, self.delete_selected,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.counts = QLabel()
        self.long_rows = QLabel()
        self.long_rows.setWordWrap(True)
        theme.set_role(self.long_rows, WARN)
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)   # server errors and document names: never markup
        self.error.setWordWrap(True)
        theme.set_role(self.error, ERROR)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.problems_label = QLabel()
        self.problems_list = QListWidget()
        self.problems_list.setMaximumHeight(110)
        self.held_label = QLabel()
        self.held_share = QSpinBox()
        self.held_share.setRange(0, 50)
        self.held_share.setValue(10)
        self.held_share.setSuffix(" %")
        self.held_label.setBuddy(self.held_share)

        buttons = QHBoxLayout()
        for button in (self.import_button, self.conversations_button, self.draft_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        held = QHBoxLayout()
        held.addWidget(self.held_label)
        held.addWidget(self.held_share)
        held.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(buttons)
        layout.addWidget(self.draft_status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.counts)
        layout.addWidget(self.long_rows)
        layout.addWidget(self.error)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.problems_list)
        layout.addLayout(held)
        self.setAcceptDrops(True)

        self.model.rowsInserted.connect(self.update_counts)
        self.model.rowsRemoved.connect(self.update_counts)
        self.model.modelReset.connect(self.update_counts)
        self.model.dataChanged.connect(self.update_counts)
        self.held_share.valueChanged.connect(self.update_counts)
        self.format_box = FormatBox(ctx, self.split)
        self.format_box.changed.connect(self.completeChanged)
        layout.addWidget(self.format_box)
        self.retranslate()
        self.update_counts()

    def retranslate(self) -> None:
        self.setTitle(self.tr("Training data"))
        self.setSubTitle(self.tr("Questions and answers the model should learn."))
        self.intro.setText(self.tr(
            "Import JSONL (OpenAI messages, ShareGPT or Alpaca) or CSV with a question and an answer column "
            "(UTF-8 or Shift_JIS), take the chats you had in Bunko, or drop files here. Cells can be edited; "
            "bad rows are skipped and listed below."))
        self.import_button.setText(self.tr("&Import file(s)…"))
        self.conversations_button.setText(self.tr("From this app's &conversations"))
        self.draft_button.setText(self.tr("D&raft from a library…"))
        self.draft_button.setToolTip(self.tr("The local model writes a question and its answer for passages of a "
                                             "library; review them before training (small models draft poorly)."))
        self.delete_button.setText(self.tr("&Delete selected rows"))
        self.held_label.setText(self.tr("&Held out for comparing before and after:"))
        self.problems_label.setText(self.tr("Bad rows (skipped):"))
        self.update_counts()

    # -- adding ------------------------------------------------------------------------------
    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Import training data"), "",
            self.tr("Training data (*.jsonl *.json *.ndjson *.csv *.tsv);;All files (*)"))
        if paths:
            self.add_files(paths)

    def add_files(self, paths) -> None:
        """Read the files in the background; each adds its good rows and its problems."""
        paths = [str(p) for p in paths]

        def read():
            out = []
            for path in paths:
                try:
                    out.append((path, api.read_dataset(path)))
                except api.BunkoError as exc:
                    out.append((path, exc))
            return out

        self._set_error("")
        self.ctx.runner.run(read, on_done=while_alive(self, "_read"), on_error=while_alive(self, "_failed"))

    def add_conversations(self) -> None:
        self._set_error("")
        self.ctx.runner.run(self.ctx.engine.jobs.training_examples, key="finetune:conversations",
                            on_done=while_alive(self, "_read_one", self.tr("Bunko conversations")),
                            on_error=while_alive(self, "_failed"))

    def draft_from_library(self) -> None:
        libraries = [lib.name for lib in self.ctx.engine.libraries.list()]
        if not libraries:
            self._set_error(self.tr("There is no library yet: add a folder on the Libraries page first."))
            return
        name, ok = QInputDialog.getItem(self, self.tr("Draft from a library"), self.tr("Library:"), libraries, 0,
                                        False)
        if not ok:
            return
        count, ok = QInputDialog.getInt(self, self.tr("Draft from a library"), self.tr("Passages to draft from:"),
                                        20, 1, 500)
        if not ok:
            return
        self._set_error("")
        self.draft_button.setEnabled(False)
        self.draft_status.setText(self.tr("Drafting from {name}…").format(name=name))
        self.draft_status.show()
        self.ctx.runner.run(self.ctx.engine.jobs.draft_examples, name, count, key="finetune:draft",
                            on_progress=while_alive(self, "_drafting", name),
                            on_done=while_alive(self, "_drafted", name), on_error=while_alive(self, "_draft_failed"))

    def _drafting(self, name: str, progress) -> None:
        self.draft_status.setText(self.tr("Drafting from {name}: {done} of {total} passages…").format(
            name=name, done=int(progress.done), total=int(progress.total or 0)))

    def _drafted(self, name: str, dataset) -> None:
        self.draft_button.setEnabled(True)
        self.draft_status.hide()
        self._read_one(self.tr("drafted from {name}").format(name=name), dataset)

    def _draft_failed(self, exc: BaseException) -> None:
        self.draft_button.setEnabled(True)
        self.draft_status.hide()
        self._failed(exc)

    def _read(self, results) -> None:
        errors = []
        for path, result in results:
            if isinstance(result, BaseException):
                errors.append(str(result))
            else:
                self._read_one(Path(path).name, result)
        self._set_error("\n".join(errors))

    def _read_one(self, source: str, dataset) -> None:
        if source not in self.sources:
            self.sources.append(source)
        self.model.add(dataset.examples, source)
        for problem in dataset.problems:
            self.problems.append((source, problem))
            where = self.tr("{source}, line {line}").format(source=source, line=problem.line) if problem.line \
                else source
            self.problems_list.addItem(f"{where}: {problem.reason}")
        if not dataset.examples and not dataset.problems:
            self._set_error(self.tr("{source} has no examples.").format(source=source))
        self.update_counts()

    def _failed(self, exc: BaseException) -> None:
        self._set_error(str(exc) if isinstance(exc, api.BunkoError) else f"{type(exc).__name__}: {exc}")

    def _set_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def delete_selected(self) -> None:
        self.model.remove_rows(index.row() for index in self.table.selectionModel().selectedRows())

    # -- what the wizard takes ------------------------------------------------------------------
    def split(self) -> tuple[list[dict], list[dict]]:
        """(train, held out) by the engine's stable choice."""
        return api.Dataset(list(self.model.examples)).split(self.held_share.value() / 100)

    def set_seq_len(self, seq_len: int) -> None:
        self.seq_len = seq_len
        self.update_counts()

    def update_counts(self, *_args) -> None:
        n = len(self.model.examples)
        train, held = self.split()
        text = self.tr("{n} examples: {train} to train on, {held} held out.").format(n=n, train=len(train),
                                                                                     held=len(held))
        if n and n < 10 and self.held_share.value():
            text += " " + self.tr("(Nothing is held out below 10 examples.)")
        self.counts.setText(text)
        long = self.model.longer_than(self.seq_len)
        self.long_rows.setText(self.tr(
            "{n} examples are longer than the sequence length ({seq} tokens): the ends of their answers would "
            "be cut. Shorten them, or raise the sequence length in the settings.").format(n=len(long), seq=self.seq_len)
            if long else "")
        self.long_rows.setVisible(bool(long))
        self.problems_label.setVisible(bool(self.problems))
        self.problems_list.setVisible(bool(self.problems))
        self.delete_button.setEnabled(n > 0)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return bool(self.model.examples) and self.format_box.isComplete()

    def initializePage(self) -> None:
        self.format_box.fill_libraries()

    # -- dropping files (DropPaths) ----------------------------------------------------------------
    def accepts_path(self, path: Path) -> bool:
        return path.suffix.lower() in DATA_SUFFIXES and path.is_file()

    def take_path(self, path: Path) -> None:
        self.add_files([path])
