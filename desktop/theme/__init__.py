"""Bunko's design system in one place: the palette for light and dark (following the
system), the type scale and spacing, the icons, and the one application stylesheet.

    from desktop import theme
    theme.apply_theme("system")        # at start and when the setting changes
    theme.set_role(label, "muted")     # a look by role, never a colour in a page
    theme.icon("chat")                 # a palette-coloured icon

Widgets that paint themselves (the loss curve) read `theme.current()` and repaint on
QEvent.PaletteChange, which every widget gets when the theme changes.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from . import metrics
from .icons import icon
from .palette import DARK, LIGHT, Palette, qpalette
from .style import stylesheet

__all__ = ["DARK", "LIGHT", "Palette", "THEMES", "apply_theme", "current", "icon", "metrics", "notifier",
           "set_role", "stylesheet", "wants_dark"]

log = logging.getLogger(__name__)

THEMES = ("system", "light", "dark")
_theme = "system"
_current: Palette = LIGHT
_connected = False
_system_font = None


class _Notifier(QObject):
    changed = Signal(object)  # the new Palette


_notifier: _Notifier | None = None


def notifier() -> _Notifier:
    global _notifier
    if _notifier is None:
        _notifier = _Notifier()
    return _notifier


def current() -> Palette:
    """The palette in use now."""
    return _current


def wants_dark() -> bool:
    if _theme in ("light", "dark"):
        return _theme == "dark"
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(theme: str) -> Palette:
    """"system" follows the desktop's light/dark setting, also when it changes later."""
    global _theme, _connected
    app = QApplication.instance()
    _theme = theme if theme in THEMES else "system"
    hints = app.styleHints()
    if _theme == "system":
        hints.unsetColorScheme()
    else:
        hints.setColorScheme(Qt.ColorScheme.Dark if _theme == "dark" else Qt.ColorScheme.Light)
    if not _connected:
        hints.colorSchemeChanged.connect(lambda _scheme: _apply())
        _connected = True
    return _apply()


def _apply() -> Palette:
    """One style everywhere (Fusion draws what the stylesheet leaves alone, the same on
    every platform), our palette, our font with its Japanese fallback, our stylesheet."""
    global _current, _system_font
    app = QApplication.instance()
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    if _system_font is None:
        _system_font = app.font()
        app.setFont(metrics.base_font(_system_font))
    _current = DARK if wants_dark() else LIGHT
    app.setPalette(qpalette(_current))
    app.setStyleSheet(stylesheet(_current, app.font()))
    log.info("theme %s (%s)", _theme, "dark" if _current.dark else "light")
    notifier().changed.emit(_current)
    return _current


def set_role(widget: QWidget, role: str | None, name: str = "role") -> None:
    """Give a widget a look from the stylesheet (role="muted", tone="success", …) and redraw it."""
    if widget.property(name) == role:
        return
    widget.setProperty(name, role)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
