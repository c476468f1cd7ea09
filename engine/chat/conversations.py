"""Chats and their messages, kept in the one DuckDB file.

A conversation remembers how it was held (model, adapter, libraries, settings)
so reopening it continues the same way; each message remembers what produced
it (sources, citations, settings, stats) so an answer can be checked later.
JSON values are stored as VARCHAR (schema v4), so no DuckDB extension is needed.
"""

from __future__ import annotations

import builtins

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import ConversationNotFoundError, MessageNotFoundError
from ..store import Store, scalar

log = logging.getLogger(__name__)

DEFAULT_TITLE = "New chat"
TITLE_CHARS = 40
ROLES = ("user", "assistant", "system")
STATUSES = ("streaming", "complete", "stopped", "error")

_CONVERSATION_FIELDS = ("title", "system_prompt", "model", "adapter", "adapter_scale", "libraries", "settings")
_MESSAGE_FIELDS = ("content", "sources", "citations", "status", "stats", "model")
_JSON_FIELDS = {"libraries", "settings", "sources", "citations", "stats"}


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    system_prompt: str | None
    model: str | None
    adapter: str | None
    adapter_scale: float
    libraries: tuple[str, ...]
    settings: dict
    created_at: datetime
    updated_at: datetime
    n_messages: int


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: int
    seq: int
    role: str
    content: str
    sources: list[dict]
    citations: list[int]
    model: str | None
    adapter: str | None
    settings: dict
    status: str
    stats: dict
    created_at: datetime


_clock_lock = threading.Lock()
_last_stamp = datetime.min


def _now() -> datetime:
    """Local time, strictly increasing within the process: two chats created in
    the same clock tick (Windows ticks are coarse) must still list in order."""
    global _last_stamp
    with _clock_lock:
        stamp = datetime.now()
        if stamp <= _last_stamp:
            stamp = _last_stamp + timedelta(microseconds=1)
        _last_stamp = stamp
        return stamp


def _plain(value: Any) -> Any:
    # Sources carry scores that may be numpy scalars; JSON wants Python numbers.
    return value.item() if hasattr(value, "item") else str(value)


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=_plain)


def _load(text: str | None, default: Any) -> Any:
    if text is None:
        return default
    try:
        return json.loads(text)
    except ValueError:  # a hand-edited or damaged row should not hide the whole chat
        log.warning("ignoring unreadable JSON in the chat store: %.80r", text)
        return default


def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def auto_title(text: str) -> str:
    """A title from the first question: its first non-empty line, whitespace
    collapsed, cut to TITLE_CHARS characters with "…"."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if not line:
        return DEFAULT_TITLE
    if len(line) > TITLE_CHARS:
        line = line[: TITLE_CHARS - 1].rstrip() + "…"
    return line


_CONVERSATION_SELECT = """
    SELECT c.id, c.title, c.system_prompt, c.model, c.adapter, c.adapter_scale,
           c.libraries, c.settings, c.created_at, c.updated_at,
           (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)
    FROM conversations c"""

_MESSAGE_SELECT = """
    SELECT id, conversation_id, seq, role, content, sources, citations, model, adapter,
           settings, status, stats, created_at
    FROM messages"""


def _conversation(row: tuple) -> Conversation:
    cid, title, prompt, model, adapter, scale, libraries, settings, created, updated, n = row
    return Conversation(cid, title, prompt, model, adapter, 1.0 if scale is None else float(scale),
                        tuple(_load(libraries, [])), _load(settings, {}), created, updated, int(n))


def _message(row: tuple) -> Message:
    mid, cid, seq, role, content, sources, citations, model, adapter, settings, status, stats, created = row
    return Message(mid, cid, seq, role, content, _load(sources, []), _load(citations, []), model,
                   adapter, _load(settings, {}), status or "complete", _load(stats, {}), created)


def _check_fields(fields: dict, allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValueError(f"Cannot update {what} field(s) {', '.join(unknown)}; "
                         f"allowed: {', '.join(allowed)}.")


def _column_value(name: str, value: Any) -> Any:
    if name == "libraries":  # one name given bare is still one library, not its letters
        return _dump([value] if isinstance(value, str) else list(value or ()))
    if name in _JSON_FIELDS:
        return _dump(value)
    return value


def _update_row(cur, table: str, row_id: int, fields: dict) -> None:
    """SET the checked `fields` of one row of `table` (names come from the field lists above)."""
    sets = ", ".join(f"{name} = ?" for name in fields)
    values = [_column_value(name, value) for name, value in fields.items()]
    cur.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*values, row_id])


class Conversations:
    """The chat history. Writes go through `store.transaction()`, reads through
    the calling thread's own cursor, so the GUI and a streaming answer can share it."""

    auto_title = staticmethod(auto_title)  # also on the instance, for callers holding only it

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- conversations -----------------------------------------------------
    def create(self, title: str = "", system_prompt: str | None = None, model: str | None = None,
               adapter: str | None = None, adapter_scale: float = 1.0, libraries=(),
               settings: dict | None = None) -> Conversation:
        """A new, empty chat. Without a title it is "New chat" until its first
        question arrives (see `add_message`)."""
        now = _now()
        with self.store.transaction() as cur:
            cid = scalar(cur, "SELECT coalesce(max(id), 0) + 1 FROM conversations")
            cur.execute(
                "INSERT INTO conversations (id, title, system_prompt, model, adapter, adapter_scale,"
                " libraries, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [cid, title.strip() or DEFAULT_TITLE, system_prompt, model, adapter, float(adapter_scale),
                 _column_value("libraries", libraries), _dump(settings or {}), now, now],
            )
        return self.get(cid)

    def list(self, query: str | None = None, limit: int | None = None) -> builtins.list[Conversation]:
        """Newest activity first. `query` finds chats whose title or any message
        contains it, ignoring case."""
        sql = _CONVERSATION_SELECT
        params: builtins.list[object] = []
        if query and query.strip():
            pattern = _like_pattern(query.strip())
            sql += """ WHERE c.title ILIKE ? ESCAPE '\\' OR EXISTS (
                SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                AND m.content ILIKE ? ESCAPE '\\')"""
            params += [pattern, pattern]
        sql += " ORDER BY c.updated_at DESC, c.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self.store.cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [_conversation(row) for row in rows]

    def get(self, conversation_id: int) -> Conversation:
        """One conversation with its counts (ConversationNotFoundError if gone)."""
        with self.store.cursor() as cur:
            row = cur.execute(_CONVERSATION_SELECT + " WHERE c.id = ?", [conversation_id]).fetchone()
        if row is None:
            raise _no_conversation(conversation_id)
        return _conversation(row)

    def update(self, conversation_id: int, **fields) -> Conversation:
        """Change how the chat is held. Does not move it up the list: only new
        messages count as activity."""
        _check_fields(fields, _CONVERSATION_FIELDS, "conversation")
        if "title" in fields:
            fields["title"] = (fields["title"] or "").strip() or DEFAULT_TITLE
        if fields:
            with self.store.transaction() as cur:
                self._require(cur, conversation_id)
                _update_row(cur, "conversations", conversation_id, fields)
        return self.get(conversation_id)

    def rename(self, conversation_id: int, title: str) -> Conversation:
        """Give a conversation a new title."""
        return self.update(conversation_id, title=title)

    def delete(self, conversation_id: int) -> None:
        """Delete a conversation and its messages."""
        with self.store.transaction() as cur:
            self._require(cur, conversation_id)
            cur.execute("DELETE FROM messages WHERE conversation_id = ?", [conversation_id])
            cur.execute("DELETE FROM conversations WHERE id = ?", [conversation_id])

    # -- messages ----------------------------------------------------------
    def messages(self, conversation_id: int) -> builtins.list[Message]:
        """The messages of a conversation, oldest first."""
        with self.store.cursor() as cur:
            self._require(cur, conversation_id)
            rows = cur.execute(_MESSAGE_SELECT + " WHERE conversation_id = ? ORDER BY seq",
                               [conversation_id]).fetchall()
        return [_message(row) for row in rows]

    def last_runs(self, per_model: int = 5) -> dict[str, dict]:
        """model -> how its latest measured answer ran: tokens/s, where (the offload words, "ran_on")
        and when; for the Models page. Looks at a few of each model's latest answers only."""
        with self.store.cursor() as cur:
            rows = cur.execute(
                "SELECT model, stats, created_at FROM (SELECT model, stats, created_at, row_number() OVER "
                "(PARTITION BY model ORDER BY id DESC) AS n FROM messages WHERE role = 'assistant' AND "
                "model IS NOT NULL AND stats LIKE '%tokens_per_second%') WHERE n <= ? ORDER BY model, n",
                [per_model]).fetchall()
        runs: dict[str, dict] = {}
        for model, stats, created in rows:
            try:
                data = json.loads(stats)
            except ValueError:
                continue
            speed = data.get("tokens_per_second") or 0
            if model not in runs and isinstance(speed, (int, float)) and speed > 0:
                runs[model] = {"tokens_per_second": float(speed), "ran_on": data.get("ran_on"), "at": created}
        return runs

    def message(self, message_id: int) -> Message:
        """One message by id."""
        with self.store.cursor() as cur:
            row = cur.execute(_MESSAGE_SELECT + " WHERE id = ?", [message_id]).fetchone()
        if row is None:
            raise _no_message(message_id)
        return _message(row)

    def add_message(self, conversation_id: int, role: str, content: str, *, sources=None,
                    citations=None, model=None, adapter=None, settings=None,
                    status: str = "complete", stats=None) -> Message:
        """Append a message. The first question of a chat still called "New chat"
        also names it."""
        if role not in ROLES:
            raise ValueError(f"A message's role must be one of {', '.join(ROLES)}, not {role!r}.")
        _check_status(status)
        now = _now()
        with self.store.transaction() as cur:
            title = self._require(cur, conversation_id)
            mid = scalar(cur, "SELECT coalesce(max(id), 0) + 1 FROM messages")
            row = cur.execute(
                "SELECT coalesce(max(seq), 0) + 1, count(*) FILTER (WHERE role = 'user') "
                "FROM messages WHERE conversation_id = ?", [conversation_id]).fetchone()
            assert row is not None   # an aggregate without GROUP BY returns one row
            seq, n_user = row
            cur.execute(
                "INSERT INTO messages (id, conversation_id, seq, role, content, sources, citations,"
                " model, adapter, settings, status, stats, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [mid, conversation_id, seq, role, content, _dump(sources or []), _dump(citations or []),
                 model, adapter, _dump(settings or {}), status, _dump(stats or {}), now],
            )
            if role == "user" and n_user == 0 and title == DEFAULT_TITLE:
                title = auto_title(content)
            cur.execute("UPDATE conversations SET updated_at = ?, title = ? WHERE id = ?",
                        [now, title, conversation_id])
        return self.message(mid)

    def update_message(self, message_id: int, **fields) -> Message:
        """Change a message in place: an answer as it streams, or when it is stopped."""
        _check_fields(fields, _MESSAGE_FIELDS, "message")
        if "status" in fields:
            _check_status(fields["status"])
        if fields:
            with self.store.transaction() as cur:
                self._require_message(cur, message_id)
                _update_row(cur, "messages", message_id, fields)
        return self.message(message_id)

    def delete_message(self, message_id: int) -> None:
        """Delete one message."""
        with self.store.transaction() as cur:
            self._require_message(cur, message_id)
            cur.execute("DELETE FROM messages WHERE id = ?", [message_id])

    def truncate(self, conversation_id: int, from_seq: int) -> int:
        """Delete the message at `from_seq` and every later one; returns how many.
        Regenerate truncates from the answer, edit-and-resend from the question."""
        with self.store.transaction() as cur:
            self._require(cur, conversation_id)
            n = scalar(cur, "SELECT count(*) FROM messages WHERE conversation_id = ? AND seq >= ?",
                       [conversation_id, from_seq])
            cur.execute("DELETE FROM messages WHERE conversation_id = ? AND seq >= ?",
                        [conversation_id, from_seq])
        return int(n)

    # -- helpers -----------------------------------------------------------
    @staticmethod
    def _require(cur, conversation_id: int) -> str:
        """The conversation's title, or ConversationNotFoundError."""
        row = cur.execute("SELECT title FROM conversations WHERE id = ?", [conversation_id]).fetchone()
        if row is None:
            raise _no_conversation(conversation_id)
        return row[0]

    @staticmethod
    def _require_message(cur, message_id: int) -> None:
        if cur.execute("SELECT 1 FROM messages WHERE id = ?", [message_id]).fetchone() is None:
            raise _no_message(message_id)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"A message's status must be one of {', '.join(STATUSES)}, not {status!r}.")


def _no_conversation(conversation_id: int) -> ConversationNotFoundError:
    return ConversationNotFoundError(
        f"There is no conversation with id {conversation_id}; it may have been deleted.")


def _no_message(message_id: int) -> MessageNotFoundError:
    return MessageNotFoundError(
        f"There is no message with id {message_id}; it may have been deleted or regenerated.")
