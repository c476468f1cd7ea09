"""Small helpers every page uses: safe runner callbacks, times and sizes for people."""

from __future__ import annotations

import weakref
from datetime import datetime

import shiboken6
from PySide6.QtWidgets import QWidget


def while_alive(widget: QWidget, method: str, *args):
    """A runner callback that holds `widget` only weakly and does nothing once it is gone.

    A task's callbacks can be released on a worker thread; if they held the last
    reference to a widget, PySide would delete it there and crash."""
    ref = weakref.ref(widget)

    def call(*more):
        target = ref()
        if target is not None and shiboken6.isValid(target):
            getattr(target, method)(*args, *more)
    return call


def local_time(value: datetime | None) -> str:
    """The database keeps local wall-clock time; an aware value is converted to it."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone()
    return value.strftime("%Y-%m-%d %H:%M")


def human_size(size: int | None) -> str:
    if not size:
        return ""
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB"
