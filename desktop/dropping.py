"""Dropping files or folders onto a page: one mixin for every page that takes them."""

from __future__ import annotations

from pathlib import Path
from collections.abc import Callable

from PySide6.QtCore import QMimeData


def local_paths(mime: QMimeData, keep: Callable[[Path], bool]) -> list[Path]:
    if not mime.hasUrls():
        return []
    paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    return [p for p in paths if keep(p)]


class DropPaths:
    """Mixin for a QWidget (put it first among the bases): accepts drops of the paths that
    `accepts_path` likes and hands each to `take_path`. The widget calls setAcceptDrops(True)."""

    def accepts_path(self, path: Path) -> bool:
        raise NotImplementedError

    def take_path(self, path: Path) -> None:
        raise NotImplementedError

    def dragEnterEvent(self, event) -> None:
        if local_paths(event.mimeData(), self.accepts_path):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        paths = local_paths(event.mimeData(), self.accepts_path)
        for path in paths:
            self.take_path(path)
        if paths:
            event.acceptProposedAction()
