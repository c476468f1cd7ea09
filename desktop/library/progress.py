"""The panel under the libraries table that shows one indexing run: bar, counts,
rate, time left, and the Pause/Resume and Cancel buttons."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from engine.api import clock
from engine.types import IndexProgress


class IndexProgressPanel(QFrame):
    """Shows the run in progress, or the paused state with a Resume button."""

    pause_clicked = Signal()
    resume_clicked = Signal()
    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.paused = False
        self._library: str | None = None          # what the panel shows, to draw it again in another language
        self._progress: IndexProgress | None = None
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.files = QLabel()
        self.chunks = QLabel()
        self.rate = QLabel()
        self.left = QLabel()
        self.current = QLabel()
        self.current.setTextFormat(Qt.TextFormat.PlainText)
        # A long Japanese path must not widen the window.
        self.current.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.pause_button = QPushButton(self.tr("Pause"))
        self.pause_button.clicked.connect(self._pause_or_resume)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel_clicked)

        numbers = QGridLayout()
        for column, label in enumerate((self.files, self.chunks, self.rate, self.left)):
            numbers.addWidget(label, 0, column)
        buttons = QHBoxLayout()
        buttons.addWidget(self.bar, 1)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(buttons)
        layout.addLayout(numbers)
        layout.addWidget(self.current)
        self.hide()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange and self._library is not None:
            if self.paused:
                self.show_paused(self._library)
            elif self._progress is not None:
                self.show_progress(self._progress)
            else:
                self.show_starting(self._library)
        super().changeEvent(event)

    def _pause_or_resume(self) -> None:
        (self.resume_clicked if self.paused else self.pause_clicked).emit()

    def show_starting(self, library: str) -> None:
        self.paused = False
        self._library, self._progress = library, None
        self.title.setText(self.tr("Indexing {name}…").format(name=library))
        self.bar.setRange(0, 0)
        for label in (self.files, self.chunks, self.rate, self.left, self.current):
            label.clear()
        self._buttons(pause=self.tr("Pause"))
        self.show()

    def show_progress(self, p: IndexProgress) -> None:
        if self.paused:
            return
        self._library, self._progress = p.library, p
        self.title.setText(self.tr("Indexing {name}…").format(name=p.library))
        if p.phase == "scanning" or (p.phase == "indexing" and not p.files_total):
            self.bar.setRange(0, 0)  # busy: the number of files is not known yet
        elif p.phase == "keywords":  # an index from an older Bunko is rebuilt once, by chunks
            self.bar.setRange(0, max(int(p.total or 0), 1))
            self.bar.setValue(int(p.done))
        else:
            self.bar.setRange(0, max(p.files_total, 1))
            self.bar.setValue(p.files_total if p.phase in ("finishing", "done") else p.files_done)
        if p.phase == "scanning":
            self.files.setText(self.tr("Looking for new and changed files…"))
        elif p.phase == "keywords":
            self.files.setText(self.tr("Updating the keyword index for better matches…"))
        else:
            text = self.tr("Files: {done} / {total}").format(done=f"{p.files_done:,}", total=f"{p.files_total:,}")
            if p.files_failed:
                text += " " + self.tr("({failed} failed)").format(failed=f"{p.files_failed:,}")
            self.files.setText(text)
        self.chunks.setText(self.tr("Chunks: {n}").format(n=f"{p.chunks_done:,}"))
        self.rate.setText(self.tr("{rate} chunks/s").format(rate=f"{p.chunks_per_s:,.0f}"))
        if p.phase == "finishing":
            self.left.setText(self.tr("Finishing…"))
        elif p.eta_s is None:  # the engine gives a time only once its rate means something
            self.left.setText(self.tr("Estimating time left…"))
        else:
            self.left.setText(self.tr("{time} left").format(time=clock(p.eta_s)))
        self.current.setText(p.message or p.current or "")  # "OCR: page 3 of 10 of …" while a scan is read
        self._buttons(pause=self.tr("Pause"))
        self.show()

    def show_stopping(self) -> None:
        self.title.setText(self.title.text() + " " + self.tr("(stopping…)"))
        self.pause_button.setEnabled(False)
        self.cancel_button.setEnabled(False)

    def show_paused(self, library: str) -> None:
        self.paused = True
        self._library = library
        self.title.setText(self.tr("Paused — {name}").format(name=library))
        self.current.setText(self.tr("Resume continues where it stopped; nothing indexed so far is lost."))
        self.left.clear()
        self.rate.clear()
        if self.bar.maximum() == 0:
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
        self._buttons(pause=self.tr("Resume"))
        self.show()

    def show_idle(self) -> None:
        self.paused = False
        self._library = self._progress = None
        self.hide()

    def _buttons(self, pause: str) -> None:
        self.pause_button.setText(pause)
        self.pause_button.setEnabled(True)
        self.cancel_button.setEnabled(True)
