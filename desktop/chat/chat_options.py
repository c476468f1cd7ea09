"""How a conversation answers: from the model alone, from libraries (RAG), with a LoRA
adapter, or both; which model; and the conversation's system prompt."""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFrame, QHBoxLayout,
                               QLabel, QMenu, QPlainTextEdit, QPushButton, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from .. import theme
from ..i18n import Retranslating
from ..theme import metrics as m

MODEL_ALONE, LIBRARIES, ADAPTER, BOTH = range(4)


@dataclass(frozen=True)
class ChatOptions:
    libraries: tuple[str, ...] = ()
    model: str | None = None          # None: the loaded or default model
    adapter: str | None = None
    adapter_scale: float = 1.0
    system_prompt: str | None = None

    def fields(self) -> dict:
        """Keyword arguments for engine.conversations.update / create."""
        return {"libraries": self.libraries, "model": self.model, "adapter": self.adapter,
                "adapter_scale": self.adapter_scale, "system_prompt": self.system_prompt}

    @classmethod
    def of(cls, conversation) -> ChatOptions:
        return cls(tuple(conversation.libraries), conversation.model, conversation.adapter,
                   float(conversation.adapter_scale), conversation.system_prompt)


class SystemPromptDialog(QDialog):
    def __init__(self, text: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("System prompt"))
        self.resize(480, 260)
        self.editor = QPlainTextEdit(text or "")
        self.editor.setPlaceholderText(self.tr("For example: Answer in Japanese, briefly, as our HR desk."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Instructions the model reads before every question in this chat:")))
        layout.addWidget(self.editor, 1)
        layout.addWidget(buttons)

    def text(self) -> str | None:
        return self.editor.toPlainText().strip() or None


class OptionsBar(Retranslating, QFrame):
    """One bar over the chat: where answers come from, which libraries, the model (and
    adapter), and the system prompt; each control says what it is in its tooltip."""

    changed = Signal(object)  # ChatOptions, when the user changes something

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loaded = False        # the libraries and models have arrived
        self.library_names: list[str] = []
        self.models: list = []     # engine ModelInfo
        self.default_model: str | None = None
        self._options = ChatOptions()
        self._use_defaults = True  # a new chat that the user has not changed yet
        self._setting = False

        self.mode = QComboBox()
        self.mode.addItems(self._mode_texts())
        self.libraries_button = QToolButton()
        self.libraries_button.setProperty("kind", "field")
        self.libraries_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.libraries_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.libraries_menu = QMenu(self)
        self.libraries_button.setMenu(self.libraries_menu)
        self.adapter = QComboBox()
        self.scale = QDoubleSpinBox()
        self.scale.setRange(0.0, 2.0)
        self.scale.setSingleStep(0.1)
        self.scale.setValue(1.0)
        self.model = QComboBox()
        self.prompt_text = ""
        self.prompt_button = QPushButton()
        self.prompt_button.setCheckable(True)  # checked = this chat has one
        self.prompt_button.clicked.connect(self.edit_system_prompt)

        self.setObjectName("optionsBar")
        # Long model and adapter names are elided in the bar (the list shows them whole): each
        # asks for a few characters and grows into the room there is, up to a cap, so a long
        # name or the longer Japanese labels never make the chat wider than a 1280 px window.
        for box, chars, widest in ((self.model, 12, 340), (self.adapter, 10, 260)):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(chars)
            box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            box.setMaximumWidth(widest)
        self.mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.prompt_button.setIconSize(QSize(16, 16))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(m.S, m.XS + 2, m.S, m.XS + 2)
        layout.setSpacing(m.S)
        for w in (self.mode, self.libraries_button, self.model, self.adapter, self.scale):
            layout.addWidget(w, 10 if w in (self.model, self.adapter) else 0)   # names take the room first
        layout.addStretch(1)
        layout.addWidget(self.prompt_button)
        self._paint_icons()
        theme.notifier().changed.connect(self._paint_icons)
        self._set_texts()
        self.prompt_button.setText(self.prompt_text)
        self.prompt_button.setMinimumWidth(self._compact_prompt_width())

        self.mode.currentIndexChanged.connect(self._on_mode)
        self.adapter.currentIndexChanged.connect(self._emit)
        self.scale.valueChanged.connect(self._emit)
        self.model.currentIndexChanged.connect(self._on_model)
        self._fill_models()
        self._show(self._options)

    def _mode_texts(self) -> list[str]:
        return [self.tr("Model alone"), self.tr("Libraries (RAG)"), self.tr("LoRA adapter"),
                self.tr("Libraries + LoRA adapter")]

    def _set_texts(self) -> None:
        self.mode.setToolTip(self.tr("Where answers come from"))
        self.libraries_button.setToolTip(self.tr("Libraries this chat answers from"))
        self.adapter.setToolTip(self.tr("LoRA adapter (trained for the selected model)"))
        self.scale.setToolTip(self.tr("How strongly the adapter changes the model (1.0 = as trained)"))
        self.model.setToolTip(self.tr("Chat model"))
        self.prompt_text = self.tr("System prompt…")
        self.prompt_button.setAccessibleName(self.prompt_text)

    def retranslate(self) -> None:
        """The language changed while the app runs: the same choices, in the new words."""
        self._setting = True
        for i, text in enumerate(self._mode_texts()):
            self.mode.setItemText(i, text)
        self._set_texts()
        if self.model.count():
            self.model.setItemText(0, self.tr("Default model ({name})").format(name=self.default_model)
                                   if self.default_model else self.tr("Default model"))
        if self.adapter.count() and self.adapter.itemData(0) is None:
            self.adapter.setItemText(0, self.tr("No adapter for this model"))
        self._fill_libraries(self._options.libraries)
        self._setting = False
        self.prompt_button.setToolTip(self._options.system_prompt or self.tr("No system prompt"))
        self.prompt_button.setText(self.prompt_text)
        self.prompt_button.setMinimumWidth(self._compact_prompt_width())
        self._fit_prompt_button()

    # -- fitting the bar ------------------------------------------------------------
    def _compact_prompt_width(self) -> int:
        text = self.prompt_button.text()
        self.prompt_button.setText("")
        width = self.prompt_button.sizeHint().width()
        self.prompt_button.setText(text)
        return width

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_prompt_button()

    def _fit_prompt_button(self) -> None:
        """With every control shown (Japanese labels, a long model name) the bar may have less room
        than it would like: the system prompt button then shows its icon only (the tooltip names it)."""
        layout = self.layout()
        shown = [w for w in (self.mode, self.libraries_button, self.model, self.adapter, self.scale)
                 if w.isVisibleTo(self)]
        margins = layout.contentsMargins()
        used = (sum(w.minimumSizeHint().width() for w in shown) + layout.spacing() * len(shown)
                + margins.left() + margins.right())
        full = self._compact_prompt_width() + self.prompt_button.fontMetrics().horizontalAdvance(self.prompt_text) + m.S
        text = self.prompt_text if self.width() >= used + full else ""
        if self.prompt_button.text() != text:
            self.prompt_button.setText(text)

    def _paint_icons(self, *_args) -> None:
        self.libraries_button.setIcon(theme.icon("library"))
        self.prompt_button.setIcon(theme.icon("prompt"))

    # -- choices from the engine -------------------------------------------------
    def set_choices(self, libraries, models, loaded_model: str | None = None) -> None:
        """Library and model lists arrived (engine.libraries.list(), engine.models.list())."""
        self.library_names = [lib.name for lib in libraries]
        self.models = list(models)
        chat_models = [m for m in self.models if m.kind == "model"]
        builtin = next((m.name for m in chat_models if m.builtin), None)
        self.default_model = loaded_model or builtin or (chat_models[0].name if chat_models else None)
        self.loaded = True
        self._fill_models()
        self.set_options(self.defaults() if self._use_defaults else self._options, defaults=self._use_defaults)

    def defaults(self) -> ChatOptions:
        """A new chat answers from every library when there are any (RAG), else from the model alone."""
        return ChatOptions(libraries=tuple(self.library_names))

    def _fill_models(self) -> None:
        self._setting = True
        self.model.clear()
        default = self.tr("Default model ({name})").format(name=self.default_model) if self.default_model \
            else self.tr("Default model")
        self.model.addItem(default, None)
        for entry in self.models:
            if entry.kind == "model":
                self.model.addItem(entry.name, entry.name)
        self._setting = False

    def _fill_adapters(self, model: str | None, selected: str | None) -> None:
        base = model or self.default_model
        self.adapter.clear()
        chosen = next((m for m in self.models if m.name == base), None)
        # a model on a GPU server runs a GGUF of this PC (same fingerprint): its adapters fit it too
        same_file = {m.name for m in self.models if m.kind == "model" and chosen is not None and
                     chosen.location == "ssh" and chosen.fingerprint and m.fingerprint == chosen.fingerprint}
        names = [m.name for m in self.models if m.kind == "adapter" and (m.base_model == base or m.base_model in same_file)]
        if selected and selected not in names:
            names.insert(0, selected)  # keep the chat's choice visible even if it no longer fits
        if not names:
            self.adapter.addItem(self.tr("No adapter for this model"), None)
        for name in names:
            self.adapter.addItem(name, name)
        self.adapter.setCurrentIndex(max(0, self.adapter.findData(selected)) if selected else 0)

    # -- the conversation's options ---------------------------------------------
    def options(self) -> ChatOptions:
        return self._options

    def set_options(self, options: ChatOptions, defaults: bool = False) -> None:
        """Show a conversation's options (no `changed` signal). `defaults`: a new chat, which
        takes the defaults again when the libraries arrive."""
        self._use_defaults = defaults
        self._options = options
        self._show(options)

    def _show(self, options: ChatOptions) -> None:
        self._setting = True
        try:
            mode = (BOTH if options.adapter else LIBRARIES) if options.libraries else \
                (ADAPTER if options.adapter else MODEL_ALONE)
            self.mode.setCurrentIndex(mode)
            index = self.model.findData(options.model) if options.model else 0
            if index < 0:
                self.model.addItem(options.model, options.model)
                index = self.model.count() - 1
            self.model.setCurrentIndex(index)
            self._fill_adapters(options.model, options.adapter)
            self.scale.setValue(options.adapter_scale)
            self._fill_libraries(options.libraries)
            self.prompt_button.setChecked(bool(options.system_prompt))
            self.prompt_button.setToolTip(options.system_prompt or self.tr("No system prompt"))
            self._show_mode(mode)
        finally:
            self._setting = False

    def _fill_libraries(self, checked) -> None:
        self.libraries_menu.clear()
        for name in sorted(set(self.library_names) | set(checked)):
            action = self.libraries_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name in checked)
            action.toggled.connect(self._emit)
        if not self.library_names:
            none = self.libraries_menu.addAction(self.tr("No libraries yet: add a folder on the Library page"))
            none.setEnabled(False)
        self._label_libraries(checked)

    def _label_libraries(self, checked) -> None:
        if checked and set(checked) >= set(self.library_names):
            text = self.tr("All libraries")
        elif len(checked) == 1:
            text = checked[0]
        else:
            text = self.tr("{n} libraries").format(n=len(checked))
        self.libraries_button.setText(text)

    def _show_mode(self, mode: int) -> None:
        self.libraries_button.setVisible(mode in (LIBRARIES, BOTH))
        self.adapter.setVisible(mode in (ADAPTER, BOTH))
        self.scale.setVisible(mode in (ADAPTER, BOTH))
        self._fit_prompt_button()

    def _checked_libraries(self) -> tuple[str, ...]:
        return tuple(a.text() for a in self.libraries_menu.actions() if a.isCheckable() and a.isChecked())

    # -- the user changes something --------------------------------------------
    def _on_mode(self, mode: int) -> None:
        if self._setting:
            return
        if mode in (LIBRARIES, BOTH) and not self._checked_libraries():
            for action in self.libraries_menu.actions():  # "Libraries" with none chosen means all
                if action.isCheckable():
                    action.blockSignals(True)
                    action.setChecked(True)
                    action.blockSignals(False)
        self._show_mode(mode)
        self._emit()

    def _on_model(self) -> None:
        if self._setting:
            return
        self._setting = True
        self._fill_adapters(self.model.currentData(), None)
        self._setting = False
        self._emit()

    def _emit(self, *_args) -> None:
        if self._setting:
            return
        mode = self.mode.currentIndex()
        libraries = self._checked_libraries() if mode in (LIBRARIES, BOTH) else ()
        adapter = self.adapter.currentData() if mode in (ADAPTER, BOTH) else None
        self._options = replace(self._options, libraries=libraries, model=self.model.currentData(),
                                adapter=adapter, adapter_scale=round(self.scale.value(), 2))
        self._use_defaults = False
        self._label_libraries(libraries)
        self.changed.emit(self._options)

    def edit_system_prompt(self) -> SystemPromptDialog:
        """A small dialog; opened window-modal without blocking the event loop."""
        self.prompt_button.setChecked(bool(self._options.system_prompt))
        dialog = SystemPromptDialog(self._options.system_prompt, self)
        dialog.accepted.connect(lambda: self.set_system_prompt(dialog.text()))
        dialog.open()
        return dialog

    def set_system_prompt(self, text: str | None) -> None:
        self._options = replace(self._options, system_prompt=text or None)
        self.prompt_button.setChecked(bool(text))
        self.prompt_button.setToolTip(text or self.tr("No system prompt"))
        self._use_defaults = False
        self.changed.emit(self._options)
