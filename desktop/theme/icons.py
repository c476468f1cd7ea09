"""Bunko's own line icons (resources/icons/*.svg), drawn in the palette's colours.

The SVGs draw with `currentColor`; each icon is rendered for the normal, the active
(selected) and the disabled look at 1x and 2x, so it stays sharp at 125–200 %.
"""

from __future__ import annotations

import logging
from functools import lru_cache, cache

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

log = logging.getLogger(__name__)

SIZES = (16, 20, 24, 32, 40, 48, 64)


@cache
def _svg(name: str) -> bytes:
    from ..i18n import resources_dir

    path = resources_dir() / "icons" / f"{name}.svg"
    try:
        return path.read_bytes()
    except OSError:
        log.warning("icon %s is missing", path)
        return b""


def pixmap(name: str, colour: str, size: int) -> QPixmap:
    data = _svg(name).replace(b"currentColor", colour.encode())
    out = QPixmap(QSize(size, size))
    out.fill(Qt.GlobalColor.transparent)
    if data:
        renderer = QSvgRenderer(QByteArray(data))
        painter = QPainter(out)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
    return out


@lru_cache(maxsize=256)
def _icon(name: str, normal: str, active: str, disabled: str) -> QIcon:
    icon = QIcon()
    for size in SIZES:
        for mode, colour in ((QIcon.Mode.Normal, normal), (QIcon.Mode.Active, normal),
                             (QIcon.Mode.Selected, active), (QIcon.Mode.Disabled, disabled)):
            icon.addPixmap(pixmap(name, colour, size), mode)
    return icon


def icon(name: str, colour: str | None = None) -> QIcon:
    """The icon `name` in the current palette: text colour, accent when selected.
    `colour` paints every mode in one colour (icons on a primary button)."""
    from . import current

    p = current()
    if colour is not None:
        return _icon(name, colour, colour, p.faint)
    return _icon(name, p.muted, p.accent_fg, p.faint)


def icon_file(name: str, colour: str) -> str:
    """A file of the icon in one colour, for the stylesheet (its url() takes files only): the
    combo box and spin box arrows. Written once per colour into a private temporary folder."""
    import os

    folder = _icon_folder()
    if folder is None:
        return ""
    path = folder / f"{name}-{colour.lstrip('#')}.svg"
    if not path.exists():
        try:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(_svg(name).replace(b"currentColor", colour.encode()))
            tmp.replace(path)
        except OSError as exc:   # no arrow image: Qt draws its own
            log.warning("could not write %s: %s", path, exc)
            return ""
    return path.as_posix()


_FOLDER: list = []


def _icon_folder():
    """This process's own temporary folder, made with a random name (mkdtemp, 0700): a fixed name
    such as /tmp/bunko-theme-<uid> could be made first by another user, who would then supply the
    icons or point the folder elsewhere. Removed when the app ends."""
    import atexit
    import shutil
    import tempfile
    from pathlib import Path

    if not _FOLDER:
        try:
            folder = Path(tempfile.mkdtemp(prefix="bunko-theme-"))
        except OSError as exc:   # no arrow images: Qt draws its own
            log.warning("no folder for the theme's icons: %s", exc)
            return None
        atexit.register(shutil.rmtree, folder, True)
        _FOLDER.append(folder)
    return _FOLDER[0]


def names() -> list[str]:
    from ..i18n import resources_dir

    return sorted(p.stem for p in (resources_dir() / "icons").glob("*.svg"))
