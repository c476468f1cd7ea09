"""The chat page: conversations on the left; the options bar, the transcript and the
question box on the right. Every engine call runs through ctx.runner; an answer
streams through `runner.stream(..., key="answer")` into one MessageView."""

from __future__ import annotations

import logging
import threading
import weakref

import shiboken6

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from .. import theme
from ..theme import metrics as m

from engine.errors import BunkoError
from engine.types import ModelAdvice, Source

from .chat_options import ChatOptions, OptionsBar
from ..common import while_alive
from ..i18n import Retranslating
from .conversation_list import ConversationList
from .input_box import ChatInput
from .message_view import MessageView
from .transcript import Transcript

log = logging.getLogger(__name__)


def _alive(ref):
    """The widget behind a weak reference, if both still exist."""
    widget = ref()
    return widget if widget is not None and shiboken6.isValid(widget) else None


class ChatPage(Retranslating, QWidget):
    answer_finished = Signal(object)     # engine Answer (complete or stopped)
    answer_failed = Signal(object)       # the exception, already shown to the user
    token_received = Signal(str)         # each streamed piece, for the UI benchmark
    conversation_shown = Signal(int)     # a stored conversation is in the transcript

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.conversation_id: int | None = None   # None: a new chat, not stored until its first question
        self._task = None                         # the streaming answer's runner Task
        self._view: MessageView | None = None     # the streaming answer's view
        self._options_seq = 0
        self._options_written = {"lock": threading.Lock(), "seq": 0}
        self.advice: ModelAdvice | None = None         # engine.chat.model_advice(): which model answers and why

        self.conversations = ConversationList(ctx)
        self.options = OptionsBar()
        self.transcript = Transcript()
        self.input = ChatInput()
        self.send_button = QPushButton(self.tr("Send"))
        self.send_button.setDefault(False)
        self.send_button.setToolTip(self.tr("Send the question (Enter)"))
        self.send_button.setProperty("kind", "primary")
        self.compare_button = QPushButton(self.tr("Side by side…"))
        self.compare_button.setToolTip(self.tr("Ask this question two ways and compare the answers (Ctrl+Shift+B)"))
        QShortcut(QKeySequence("Ctrl+Shift+B"), self, activated=self.open_side_by_side)

        right = QWidget()
        row = QHBoxLayout()
        row.setContentsMargins(m.L, 0, m.L, 0)
        row.setSpacing(m.S)
        row.addWidget(self.input, 1)
        row.addWidget(self.compare_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        column = QVBoxLayout(right)
        column.setContentsMargins(m.S, 0, 0, 0)
        column.setSpacing(m.S)
        column.addWidget(self.options)
        column.addWidget(self.transcript, 1)
        column.addLayout(row)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.conversations)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 760])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(m.M, m.M, m.M, m.M)
        layout.addWidget(splitter)
        self._paint_send()
        theme.notifier().changed.connect(self._paint_send)

        self.input.submitted.connect(self.send)
        self.send_button.clicked.connect(self._send_or_stop)
        self.compare_button.clicked.connect(self.open_side_by_side)
        self.conversations.selected.connect(self.open_conversation)
        self.conversations.new_requested.connect(self.new_conversation)
        self.conversations.deleted.connect(self._on_deleted)
        self.options.changed.connect(self._store_options)
        self.transcript.regenerate_requested.connect(self.regenerate)
        self.transcript.edit_submitted.connect(self.edit_and_resend)
        self.transcript.citation_opened.connect(self._load_scan)
        ctx.listen("conversations", self.conversations.refresh)
        ctx.listen(("libraries", "models", "model"), self.refresh_options)

        self.conversations.refresh()
        self.refresh_options()
        self.new_conversation()

    # -- shortcuts the main window calls -------------------------------------------
    def focus_search(self) -> None:
        self.conversations.search.setFocus()
        self.conversations.search.selectAll()

    def focus_input(self) -> None:
        self.input.setFocus()

    def is_streaming(self) -> bool:
        return self._task is not None

    def fill_question(self, text: str) -> None:
        """Put `text` in the question box, ready to send or change (the first-run guide's sample)."""
        self.input.setPlainText(text)
        self.focus_input()

    def ask_text(self, text: str) -> None:
        """Put `text` in the question box and send it."""
        self.input.setPlainText(text)
        self.send()

    def open_side_by_side(self):
        """The side-by-side window, with the question box's text and this chat's choices as side A."""
        from .side_by_side import SideBySideDialog

        dialog = SideBySideDialog(self.ctx, self.input.toPlainText().strip(), self.options.options(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def stop(self) -> None:
        """Stop the answer; what was generated stays, and its "done" still arrives."""
        if self._task is not None:
            self._task.cancel(drop=False)
            self.ctx.status.emit(self.tr("Stopping the answer…"))

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """The window closes: stop a running answer and let the engine store what it has."""
        task = self._task
        self._abandon()
        if task is not None:
            task.wait(timeout_s)

    # -- conversations --------------------------------------------------------------
    def new_conversation(self) -> None:
        self._abandon()
        self.conversation_id = None
        self.conversations.set_current(None)
        self.transcript.clear()
        self.options.set_options(self.options.defaults(), defaults=True)
        self.focus_input()

    def new_conversation_with(self, model: str | None, adapter: str | None) -> None:
        """A new chat that answers with a LoRA adapter on its base model, from the model
        alone, so that what the adapter learnt shows (Use in chat on the Fine-tune page)."""
        self.new_conversation()
        self.options.set_options(ChatOptions(model=model, adapter=adapter))
        self.ctx.status.emit(self.tr("New chat with the adapter {name}.").format(name=adapter))

    def open_conversation(self, conversation_id: int) -> None:
        """Show a stored conversation; its messages load in the background."""
        if conversation_id == self.conversation_id and self.transcript.views and not self.is_streaming():
            return
        self._abandon()
        self.conversation_id = conversation_id
        self.conversations.set_current(conversation_id)
        self.transcript.clear()
        conversations = self.ctx.engine.conversations
        self.ctx.runner.run(lambda: (conversations.get(conversation_id), conversations.messages(conversation_id)),
                            key="conv-load", on_done=while_alive(self, "_show_conversation"),
                            on_error=while_alive(self, "_load_failed"))

    def _show_conversation(self, loaded) -> None:
        conv, messages = loaded
        if conv.id != self.conversation_id:
            return
        self.transcript.clear()
        for msg in messages:
            if msg.role in ("user", "assistant"):
                self.transcript.add(self._view_for(msg))
        self.options.set_options(ChatOptions.of(conv))
        self.transcript.scroll_to_end()
        self.conversation_shown.emit(conv.id)

    def _load_failed(self, exc: BaseException) -> None:
        self.ctx.show_error(exc, self)
        self.new_conversation()
        self.ctx.notify("conversations")

    def _load_scan(self, preview) -> None:
        """A passage read by OCR: its page image, fetched off the UI thread, goes into the preview."""
        source = preview.source
        if source.chunk_id is None or source.page is None:
            return
        preview.scan_loading()
        self.ctx.runner.run(self.ctx.engine.libraries.page_scan, source.chunk_id, on_done=preview.show_scan,
                            on_error=preview.scan_failed)

    @staticmethod
    def _view_for(message) -> MessageView:
        if message.role == "user":
            return MessageView("user", message.content)
        view = MessageView("assistant")
        view.set_model(message.model, message.adapter)
        view.set_meta(message.stats, message.created_at)
        view.set_citations([Source.from_dict(s) for s in message.sources], message.citations,
                           bool(message.stats.get("citations_inferred")))
        view.set_text(message.content)
        view.set_notices(message.stats.get("notices"))
        if message.status in ("stopped", "streaming"):
            view.set_status("stopped")
        elif message.status == "error":
            view.set_status("error", str(message.stats.get("error", "")))
        return view

    def _on_deleted(self, conversation_id: int) -> None:
        if conversation_id == self.conversation_id:
            self.new_conversation()

    # -- options ---------------------------------------------------------------------
    def refresh_options(self, *_args) -> None:
        engine = self.ctx.engine

        def read():
            state = engine.models.loaded()
            return engine.libraries.list(), engine.models.list(), state.model if state else None

        self.ctx.runner.run(read, key="chat-options",
                            on_done=while_alive(self, "_set_choices"))
        self.ctx.runner.run(engine.chat.model_advice, key="chat-advice", on_done=while_alive(self, "_set_advice"),
                            on_error=lambda exc: log.warning("which model answers: %s", exc))

    def _set_advice(self, advice: ModelAdvice) -> None:
        from ..first_run import answerer_with_fix

        self.advice = advice
        self.transcript.set_answerer(answerer_with_fix(advice))

    def _set_choices(self, loaded) -> None:
        self.options.set_choices(*loaded)

    def _store_options(self, options: ChatOptions) -> None:
        if self.conversation_id is None:
            return  # a new chat: stored with its first question
        conversations, cid, fields = self.ctx.engine.conversations, self.conversation_id, options.fields()
        self._options_seq += 1
        seq, written = self._options_seq, self._options_written

        def store():  # pool threads may run two of these out of order: the newest wins
            with written["lock"]:
                if seq > written["seq"]:
                    conversations.update(cid, **fields)
                    written["seq"] = seq

        self.ctx.runner.run(store)

    # -- asking -----------------------------------------------------------------------
    def _send_or_stop(self) -> None:
        if self.is_streaming():
            self.stop()
        else:
            self.send()

    def send(self) -> None:
        if self.is_streaming():
            return
        text = self.input.toPlainText().strip()
        if not text:
            return
        self.input.clear()
        self.transcript.add(MessageView("user", text))
        self._start("ask", text)

    def regenerate(self, view: MessageView | None = None) -> None:
        """Answer the last question again, replacing the last answer."""
        last = self.transcript.last_answer()
        if self.is_streaming() or self.conversation_id is None or last is None:
            return
        index = self.transcript.views.index(last)
        self.transcript.remove_after(self.transcript.views[index - 1] if index else None)
        self._start("regenerate")

    def edit_and_resend(self, view: MessageView, text: str) -> None:
        """A question was changed: everything after it goes, and it is answered again."""
        if self.is_streaming() or self.conversation_id is None:
            return
        users = [v for v in self.transcript.views if v.role == "user"]
        self.transcript.remove_after(view)
        self._start("edit", text, users.index(view))

    def _start(self, kind: str, text: str = "", user_index: int = 0) -> None:
        engine, options = self.ctx.engine, self.options.options()
        settings, loading = self.ctx.settings.generation(), self.ctx.settings.loading()
        conversation_id = self.conversation_id
        view = self.transcript.add(MessageView("assistant"))
        view.start_stream()
        self.transcript.scroll_to_end()

        def make(cancel):  # runs on a worker thread
            cid = conversation_id
            if cid is None:
                cid = engine.conversations.create("", **options.fields()).id
                yield ("conversation", cid)
            else:
                engine.conversations.update(cid, **options.fields())
            if engine.models.loaded() is None:
                yield ("loading", options.model)
                yield ("model", engine.models.load(options.model, loading))
            if kind == "ask":
                yield from engine.ask(text, cid, settings=settings, cancel=cancel)
            elif kind == "regenerate":
                yield from engine.chat.regenerate(cid, cancel=cancel, settings=settings)
            else:
                users = [m for m in engine.conversations.messages(cid) if m.role == "user"]
                yield from engine.chat.edit(users[user_index].id, text, cancel=cancel, settings=settings)

        self._view = view
        self._task = self.ctx.runner.stream(
            make, key="answer", on_item=while_alive(self, "_on_item", weakref.ref(view)),
            on_done=while_alive(self, "_on_done", weakref.ref(view)),
            on_error=while_alive(self, "_on_error", weakref.ref(view)))
        self._set_streaming(True)

    def _on_item(self, view_ref, item) -> None:
        view = _alive(view_ref)
        if view is None:
            return
        if isinstance(item, tuple):
            what, value = item
            if what == "conversation":
                self.conversation_id = value
                self.conversations.current_id = value
                self.ctx.notify("conversations")
            elif what == "loading":
                self.ctx.status.emit(self.tr("Loading the chat model…"))
            elif what == "model":
                self.ctx.notify("model", value)
                self.ctx.status.emit(self.tr("Model loaded: {name}").format(name=value.model))
            return
        if item.kind == "sources":
            view.set_sources(item.sources)
        elif item.kind == "token":
            view.append_text(item.text)
            self.token_received.emit(item.text)
        elif item.kind == "done":
            view.finish(item.answer)
            if view is self._view:
                self._end()
            self.ctx.notify("conversations")
            self.answer_finished.emit(item.answer)

    def _on_done(self, view_ref, _last) -> None:
        view = _alive(view_ref)
        if view is None:
            return
        if view.streaming:  # ended without a "done" event
            view.finish(None)
        if view is self._view:
            self._end()

    def _on_error(self, view_ref, exc: BaseException) -> None:
        view = _alive(view_ref)
        if view is None:
            return
        view.mark_error(str(exc) if isinstance(exc, BunkoError) else self.tr("an unexpected error"))
        if view is self._view:
            self._end()
        self.ctx.notify("conversations")
        self.ctx.show_error(exc, self)
        self.answer_failed.emit(exc)

    def _end(self) -> None:
        self._task = self._view = None
        self._set_streaming(False)

    def _abandon(self) -> None:
        """Leave a running answer (switching chats): the engine still stores what it made."""
        if self._task is not None:
            self._task.cancel(drop=True)
            if self._view is not None:
                self._view.finish(None)
            self._end()

    def _paint_send(self, *_args) -> None:
        name = "stop" if self.is_streaming() else "send"
        self.send_button.setIcon(theme.icon(name, theme.current().accent_text))

    def retranslate(self) -> None:
        self._send_texts(self.is_streaming())

    def _send_texts(self, streaming: bool) -> None:
        self.send_button.setText(self.tr("Stop") if streaming else self.tr("Send"))
        self.send_button.setToolTip(self.tr("Stop the answer; what it wrote so far is kept") if streaming
                                    else self.tr("Send the question (Enter)"))
        self.compare_button.setText(self.tr("Side by side…"))
        self.compare_button.setToolTip(self.tr("Ask this question two ways and compare the answers (Ctrl+Shift+B)"))

    def _set_streaming(self, streaming: bool) -> None:
        self._send_texts(streaming)
        self._paint_send()
        self.transcript.set_busy(streaming)
        if self._view is not None:
            self._view.set_busy(True)
