"""A text browser as tall as its text, for one message (or one block of a streaming one).

An answer's text is steered by the documents it read, so it is shown as Markdown
without raw HTML (tags appear as the characters they are) and nothing it points
to is loaded: no images, local or remote."""

from __future__ import annotations

import math

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import (QBrush, QColor, QImage, QTextBlockFormat, QTextCharFormat, QTextCursor, QTextDocument,
                           QTextFrameFormat, QTextLength, QTextOption, QTextTable)
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

from .. import theme


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
        self.setObjectName("messageBody")
        self.viewport().setAutoFillBackground(False)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        theme.notifier().changed.connect(self._restyle)
        self._fit()

    def set_markdown(self, text: str) -> None:
        """GitHub-flavoured Markdown with raw HTML shown as text, never interpreted."""
        features = (QTextDocument.MarkdownFeature.MarkdownDialectGitHub
                    | QTextDocument.MarkdownFeature.MarkdownNoHTML)
        self.document().setMarkdown(text, features)
        style_document(self.document())

    def _restyle(self, *_args) -> None:
        style_document(self.document())  # code and table colours follow a theme switch

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


def style_document(doc) -> None:
    """Code blocks on a tinted ground with a little air; tables with a header row, padding
    and thin rules, in the palette's colours (Qt's Markdown import leaves both bare)."""
    p = theme.current()
    cursor = QTextCursor(doc)
    block = doc.begin()
    while block.isValid():
        fmt = block.blockFormat()
        if fmt.hasProperty(QTextBlockFormat.Property.BlockCodeFence) and \
                fmt.background().color() != QColor(p.code_bg):
            fmt.setBackground(QBrush(QColor(p.code_bg)))
            fmt.setLeftMargin(8)
            fmt.setRightMargin(8)
            cursor.setPosition(block.position())
            cursor.setBlockFormat(fmt)
        block = block.next()
    for frame in doc.rootFrame().childFrames():
        if isinstance(frame, QTextTable):
            _style_table(frame, p)


def _style_table(table: QTextTable, p) -> None:
    fmt = table.format()
    fmt.setBorder(1)
    fmt.setBorderBrush(QBrush(QColor(p.border)))
    fmt.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
    fmt.setBorderCollapse(True)
    fmt.setCellPadding(5)
    fmt.setCellSpacing(0)
    fmt.setTopMargin(4)
    fmt.setBottomMargin(4)
    fmt.setWidth(QTextLength(QTextLength.Type.VariableLength, 0))
    table.setFormat(fmt)
    for column in range(table.columns()):
        cell = table.cellAt(0, column)
        cell_fmt = cell.format()
        cell_fmt.setBackground(QBrush(QColor(p.surface_alt)))
        cell.setFormat(cell_fmt)
        bold = QTextCharFormat()
        bold.setFontWeight(600)
        cursor = cell.firstCursorPosition()
        cursor.setPosition(cell.lastCursorPosition().position(), QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(bold)
