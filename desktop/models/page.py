"""The Models page: the chat models and LoRA adapters Bunko knows, which one is
loaded and how, and the settings for loading and answering."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QInputDialog, QLabel,
                               QMenu, QMessageBox, QPushButton, QScrollArea, QSplitter, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from engine.api import data_dir
from engine.errors import AdapterNeedsBaseError, ModelError
from engine.types import ModelAdvice

from .. import theme
from ..common import human_size, while_alive
from ..dropping import DropPaths
from ..first_run import answerer_with_fix
from ..widgets import TONE_ROLE, EmptyState, StatusDelegate
from .settings_panel import ModelSettingsPanel

log = logging.getLogger(__name__)

SORT = Qt.ItemDataRole.UserRole + 1


# How the engine's template families read in the list.
TEMPLATE_LABELS = {"chatml": "ChatML", "llama3": "Llama 3", "gemma": "Gemma", "mistral": "Mistral", "phi": "Phi"}



def needs_base(exc: BaseException) -> bool:
    """The registry refuses an adapter added without its base model with this message."""
    return isinstance(exc, AdapterNeedsBaseError)


class _Item(QTreeWidgetItem):
    """Sorts by the SORT value where a column has one (sizes, context lengths)."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        column = self.treeWidget().sortColumn() if self.treeWidget() else 0
        a, b = self.data(column, SORT), other.data(column, SORT)
        if a is not None and b is not None:
            return a < b
        return super().__lt__(other)


class ModelsPage(DropPaths, QWidget):
    NAME, KIND, SIZE, QUANT, CONTEXT, TEMPLATE, BASE, USE, RUNS_ON, SPEED = range(10)

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.models: dict[str, object] = {}   # name -> engine ModelInfo, in list order
        self.loading: str | None = None       # the name being loaded now
        self._select: str | None = None
        self.runs: dict[str, dict] = {}       # model -> its last measured answer (speed, offload)

        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.answerer = QLabel()            # which model answers when none is chosen, and why
        self.answerer.setWordWrap(True)
        self.advice: ModelAdvice | None = None
        self.empty = EmptyState("models")   # no chat model yet: what to do, Get models… one click away
        self.empty.action.connect(self.open_catalog)
        self.empty.hide()
        self.note = QLabel()
        self.note.setTextFormat(Qt.TextFormat.PlainText)   # server errors and document names: never markup
        self.note.setWordWrap(True)
        self.note.hide()
        self.add_button = QPushButton()
        self.load_button = QPushButton()
        self.remove_button = QPushButton()
        self.get_button = QPushButton()
        self.get_button.setProperty("kind", "primary")
        theme.set_role(self.hint, "muted")
        self.get_button.clicked.connect(self.open_catalog)
        self.server_button = QPushButton()    # Add a model that runs on a server ▾
        self.server_menu = QMenu(self)
        self.endpoint_action = self.server_menu.addAction("", self.add_endpoint)
        self.gpu_action = self.server_menu.addAction("", self.add_on_gpu_server)
        self.server_button.setMenu(self.server_menu)
        self.stop_button = QPushButton()      # stops a model's llama-server on its GPU server
        self.stop_button.clicked.connect(self.stop_server)
        self.add_button.clicked.connect(self.choose_file)
        self.load_button.clicked.connect(self.load_selected)
        self.remove_button.clicked.connect(lambda: self.remove())
        self.tree = self._make_tree()
        self.tree.setItemDelegateForColumn(self.USE, StatusDelegate(self.tree))   # "Loaded" as the tables' badge
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason_label = QLabel()
        self.reason_label.setWordWrap(True)
        theme.set_role(self.reason_label, "caption")
        self.settings_panel = ModelSettingsPanel(ctx)
        self.settings_panel.reload_requested.connect(self.reload)

        buttons = QHBoxLayout()
        for button in (self.get_button, self.add_button, self.server_button, self.load_button, self.stop_button,
                       self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.hint)
        column.addWidget(self.answerer)
        column.addWidget(self.note)
        column.addLayout(buttons)
        column.addWidget(self.empty, 1)
        column.addWidget(self.tree, 1)
        column.addWidget(self.state_label)
        column.addWidget(self.reason_label)
        scroll = QScrollArea()
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.settings_panel)
        scroll.setWidgetResizable(True)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setSizes([700, 340])  # the list gets the room; scaled to the real width when shown
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.setAcceptDrops(True)

        self.retranslate()
        ctx.listen("models", self.refresh)
        ctx.listen("model", self._show_state, with_state=True)
        self._show_state(ctx.engine.models.loaded())
        # The built-in model is registered on first use; do that off the UI thread, then list.
        ctx.runner.run(ctx.engine.models.default, key="models:default", on_done=lambda _: self.refresh(),
                       on_error=self._no_builtin)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self._show_state(self.ctx.engine.models.loaded())
            self.refresh()  # the kinds and "Loaded" are written in the language of the moment
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.hint.setText(self.tr("Chat models and LoRA adapters in GGUF format. Add a file with the button "
                                  "or drop .gguf files onto this page; Bunko keeps them where they are."))
        self.get_button.setText(self.tr("Get models…"))
        self.empty.set_texts(self.tr("No chat model yet"),
                             self.tr("Bunko needs a chat model to answer. Get one that suits this computer "
                                     "(Japanese-capable ones are marked), or add a GGUF file you already have."),
                             self.tr("Get models…"))
        self.answerer.setText(answerer_with_fix(self.advice) if self.advice else "")
        self.add_button.setText(self.tr("Add GGUF file…"))
        self.load_button.setText(self.tr("Load"))
        self.remove_button.setText(self.tr("Remove…"))
        self.server_button.setText(self.tr("Add from a server"))
        self.endpoint_action.setText(self.tr("Endpoint…"))
        self.gpu_action.setText(self.tr("On a GPU server…"))
        self.stop_button.setText(self.tr("Stop server"))
        self.tree.setHeaderLabels([self.tr("Name"), self.tr("Kind"), self.tr("Size"), self.tr("Quantization"),
                                   self.tr("Context"), self.tr("Chat template"), self.tr("Base model"),
                                   self.tr("In use"), self.tr("Runs on"), self.tr("Last speed")])

    def _make_tree(self) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setColumnCount(10)
        tree.setRootIsDecorated(False)
        tree.setSortingEnabled(True)
        tree.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the registry's order until a header is clicked
        tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        tree.setAlternatingRowColors(True)
        tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        tree.itemSelectionChanged.connect(self._update_buttons)
        tree.itemActivated.connect(lambda *_: self.load_selected())
        return tree

    # -- public --------------------------------------------------------------------
    def refresh(self) -> None:
        """List the models again (in the background)."""
        # Held weakly: a page closed meanwhile (the app quitting) must not be shown anything.
        self.ctx.runner.run(self.ctx.engine.models.list, key="models:list", on_done=while_alive(self, "_fill"),
                            on_error=while_alive(self, "_list_failed"))
        self.ctx.runner.run(self.ctx.engine.chat.model_advice, key="models:advice",
                            on_done=while_alive(self, "_set_advice"),
                            on_error=lambda exc: log.warning("which model answers: %s", exc))

    def _list_failed(self, exc: BaseException) -> None:
        self.ctx.show_error(exc, self)

    def _set_advice(self, advice: ModelAdvice) -> None:
        self.advice = advice
        self.answerer.setText(answerer_with_fix(advice))

    def open_catalog(self):
        """The catalog dialog: download a model (the only network use) or import a folder."""
        from .catalog_dialog import CatalogDialog

        dialog = CatalogDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Add a GGUF model or adapter"), "",
                                              self.tr("GGUF models (*.gguf);;All files (*)"))
        if path:
            self.add_model_file(path)

    def add_model_file(self, path: str | Path, base: str | None = None) -> None:
        """Register a GGUF file; for an adapter, ask which model it belongs to (unless `base` is given)."""
        path = str(path)
        if base is not None:
            self.ctx.runner.run(self.ctx.engine.models.add_adapter, path, base, on_done=self._added,
                                on_error=lambda exc: self.ctx.show_error(exc, self))
        else:
            self.ctx.runner.run(self.ctx.engine.models.add, path, on_done=self._added,
                                on_error=lambda exc: self._add_failed(path, exc))

    def selected_name(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(self.NAME, Qt.ItemDataRole.UserRole) if item is not None else None

    def select(self, name: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(self.NAME, Qt.ItemDataRole.UserRole) == name:
                self.tree.setCurrentItem(item)
                return
        self._select = name

    def load_selected(self) -> None:
        """Load the selected model (an adapter: its base, with the adapter attached) in the background."""
        name = self.selected_name()
        if name:
            self.load(name)

    def load(self, name: str, scale: float = 1.0) -> None:
        info = self.models.get(name)
        settings = self.ctx.settings.loading()
        self.loading = name
        self.state_label.setText(self.tr("Loading {name}…").format(name=name))
        self.reason_label.clear()
        self._update_buttons()
        if info is not None and info.kind == "adapter":
            self.ctx.runner.run(self._load_with_adapter, info.base_model, name, settings, scale, key="model",
                                on_done=self._loaded, on_error=self._load_failed)
        else:
            self.ctx.runner.run(self.ctx.engine.models.load, name, settings, key="model",
                                on_done=self._loaded, on_error=self._load_failed)

    def reload(self) -> None:
        """Load the current model again, so changed loading settings apply."""
        state = self.ctx.engine.models.loaded()
        if state is None:
            self.load_selected()
        elif state.adapter:
            self.load(state.adapter, state.adapter_scale)
        else:
            self.load(state.model)

    def remove(self, name: str | None = None) -> None:
        """Forget a model or adapter after asking; the user's file stays on disk."""
        name = name or self.selected_name()
        info = self.models.get(name) if name else None
        if info is None or info.builtin:
            return
        path = Path(info.path)
        if path.resolve().is_relative_to((data_dir() / "models").resolve()):
            file_note = self.tr("Bunko made this file, so it is deleted too: {path}").format(path=path)
        else:
            file_note = self.tr("Your file is not deleted: {path}").format(path=path)
        answer = QMessageBox.question(self, self.tr("Remove model"), self.tr(
            "Remove “{name}” from Bunko's list?").format(name=name) + "\n\n" + file_note)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.ctx.runner.run(self.ctx.engine.models.remove, name, on_done=lambda _: self._removed(name),
                            on_error=lambda exc: self.ctx.show_error(exc, self))

    # -- the list ------------------------------------------------------------------
    def _fill(self, models: list) -> None:
        selected = self._select or self.selected_name()
        self._select = None
        self.models = {m.name: m for m in models}
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        for m in models:
            adapter = m.kind == "adapter"
            kind = self.tr("Adapter") if adapter else (self.tr("Model (built in)") if m.builtin else self.tr("Model"))
            if m.location == "endpoint":
                kind = self.tr("Model (endpoint)")
            elif m.location == "ssh":
                kind = self.tr("Model (GPU server)")
            item = _Item([m.name, kind, human_size(m.size), m.quantization or "",
                          "" if adapter or not m.context_length else f"{m.context_length:,}",
                          "" if adapter else TEMPLATE_LABELS.get(m.template, m.template), m.base_model or "", ""])
            item.setData(self.NAME, Qt.ItemDataRole.UserRole, m.name)
            item.setData(self.SIZE, SORT, m.size or 0)
            item.setData(self.CONTEXT, SORT, m.context_length or 0)
            item.setToolTip(self.NAME, m.path if m.location == "local" else self.tr("Runs on {where}").format(
                where=m.where))
            self.tree.addTopLevelItem(item)
        self.tree.setSortingEnabled(True)
        no_model = not any(m.kind == "model" for m in models)
        self.empty.setVisible(no_model)
        self.tree.setVisible(not no_model)
        self._mark_in_use(self.ctx.engine.models.loaded())
        self.ctx.runner.run(self.ctx.engine.conversations.last_runs, key="models:runs", on_done=self._show_runs,
                            on_error=lambda exc: log.warning("no speeds for the Models page: %s", exc))
        if selected in self.models:
            self.select(selected)
        elif models and self.tree.currentItem() is None:
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self._update_buttons()

    def _show_runs(self, runs: dict) -> None:
        self.runs = runs
        self._mark_in_use(self.ctx.engine.models.loaded())

    def _runs_on(self, info, state) -> str:
        """Where a model runs and its GPU offload: the loaded one's now, else its last answer's."""
        if info.location == "endpoint":
            return info.path   # the server decides its own offload
        where = self.tr("This PC") if info.location == "local" else str((info.remote or {}).get("label", "?"))
        offload = state.offload if state is not None and state.model == info.name else \
            (self.runs.get(info.name) or {}).get("ran_on")
        if not offload or info.kind == "adapter":
            return where
        if offload.startswith("CPU"):
            offload = self.tr("CPU")
        elif ":" not in offload:   # this PC's planner says "all 30 layers", "12/28 layers"
            offload = self.tr("GPU, {layers}").format(layers=offload)
        return f"{where} · {offload}"

    def _mark_in_use(self, state) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            name = item.data(self.NAME, Qt.ItemDataRole.UserRole)
            info = self.models.get(name)
            if info is not None:
                item.setText(self.RUNS_ON, self._runs_on(info, state))
                run = self.runs.get(name)
                item.setText(self.SPEED, self.tr("{n:.1f} tokens/s").format(n=run["tokens_per_second"]) if run else "")
                item.setData(self.SPEED, SORT, run["tokens_per_second"] if run else 0.0)
                item.setTextAlignment(self.SPEED, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(self.SPEED, self.tr("Measured on its last answer ({when})").format(
                    when=str(run["at"])[:16]) if run else self.tr("No answer measured yet"))
            text = ""
            if state is not None and name == state.model:
                text = self.tr("Loaded")
            elif state is not None and name == state.adapter:
                text = self.tr("Attached ({scale:g}×)").format(scale=state.adapter_scale)
            item.setText(self.USE, text)
            item.setData(self.USE, TONE_ROLE, ("success" if name == state.model else "accent") if text else None)
            font = item.font(self.NAME)
            font.setBold(bool(text))
            for column in range(self.tree.columnCount()):
                item.setFont(column, font)

    def in_use(self) -> dict[str, str]:
        """name -> what the "In use" column says, for the rows that say something."""
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return {it.data(self.NAME, Qt.ItemDataRole.UserRole): it.text(self.USE) for it in items if it.text(self.USE)}

    def _update_buttons(self) -> None:
        info = self.models.get(self.selected_name() or "")
        self.load_button.setEnabled(info is not None and self.loading is None)
        self.remove_button.setEnabled(info is not None and not info.builtin)
        self.stop_button.setEnabled(info is not None and info.location == "ssh")
        self.remove_button.setToolTip(self.tr("The built-in model cannot be removed.")
                                      if info is not None and info.builtin else "")
        self.settings_panel.reload_button.setEnabled(self.ctx.engine.models.loaded() is not None and self.loading is None)

    def _no_builtin(self, exc: BaseException) -> None:
        """No built-in model is not an error worth a dialog: say so on the page."""
        log.info("no built-in model: %s", exc)
        self.note.setText(str(exc))
        self.note.show()
        self.refresh()

    # -- adding and removing ---------------------------------------------------------
    def _add_failed(self, path: str, exc: BaseException) -> None:
        if not needs_base(exc):
            self.ctx.show_error(exc, self)
            return
        bases = [m.name for m in self.models.values() if m.kind == "model"]
        if not bases:
            self.ctx.show_error(ModelError(self.tr(
                "{file} is a LoRA adapter, and Bunko has no model to attach it to. Add its base model first.")
                .format(file=Path(path).name)), self)
            return
        state = self.ctx.engine.models.loaded()
        current = state.model if state is not None else self.ctx.settings.model
        base, ok = QInputDialog.getItem(
            self, self.tr("Which model is this adapter for?"),
            self.tr("{file} is a LoRA adapter. Choose the model it was trained on:").format(file=Path(path).name),
            bases, bases.index(current) if current in bases else 0, False)
        if ok and base:
            self.add_model_file(path, base=base)

    def _added(self, info) -> None:
        self._select = info.name
        self.ctx.notify("models")
        self.ctx.status.emit(self.tr("Added {name}.").format(name=info.name))

    def _removed(self, name: str) -> None:
        self.ctx.notify("models")
        self.ctx.status.emit(self.tr("Removed {name} from the list.").format(name=name))

    # -- loading ---------------------------------------------------------------------
    def _load_with_adapter(self, base: str, adapter: str, settings, scale: float):  # on a worker thread
        self.ctx.engine.models.load(base, settings)
        self.ctx.engine.models.attach_adapter(adapter, scale)
        return self.ctx.engine.models.loaded()

    def _loaded(self, state) -> None:
        self.loading = None
        self.ctx.settings.model = state.model
        self.ctx.notify("model", state)
        self.ctx.status.emit(self.tr("{name} is loaded.").format(name=state.adapter or state.model))

    def _load_failed(self, exc: BaseException) -> None:
        self.loading = None
        self.ctx.notify("model", self.ctx.engine.models.loaded())  # a failed load may have unloaded the old one
        self.ctx.show_error(exc, self)

    def _show_state(self, state) -> None:
        if self.loading is not None:
            return  # "Loading…" stays until that load ends
        if state is None:
            self.state_label.setText(self.tr("No model is loaded. Select one and press Load; a chat also loads "
                                             "its model when it first needs it."))
            self.reason_label.clear()
        else:
            name = state.model if not state.adapter else self.tr("{model} with the adapter {adapter}").format(
                model=state.model, adapter=state.adapter)
            self.state_label.setText(self.tr(
                "Loaded: {name}. Context {n_ctx} tokens, {threads} threads, GPU offload: {offload}.").format(
                name=name, n_ctx=f"{state.n_ctx:,}", threads=state.n_threads, offload=state.offload))
            self.reason_label.setText(state.offload_reason or "")
            if state.where != "this computer":
                self.reason_label.setText(self.tr("Answers come from {where}.").format(where=state.where))
        self._mark_in_use(state)
        self._update_buttons()

    # -- models on a server -------------------------------------------------------------
    def add_endpoint(self) -> None:
        from .remote_dialogs import EndpointDialog

        self._added_remote(EndpointDialog(self.ctx, self))

    def add_on_gpu_server(self) -> None:
        from .remote_dialogs import GpuServerDialog

        self._added_remote(GpuServerDialog(self.ctx, self))

    def _added_remote(self, dialog) -> None:
        if dialog.exec() and dialog.added is not None:
            self._added(dialog.added)
            self.what_leaves_notice(dialog.added.where)

    def what_leaves_notice(self, where: str) -> None:
        """Said once, when the first model on a server is added: what goes there, what stays."""
        if self.ctx.settings.get("remote_notice_shown", False, bool):
            return
        self.ctx.settings.set("remote_notice_shown", True)
        QMessageBox.information(self, self.tr("What leaves this computer"), self.tr(
            "Answers from this model come from {where}.\n\nSent there with each question: the question, the "
            "earlier turns of the conversation and the passages Bunko retrieved for it from your libraries.\n\n"
            "Not sent: your documents and folders, the index, other conversations and the database; "
            "API keys stay in the system keyring.").format(where=where))

    def stop_server(self) -> None:
        name = self.selected_name()
        if name:
            self.ctx.runner.run(self.ctx.engine.models.stop_remote, name,
                                on_done=lambda _: self._stopped(name), on_error=lambda exc: self.ctx.show_error(exc, self))

    def _stopped(self, name: str) -> None:
        self.ctx.notify("model", self.ctx.engine.models.loaded())
        self.ctx.status.emit(self.tr("Stopped the server of {name}.").format(name=name))

    # -- drag and drop (DropPaths) ------------------------------------------------------
    def accepts_path(self, path: Path) -> bool:
        return path.suffix.lower() == ".gguf" and path.is_file()

    def take_path(self, path: Path) -> None:
        self.add_model_file(path)
