"""A cited passage in a small window beside the chat: where it is, what it says,
which of its sentences the answer used, and a button to open the file."""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

from PySide6.QtCore import QProcess, QRectF, Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QPainter, QPen, QPixmap, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QSplitter, QTextBrowser, QVBoxLayout, QWidget)

from engine.types import Source

from .. import theme

log = logging.getLogger(__name__)

_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]+")
_WORD_RE = re.compile(r"\w+(?:[.,']\w+)*")
_SENTENCE_RE = re.compile(r"[^.!?。！？\n]+(?:[.!?。！？]+|\n|$)")
_STOP = frozenset("""a an and are as at be by for from has have in is it its of on or that the this to was
were will with you your per""".split())


def _terms(text: str) -> set[str]:
    """Words (and for Japanese, pairs of characters) that two texts can share."""
    text = text.lower()
    terms = set()
    for run in _CJK_RE.findall(text):
        terms.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    for word in _WORD_RE.findall(_CJK_RE.sub(" ", text)):
        if word not in _STOP and (len(word) > 2 or word.isdigit()):
            terms.add(word)
    return terms


def matching_sentences(passage: str, answer: str) -> list[tuple[int, int]]:
    """(start, end) of the passage's sentences that share enough words with the answer;
    the whole passage when none does (it was still the cited source)."""
    wanted = _terms(answer)
    spans = []
    for m in _SENTENCE_RE.finditer(passage):
        terms = _terms(m.group(0))
        shared = terms & wanted
        if terms and (len(shared) >= 3 or len(shared) / len(terms) >= 0.4):
            spans.append((m.start(), m.end()))
    return spans or [(0, len(passage))]


def file_url(source: Source) -> QUrl:
    """The file of a source; PDFs open at the cited page where the viewer understands #page=N.

    By its `file:` URI where the engine gave one: a name that is not UTF-8 keeps its
    bytes there, while `abs_path` only shows it (with U+FFFD) and names no file.
    """
    if source.file_uri:
        url = QUrl.fromEncoded(source.file_uri.encode("ascii"))
    else:  # a source stored before file_uri existed
        url = QUrl.fromLocalFile(source.abs_path)
    if source.page is not None and source.abs_path.lower().endswith(".pdf"):
        url.setFragment(f"page={source.page}")
    return url


def _utf16(text: str, index: int) -> int:
    # Qt counts positions in UTF-16 units; Python in code points (emoji differ).
    return len(text[:index].encode("utf-16-le")) // 2


class CitationPreview(QDialog):
    """Non-modal: the reader keeps chatting while it is open."""

    def __init__(self, source: Source, answer_text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(self.tr("Source [{n}]: {name}").format(n=source.number, name=Path(source.path).name))
        self.resize(560, 420)

        self.path_label = QLabel(f"<b>[{source.number}] {_html(source.path)}</b>")
        self.path_label.setTextFormat(Qt.TextFormat.RichText)   # the path itself is escaped
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setWordWrap(True)
        details = [self.tr("Library: {name}").format(name=source.library)]
        if source.location:
            details.append(self.tr("Location: {where}").format(where=source.location))
        self.location_label = QLabel(" · ".join(details))
        self.location_label.setTextFormat(Qt.TextFormat.PlainText)   # server errors and document names: never markup
        self.file_label = QLabel(source.abs_path)
        self.file_label.setTextFormat(Qt.TextFormat.PlainText)   # server errors and document names: never markup
        self.file_label.setWordWrap(True)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        theme.set_role(self.file_label, "caption")

        self.passage = QTextBrowser()
        self.passage.setPlainText(source.text)
        self.highlighted = self._highlight(answer_text)

        if source.opens_as_document:
            self.open_button = QPushButton(self.tr("Open file"))
            self.open_button.setToolTip(self.tr("Open {path} in its usual program").format(path=source.abs_path))
        else:   # a script or program would run, not show: reveal it instead
            self.open_button = QPushButton(self.tr("Show in folder"))
            self.open_button.setToolTip(self.tr("{path} is not a document type Bunko opens (scripts and programs "
                                                "could run); its folder is shown instead").format(
                                                    path=source.abs_path))
        self.open_button.clicked.connect(self.open_file)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)

        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addStretch(1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.path_label)
        layout.addWidget(self.location_label)
        layout.addWidget(self.file_label)
        # A passage read by OCR also shows its page image, the passage's lines marked
        # (filled in by the chat page once the engine has rendered it; see show_scan).
        self.scan_label = QLabel()
        self.scan_label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.scan_area = QScrollArea()
        self.scan_area.setWidget(self.scan_label)
        self.scan_area.setWidgetResizable(True)
        self.scan_area.hide()
        self.scan_note = QLabel()
        self.scan_note.setWordWrap(True)
        theme.set_role(self.scan_note, "caption")
        self.scan_note.hide()
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.scan_area)
        self.split.addWidget(self.passage)
        layout.addWidget(self.scan_note)
        layout.addWidget(self.split, 1)
        layout.addLayout(row)
        self.scan_image: QPixmap | None = None

    def _highlight(self, answer_text: str) -> list[str]:
        text = self.source.text
        spans = matching_sentences(text, answer_text)
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(255, 226, 110))
        fmt.setForeground(QColor(20, 20, 20))
        cursor = QTextCursor(self.passage.document())
        for start, end in spans:
            cursor.setPosition(_utf16(text, start))
            cursor.setPosition(_utf16(text, end), QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(fmt)
        first = QTextCursor(self.passage.document())
        first.setPosition(_utf16(text, spans[0][0]))
        self.passage.setTextCursor(first)
        self.passage.ensureCursorVisible()
        return [text[s:e] for s, e in spans]

    def scan_loading(self) -> None:
        self.scan_note.setText(self.tr("Loading the scanned page…"))
        self.scan_note.show()

    def scan_failed(self, exc: BaseException) -> None:
        self.scan_note.setText(self.tr("The scanned page cannot be shown: {reason}").format(reason=exc))
        self.scan_note.show()

    def show_scan(self, scan) -> None:
        """The page image (engine ScanPage) with the passage's lines marked; None: not a scan."""
        if scan is None:
            self.scan_note.hide()
            return
        pixmap = QPixmap()
        if not pixmap.loadFromData(scan.png, "PNG"):
            self.scan_failed(ValueError("the page image could not be decoded"))
            return
        painter = QPainter(pixmap)
        painter.setPen(QPen(QColor(230, 120, 0), 3))
        fill = QColor(255, 210, 60, 70)
        w, h = pixmap.width(), pixmap.height()
        for x0, y0, x1, y1 in scan.regions:
            rect = QRectF(x0 * w, y0 * h, (x1 - x0) * w, (y1 - y0) * h)
            painter.fillRect(rect, fill)
            painter.drawRect(rect)
        painter.end()
        self.scan_image = pixmap
        if self.height() < 640:
            self.resize(max(self.width(), 640), 760)
        self.scan_area.show()
        total = max(self.split.height(), 400)
        self.split.setSizes([int(total * 0.7), total - int(total * 0.7)])
        width = max(200, self.split.width() - 24)
        self.scan_label.setPixmap(pixmap.scaledToWidth(min(width, w), Qt.TransformationMode.SmoothTransformation))
        confidence = "" if scan.confidence is None else self.tr(" (OCR confidence {value:.0%})").format(
            value=scan.confidence)
        self.scan_note.setText(self.tr("Scanned page {page}, read by OCR: check the words against the scan.")
                               .format(page=scan.page) + confidence)
        self.scan_note.show()

    def open_file(self) -> None:
        if not os.path.exists(self.source.open_path):
            self.file_label.setText(self.tr("The file is no longer there: {path}").format(path=self.source.abs_path))
            return
        if not self.source.opens_as_document:
            reveal(self.source.open_path)
            return
        if not QDesktopServices.openUrl(file_url(self.source)):
            log.info("no program opened %s", self.source.abs_path)


def reveal(path: str) -> None:
    """Show `path` selected in the file manager, never opening (running) it."""
    if sys.platform == "win32":
        QProcess.startDetached("explorer.exe", ["/select," + os.path.normpath(path)])
    elif sys.platform == "darwin":
        QProcess.startDetached("open", ["-R", path])
    else:   # the folder itself: opening a folder only lists it
        folder = os.path.dirname(path) or "."
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(folder)):
            log.info("no file manager showed %s", folder)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
