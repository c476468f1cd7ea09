"""The main window: navigation on the left, the pages in a stack, a status bar, menus.

Only the chat page is built before the window first shows; the others are built
right after (create_pages) or when first asked for, which keeps the start quick.
"""

from __future__ import annotations

import importlib
import logging

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QMainWindow, QMessageBox, QProgressBar, QStackedWidget,
                               QToolButton, QVBoxLayout, QWidget)

import engine.api as api

from . import theme
from .i18n import Retranslating
from .theme import metrics as m

log = logging.getLogger(__name__)

# name, module (inside desktop/), class
PAGES = (("chat", ".chat", "ChatPage"), ("libraries", ".library", "LibrariesPage"),
         ("models", ".models", "ModelsPage"), ("finetune", ".finetune", "FinetunePage"),
         ("compare", ".compare", "ComparePage"), ("settings", ".settings_page", "SettingsPage"))
NUMBERED = ("chat", "libraries", "models", "finetune", "compare")   # Ctrl+1 … Ctrl+5
ICONS = {"chat": "chat", "libraries": "library", "models": "models", "finetune": "finetune",
         "compare": "compare", "settings": "settings"}
COLLAPSED_KEY = "window/navigation_collapsed"
NAV_ICON = 20


def _shortcuts(*keys) -> list[QKeySequence]:
    """Standard keys first; fallbacks for platforms where a standard key is empty."""
    seen, out = set(), []
    for key in keys:
        for seq in (QKeySequence.keyBindings(key) if isinstance(key, QKeySequence.StandardKey)
                    else [QKeySequence(key)]):
            if not seq.isEmpty() and seq.toString() not in seen:
                seen.add(seq.toString())
                out.append(seq)
    return out


def build_description() -> str:
    """"CPU build" or "CUDA build", as far as the engine can tell."""
    check = getattr(api, "gpu_offload_supported", None)
    try:
        return "CUDA" if check is not None and check() else "CPU"
    except Exception:  # an unusable GPU library still leaves a working CPU app
        log.debug("GPU offload check failed", exc_info=True)
        return "CPU"


def gpu_found() -> bool:
    """Whether an NVIDIA GPU is present (nvidia-smi answers), as far as the engine can tell."""
    check = getattr(api, "gpu_present", None)
    try:
        return bool(check is not None and check())
    except Exception:
        log.debug("GPU check failed", exc_info=True)
        return False


class MainWindow(Retranslating, QMainWindow):
    def __init__(self, ctx) -> None:
        super().__init__()
        self.ctx = ctx
        self._pages: dict[str, QWidget] = {}
        self._holders: dict[str, QVBoxLayout] = {}
        self._model_state = None
        self._progress = None

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFrameShape(QFrame.Shape.NoFrame)
        self.nav.setIconSize(QSize(NAV_ICON, NAV_ICON))
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.nav.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QStackedWidget()
        for name, _module, _cls in PAGES:
            holder = QWidget()
            layout = QVBoxLayout(holder)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(0)
            self._holders[name] = layout
            self.stack.addWidget(holder)
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.nav.addItem(item)
        self._build_hint()
        self.nav.currentRowChanged.connect(self._on_nav)

        self._build_sidebar()
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self._build_status_bar()
        self._build_actions()
        self._build_menus()
        self.retranslate()

        ctx.listen("model", self._on_model_state, with_state=True)
        ctx.indexing.connect(self._on_indexing)
        ctx.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        ctx.chat_with_adapter.connect(self.chat_with_adapter)

        self.resize(1100, 720)
        geometry = ctx.settings.get("window/geometry")
        if geometry is not None:
            try:
                self.restoreGeometry(geometry)
            except TypeError:
                log.info("saved window geometry ignored")
        self.show_page("chat")
        self.set_navigation_collapsed(bool(ctx.settings.get(COLLAPSED_KEY, False, bool)))
        self.refresh_hint()
        theme.notifier().changed.connect(self._paint_icons)

    # -- pages -------------------------------------------------------------------
    def page(self, name: str) -> QWidget:
        """The page called `name`, built on first use."""
        if name not in self._pages:
            module, cls = next((m, c) for n, m, c in PAGES if n == name)
            self._pages[name] = self._make_page(name, module, cls)
            self._holders[name].addWidget(self._pages[name], 1)
        return self._pages[name]

    def _make_page(self, name: str, module: str, cls: str) -> QWidget:
        try:
            page_class = getattr(importlib.import_module(module, "desktop"), cls, None)
        except ModuleNotFoundError as exc:
            if exc.name is None or not ("desktop" + module).startswith(exc.name):
                raise
            page_class = None
        if page_class is None:
            log.warning("page %s is missing from this build", name)
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setProperty("missing", True)
            label.setText(self.tr("This page is not available in this build."))
            return label
        return page_class(self.ctx)

    def create_pages(self) -> None:
        for name, _module, _cls in PAGES:
            self.page(name)

    def show_page(self, name: str) -> QWidget:
        page = self.page(name)
        row = [n for n, _m, _c in PAGES].index(name)
        self.nav.setCurrentRow(row)
        return page

    def current_page_name(self) -> str:
        return PAGES[self.stack.currentIndex()][0]

    def _on_nav(self, row: int) -> None:
        if row < 0:
            return
        self.page(PAGES[row][0])
        self.stack.setCurrentIndex(row)

    def _call(self, page_name: str, method: str, *args, show: bool = True):
        page = self.show_page(page_name) if show else self.page(page_name)
        fn = getattr(page, method, None)
        if fn is None:
            log.warning("%s page has no %s()", page_name, method)
            return None
        return fn(*args)

    # -- navigation ----------------------------------------------------------------
    def _build_sidebar(self) -> None:
        """The page list with icons and labels; a toggle at the bottom folds it to icons."""
        self.sidebar = QFrame()
        self.sidebar.setObjectName("sidebar")
        self.brand = QLabel("文庫 Bunko")
        self.brand.setObjectName("brand")
        self.collapse_button = QToolButton()
        self.collapse_button.setObjectName("collapseNavigation")
        self.collapse_button.setCheckable(True)
        self.collapse_button.setIconSize(QSize(18, 18))
        self.collapse_button.toggled.connect(self.set_navigation_collapsed)
        column = QVBoxLayout(self.sidebar)
        column.setContentsMargins(m.S, m.M, m.S, m.S)
        column.setSpacing(m.S)
        column.addWidget(self.brand)
        column.addWidget(self.nav, 1)
        column.addWidget(self.collapse_button, 0, Qt.AlignmentFlag.AlignLeft)
        self._paint_icons()

    def _paint_icons(self, *_args) -> None:
        for row, (name, _m, _c) in enumerate(PAGES):
            self.nav.item(row).setIcon(theme.icon(ICONS[name]))
        self.collapse_button.setIcon(theme.icon("expand" if self.navigation_collapsed() else "collapse"))

    def navigation_collapsed(self) -> bool:
        return self.collapse_button.isChecked()

    def set_navigation_collapsed(self, collapsed: bool) -> None:
        """Icons only (the names become tooltips), or icons and names; remembered."""
        if self.collapse_button.isChecked() != collapsed:
            self.collapse_button.setChecked(collapsed)  # comes back here through toggled
            return
        self.ctx.settings.set(COLLAPSED_KEY, collapsed)
        self.brand.setText("文庫" if collapsed else "文庫 Bunko")
        self._label_navigation()
        self._paint_icons()
        self._fit_navigation()

    def _label_navigation(self) -> None:
        collapsed = self.navigation_collapsed()
        for row, (name, _m, _c) in enumerate(PAGES):
            item = self.nav.item(row)
            label = self._nav_names[name]
            item.setText("" if collapsed else label)
            item.setToolTip(label if collapsed else "")
            item.setData(Qt.ItemDataRole.AccessibleTextRole, label)
        self.collapse_button.setToolTip(self.tr("Show page names") if collapsed else self.tr("Show icons only"))
        self.collapse_button.setAccessibleName(self.collapse_button.toolTip())

    def _fit_navigation(self) -> None:
        """As wide as the longest page name in this language (Japanese names are shorter), no wider."""
        metrics = self.nav.fontMetrics()
        chrome = NAV_ICON + 2 * m.S + 2 * 2 + 10  # icon, item padding, focus border, icon gap
        if self.navigation_collapsed():
            width = chrome
        else:
            bold = self.nav.font()
            bold.setWeight(bold.Weight.DemiBold)
            widest = max(type(metrics)(bold).horizontalAdvance(text) for text in self._nav_names.values())
            width = max(chrome + widest + m.S, self.brand.sizeHint().width())
        self.nav.setFixedWidth(width)

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange) and hasattr(self, "_nav_names"):
            self._fit_navigation()
        super().changeEvent(event)

    # -- first-run guide -------------------------------------------------------------
    def _build_hint(self) -> None:
        from .first_run import FirstRunGuide

        self.hint = FirstRunGuide(self.ctx)
        self.hint.add_folder.connect(self.add_folder)
        self.hint.get_models.connect(lambda: self._call("models", "open_catalog"))
        self.hint.sample_question.connect(lambda text: self._call("chat", "fill_question", text))
        self._holders["chat"].addWidget(self.hint)

    def refresh_hint(self) -> None:
        self.hint.refresh()

    # -- status bar --------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.index_label = QLabel()
        self.index_bar = QProgressBar()
        self.index_bar.setMaximumWidth(160)
        self.index_bar.setTextVisible(False)
        self.model_label = QLabel()
        for widget in (self.index_label, self.index_bar):
            widget.hide()
            bar.addPermanentWidget(widget)
        bar.addPermanentWidget(self.model_label)

    def _on_model_state(self, state) -> None:
        self._model_state = state
        self._show_model()

    def _show_model(self) -> None:
        state = self._model_state
        if state is None:
            self.model_label.setText(self.tr("No model loaded"))
            self.model_label.setToolTip("")
            return
        parts = [self.tr("Model: {name}").format(name=state.model)]
        if state.adapter:
            parts.append(self.tr("adapter {name}").format(name=state.adapter))
        offload = self.tr("CPU") if state.offload == "CPU" else self.tr("GPU: {layers}").format(layers=state.offload)
        parts.append(offload)
        tip = state.offload_reason
        if state.safe_settings:   # llama.cpp's defaults crashed here: see Settings → System
            parts.append(self.tr("safe settings"))
            tip += "\n" + self.tr("Safe settings: {why}").format(why=state.safe_settings)
        self.model_label.setText(" · ".join(parts))
        self.model_label.setToolTip(tip)

    def _on_indexing(self, progress) -> None:
        self._progress = progress
        self._show_indexing()
        if progress is not None and progress.phase == "done":
            QTimer.singleShot(4000, self._hide_indexing_if_done)

    def _hide_indexing_if_done(self) -> None:
        if self._progress is None or self._progress.phase == "done":
            self._progress = None
            self._show_indexing()

    def _show_indexing(self) -> None:
        p = self._progress
        busy = p is not None
        self.index_label.setVisible(busy)
        self.index_bar.setVisible(busy and p.phase != "done")
        if not busy:
            return
        if p.phase == "scanning":
            self.index_label.setText(self.tr("Scanning {library}…").format(library=p.library))
            self.index_bar.setRange(0, 0)
        elif p.phase == "done":
            self.index_label.setText(self.tr("{library} is up to date").format(library=p.library))
        else:
            text = self.tr("Indexing {library}: {done}/{total} files").format(
                library=p.library, done=p.files_done, total=p.files_total)
            if p.eta_s is not None and p.eta_s >= 1:
                minutes = int(p.eta_s // 60)
                left = (self.tr("about {n} min left").format(n=minutes) if minutes
                        else self.tr("about {n} s left").format(n=int(p.eta_s)))
                text += " · " + left
            self.index_label.setText(text)
            self.index_bar.setRange(0, max(1, p.files_total))
            self.index_bar.setValue(p.files_done)

    # -- actions and menus ---------------------------------------------------------------
    def _action(self, slot, *keys) -> QAction:
        action = QAction(self)
        action.setShortcuts(_shortcuts(*keys))
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_new_chat = self._action(lambda: self._call("chat", "new_conversation"), K.New)
        self.act_search = self._action(lambda: self._call("chat", "focus_search"), K.Find)
        self.act_stop = self._action(self.stop_answer, "Esc")
        self.act_add_folder = self._action(self.add_folder, "Ctrl+O")
        self.act_add_model = self._action(self.add_model, "Ctrl+Shift+O")
        self.act_settings = self._action(lambda: self.show_page("settings"), K.Preferences, "Ctrl+,")
        self.act_quit = self._action(self.close, K.Quit, "Ctrl+Q")
        self.act_quit.setMenuRole(QAction.MenuRole.QuitRole)
        self.act_settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.act_about = self._action(self.about)
        self.act_about.setMenuRole(QAction.MenuRole.AboutRole)
        self.act_pages = [self._action(lambda _=False, n=name: self.show_page(n), f"Ctrl+{i + 1}")
                          for i, name in enumerate(NUMBERED)]

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.menu_file = bar.addMenu("")
        self.menu_file.addActions([self.act_new_chat, self.act_add_folder, self.act_add_model])
        self.menu_file.addSeparator()
        self.menu_file.addAction(self.act_settings)
        self.menu_file.addSeparator()
        self.menu_file.addAction(self.act_quit)
        self.menu_chat = bar.addMenu("")
        self.menu_chat.addActions([self.act_search, self.act_stop])
        self.menu_view = bar.addMenu("")
        self.menu_view.addActions(self.act_pages)
        self.menu_help = bar.addMenu("")
        self.menu_help.addAction(self.act_about)

    def stop_answer(self) -> None:
        chat = self._pages.get("chat")
        if chat is not None and hasattr(chat, "stop"):
            chat.stop()

    def chat_with_adapter(self, model: str, adapter: str) -> None:
        """Use in chat (Fine-tune page): a new chat answering with `adapter` on `model`."""
        self._call("chat", "new_conversation_with", model, adapter)

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder of documents"))
        if folder:
            self._call("libraries", "add_folder", folder)

    def add_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a model file"), "",
                                              self.tr("GGUF models (*.gguf);;All files (*)"))
        if path:
            self._call("models", "add_model_file", path)

    def about(self) -> None:
        QMessageBox.about(self, self.tr("About Bunko"), self.about_text())

    def about_text(self) -> str:
        cuda = build_description() == "CUDA"
        build = self.tr("CUDA build (can use an NVIDIA GPU)") if cuda else self.tr("CPU build")
        if not cuda and gpu_found():
            build += self.tr("<br>This computer has an NVIDIA GPU, which this build does not use. "
                             "The CUDA build of Bunko (the download whose name ends in "
                             "<i>-cuda</i>) answers much faster with it.")
        return self.tr("<h3>Bunko (文庫) {version}</h3><p>{build}</p>"
                       "<p>Chat privately with local language models about your own documents. "
                       "Nothing leaves this computer.</p><p>Licence: Apache-2.0</p>").format(
            version=api.__version__, build=build)

    # -- language ------------------------------------------------------------------------
    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Bunko"))
        names = {"chat": self.tr("Chat"), "libraries": self.tr("Libraries"),
                 "models": self.tr("Models"), "finetune": self.tr("Fine-tune"), "compare": self.tr("Compare"),
                 "settings": self.tr("Settings")}
        self._nav_names = names
        self._label_navigation()
        self._fit_navigation()
        for action, name in zip(self.act_pages, NUMBERED):
            action.setText(names[name])
        self.menu_file.setTitle(self.tr("&File"))
        self.menu_chat.setTitle(self.tr("&Chat"))
        self.menu_view.setTitle(self.tr("&View"))
        self.menu_help.setTitle(self.tr("&Help"))
        self.act_new_chat.setText(self.tr("New chat"))
        self.act_search.setText(self.tr("Search conversations"))
        self.act_stop.setText(self.tr("Stop answer"))
        self.act_add_folder.setText(self.tr("Add folder…"))
        self.act_add_model.setText(self.tr("Add model…"))
        self.act_settings.setText(self.tr("Settings…"))
        self.act_quit.setText(self.tr("Quit"))
        self.act_about.setText(self.tr("About Bunko"))
        for page in self._pages.values():
            if page.property("missing"):
                page.setText(self.tr("This page is not available in this build."))
        self._show_model()
        self._show_indexing()

    # -- window --------------------------------------------------------------------------
    def bring_to_front(self) -> None:
        """A second start of the app asked for this window."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event) -> None:
        self.ctx.settings.set("window/geometry", self.saveGeometry())
        # Stop answers and indexing; the app then waits for the runner and closes the engine.
        for name in ("chat", "libraries", "models", "finetune", "compare"):
            stop = getattr(self._pages.get(name), "shutdown", None)
            if stop is not None:
                try:
                    stop()
                except Exception:
                    log.exception("%s page did not shut down cleanly", name)
        super().closeEvent(event)
