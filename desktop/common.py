"""Small helpers every page uses: safe runner callbacks, times and sizes for people."""

from __future__ import annotations

import weakref
from datetime import datetime

import shiboken6
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

translate = QCoreApplication.translate   # lupdate reads translate("Estimate", "…") calls


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


def rough_duration(seconds: float) -> str:
    """A time to wait, as estimates give it: seconds, minutes or hours."""
    if seconds < 90:
        return translate("Estimate", "{n} s").format(n=max(1, round(seconds)))
    if seconds < 5400:
        return translate("Estimate", "{n} min").format(n=round(seconds / 60))
    return translate("Estimate", "{n} h").format(n=f"{seconds / 3600:.1f}")


def training_estimate(steps: int, memory_bytes: float, device: str, seconds: float) -> str:
    """A training estimate (the wizard's, or a retraining after a freshness round) in words."""
    return translate("Estimate", "{steps} steps, about {memory} GiB of {device} memory, about {time}").format(
        steps=steps, memory=f"{memory_bytes / 2 ** 30:.1f}",
        device=translate("Estimate", "GPU") if device == "gpu" else translate("Estimate", "CPU"),
        time=rough_duration(seconds))
