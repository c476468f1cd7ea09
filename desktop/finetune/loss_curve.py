"""The live loss curve of a training run, drawn with QPainter.

Qt Charts is not part of PySide6-Essentials, and a line with two axes is all a
person needs to see that training is working (the loss falls) or is not.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget
from ..i18n import Retranslating


class LossCurve(Retranslating, QWidget):
    """Loss against step. `add(step, loss)` as step events arrive; `total` fixes the x axis."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: list[tuple[int, float]] = []
        self.total: int | None = None
        self.setMinimumSize(240, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._empty_text = ""
        self.retranslate()

    def sizeHint(self) -> QSize:
        return QSize(480, 220)

    def retranslate(self) -> None:
        self._empty_text = self.tr("The loss curve appears when training starts.")
        self.update()

    # -- data -------------------------------------------------------------------------
    def clear(self) -> None:
        self.points, self.total = [], None
        self.update()

    def set_points(self, points, total: int | None = None) -> None:
        self.points = sorted((int(s), float(v)) for s, v in points if v is not None and math.isfinite(v))
        self.total = total
        self.update()

    def add(self, step: int, loss: float | None, total: int | None = None) -> None:
        if total:
            self.total = total
        if loss is None or not math.isfinite(loss):
            return
        if self.points and step <= self.points[-1][0]:   # a resumed run repeats steps: the newest wins
            self.points = [p for p in self.points if p[0] < step]
        self.points.append((int(step), float(loss)))
        self.update()

    def add_event(self, event) -> None:
        """A trainer event (JobEvent): steps add points, a start fixes the number of steps."""
        if event.kind == "step":
            self.add(event.step, event.loss, event.total)
        elif event.kind == "start" and event.total_steps:
            self.total = event.total_steps
            self.update()

    # -- drawing ------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        text_color = palette.color(QPalette.ColorRole.Text)
        metrics = painter.fontMetrics()
        if not self.points:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._empty_text)
            painter.end()
            return
        losses = [v for _s, v in self.points]
        low, high = min(losses), max(losses)
        if high - low < 1e-9:
            low, high = low - 0.5, high + 0.5
        low = max(0.0, low - (high - low) * 0.05)
        last_step = max(self.total or 0, self.points[-1][0], 1)
        left = max(metrics.horizontalAdvance(f"{high:.3g}"), metrics.horizontalAdvance(f"{low:.3g}")) + 10
        plot = QRectF(left, 8, max(10, self.width() - left - 10), max(10, self.height() - metrics.height() - 18))

        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(plot)
        painter.setPen(text_color)
        painter.drawText(QRectF(0, plot.top() - 2, left - 4, metrics.height()),
                         Qt.AlignmentFlag.AlignRight, f"{high:.3g}")
        painter.drawText(QRectF(0, plot.bottom() - metrics.height() + 2, left - 4, metrics.height()),
                         Qt.AlignmentFlag.AlignRight, f"{low:.3g}")
        axis = QRectF(plot.left(), plot.bottom() + 4, plot.width(), metrics.height())
        painter.drawText(axis, Qt.AlignmentFlag.AlignLeft, "0")
        painter.drawText(axis, Qt.AlignmentFlag.AlignRight, str(last_step))
        painter.drawText(axis, Qt.AlignmentFlag.AlignHCenter, self.tr("step"))

        def at(step: int, loss: float) -> QPointF:
            return QPointF(plot.left() + plot.width() * step / last_step,
                           plot.bottom() - plot.height() * (loss - low) / (high - low))

        path = QPainterPath(at(*self.points[0]))
        for point in self.points[1:]:
            path.lineTo(at(*point))
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2))
        painter.drawPath(path)
        if len(self.points) == 1:
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawEllipse(at(*self.points[0]), 3, 3)
        step, loss = self.points[-1]
        painter.setPen(QColor(text_color))
        painter.drawText(QRectF(plot.left() + 6, plot.top() + 4, plot.width() - 12, metrics.height()),
                         Qt.AlignmentFlag.AlignRight, self.tr("loss {loss} at step {step}").format(
                             loss=f"{loss:.4g}", step=step))
        painter.end()
