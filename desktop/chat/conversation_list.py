"""The list of chats, newest first, with search, new, rename and delete."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem,
                               QMessageBox, QPushButton, QToolButton, QVBoxLayout, QWidget)

from .. import theme
from ..common import while_alive
from ..i18n import Retranslating

log = logging.getLogger(__name__)



ID_ROLE = Qt.ItemDataRole.UserRole


class ConversationList(Retranslating, QWidget):
    selected = Signal(int)        # a conversation the user picked
    new_requested = Signal()
    deleted = Signal(int)

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.current_id: int | None = None
        self.loaded = False           # the first list has arrived
        self._filling = False

        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.refresh)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setWordWrap(True)
        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemChanged.connect(self._on_renamed)
        self.new_button = QPushButton()
        self.new_button.clicked.connect(self.new_requested)
        # Rename and Delete as icons (named in their tooltips): the list stays narrow, so the
        # chat beside it keeps its room in a 1280 px window, in Japanese too.
        self.rename_button = QToolButton()
        self.rename_button.clicked.connect(self.start_rename)
        self.delete_button = QToolButton()
        self.delete_button.clicked.connect(self.delete_current)
        for button in (self.rename_button, self.delete_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.retranslate()
        self._paint_icons()
        theme.notifier().changed.connect(self._paint_icons)
        delete_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list)
        delete_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete_key.activated.connect(self.delete_current)

        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(self.rename_button)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def retranslate(self) -> None:
        self.search.setPlaceholderText(self.tr("Search chats"))
        self.new_button.setText(self.tr("New chat"))
        self.new_button.setToolTip(self.tr("Start a new conversation"))
        for button, text in ((self.rename_button, self.tr("Rename")), (self.delete_button, self.tr("Delete"))):
            button.setToolTip(text)
            button.setAccessibleName(text)

    def _paint_icons(self, *_args) -> None:
        self.new_button.setIcon(theme.icon("add"))
        self.rename_button.setIcon(theme.icon("edit"))
        self.delete_button.setIcon(theme.icon("remove"))

    # -- loading -----------------------------------------------------------------
    def refresh(self, *_args) -> None:
        """Ask for the list again (the search text filters titles and messages)."""
        query = self.search.text().strip() or None
        self.ctx.runner.run(self.ctx.engine.conversations.list, query, key="conv-search",
                            on_done=while_alive(self, "_fill"))

    def _fill(self, conversations) -> None:
        self._filling = True
        try:
            self.list.clear()
            for conv in conversations:
                item = QListWidgetItem(conv.title)
                item.setData(ID_ROLE, conv.id)
                item.setToolTip(self.tr("{title}\n{n} messages · {when:%Y-%m-%d %H:%M}").format(
                    title=conv.title, n=conv.n_messages, when=conv.updated_at))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.list.addItem(item)
                if conv.id == self.current_id:
                    self.list.setCurrentItem(item)
        finally:
            self._filling = False
        self.loaded = True
        self._update_buttons()

    def ids(self) -> list[int]:
        return [self.list.item(i).data(ID_ROLE) for i in range(self.list.count())]

    def titles(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def item_for(self, conversation_id: int | None) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            if self.list.item(i).data(ID_ROLE) == conversation_id:
                return self.list.item(i)
        return None

    def set_current(self, conversation_id: int | None) -> None:
        """Highlight a conversation without announcing it (the page already shows it)."""
        self.current_id = conversation_id
        self._filling = True
        item = self.item_for(conversation_id)
        if item is None:
            self.list.setCurrentItem(None)
            self.list.clearSelection()
        else:
            self.list.setCurrentItem(item)
        self._filling = False
        self._update_buttons()

    def _on_current(self, item: QListWidgetItem | None, _previous) -> None:
        self._update_buttons()
        if self._filling or item is None:
            return
        cid = item.data(ID_ROLE)
        if cid != self.current_id:
            self.current_id = cid
            self.selected.emit(cid)

    def _update_buttons(self) -> None:
        has = self.list.currentItem() is not None
        self.rename_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    # -- rename and delete -----------------------------------------------------------
    def start_rename(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _on_renamed(self, item: QListWidgetItem) -> None:
        if not self._filling:
            self.rename(item.data(ID_ROLE), item.text())

    def rename(self, conversation_id: int, title: str) -> None:
        ctx = self.ctx  # not self: see while_alive
        ctx.runner.run(ctx.engine.conversations.rename, conversation_id, title,
                       on_done=lambda _c: ctx.notify("conversations"))

    def delete_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.delete(item.data(ID_ROLE), item.text())

    def delete(self, conversation_id: int, title: str = "") -> None:
        answer = QMessageBox.question(
            self, self.tr("Delete chat"),
            self.tr("Delete the chat “{title}” and all its messages? This cannot be undone.").format(title=title),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.ctx.runner.run(self.ctx.engine.conversations.delete, conversation_id,
                            on_done=while_alive(self, "_after_delete", conversation_id))

    def _after_delete(self, conversation_id: int, _result) -> None:
        self.deleted.emit(conversation_id)
        self.ctx.notify("conversations")
