"""A text browser as tall as its text, for one message (or one block of a streaming one).

An answer's text is steered by the documents it read, so it is shown as Markdown
without raw HTML (tags appear as the characters they are) and nothing it points
to is loaded: no images, local or remote."""

from __future__ import annotations

import math

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QImage, QTextCursor, QTextDocument, QTextOption
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget


class MessageBody(QTextBrowser):
    """A text browser as tall as its text: the transcript scrolls, not each message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextBrowser { background: transparent; }")
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self._fit()

    def set_markdown(self, text: str) -> None:
        """GitHub-flavoured Markdown with raw HTML shown as text, never interpreted."""
        features = (QTextDocument.MarkdownFeature.MarkdownDialectGitHub
                    | QTextDocument.MarkdownFeature.MarkdownNoHTML)
        self.document().setMarkdown(text, features)

    def loadResource(self, kind: int, name):  # noqa: N802 - Qt's name
        """No image or style sheet an answer names is fetched or read from disk. (An empty value,
        not None: on None the document reads a local file itself.)"""
        if kind == QTextDocument.ResourceType.ImageResource.value:
            return QImage()
        return QByteArray()

    def _fit(self, *_args) -> None:
        height = math.ceil(self.document().size().height()) + 2 * self.frameWidth()
        bar = self.horizontalScrollBar()
        if bar.isVisible():
            height += bar.sizeHint().height()
        if height != self.height():
            self.setFixedHeight(max(height, 8))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def wheelEvent(self, event) -> None:
        # Vertical wheel turns belong to the transcript around this message.
        if event.angleDelta().y() and not event.angleDelta().x():
            event.ignore()
            return
        super().wheelEvent(event)

    def append_plain(self, text: str) -> None:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
