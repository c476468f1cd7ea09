"""One look for a status in every table and list: a rounded badge in its tone's colours
(the same as StatusBadge) and, while work runs, a slim bar with the time left beside it.

A model (or a QTableWidgetItem) gives the cell its text as usual and, by role:
    TONE_ROLE      "neutral" | "accent" | "success" | "warning" | "danger": draw the text as a badge
    BADGE_ROLE     the badge's own text: the cell's text is then drawn plainly before it (a list row)
    PROGRESS_ROLE  0…1: a slim bar after the text (None: no bar)
    DETAIL_ROLE    a short quiet text after the bar, such as the time left
A cell with none of these is drawn as Qt draws it.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QApplication, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from .. import theme
from ..theme import metrics as m
from ..theme.palette import Palette

TONE_ROLE = Qt.ItemDataRole.UserRole + 101
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 102
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 103
BADGE_ROLE = Qt.ItemDataRole.UserRole + 104

BAR_WIDTH, BAR_HEIGHT = 72, 4


def tone_colours(p: Palette, tone: str | None) -> tuple[str, str]:
    """(background, text) of a badge; the stylesheet's QLabel#badge uses the same pairs."""
    return {"accent": (p.accent_soft, p.accent_fg), "success": (p.success_soft, p.success),
            "warning": (p.warning_soft, p.warning), "danger": (p.danger_soft, p.danger)}.get(
        tone or "", (p.surface_alt, p.muted))


def badge_font(base: QFont) -> QFont:
    font = QFont(base)
    font.setPointSizeF(m.point_size(base, m.CAPTION))
    font.setWeight(QFont.Weight.DemiBold)
    return font


def caption_font(base: QFont) -> QFont:
    font = QFont(base)
    font.setPointSizeF(m.point_size(base, m.CAPTION))
    return font


class StatusDelegate(QStyledItemDelegate):
    """Draws badge, bar and detail in that order, left to right, vertically centred."""

    @staticmethod
    def styled(index) -> bool:
        return any(index.data(role) is not None for role in (TONE_ROLE, PROGRESS_ROLE, DETAIL_ROLE, BADGE_ROLE))

    def _parts(self, option, index) -> tuple[str, str, str | None, float | None, str]:
        """(plain text, badge text, tone, progress, detail)."""
        text = index.data(Qt.ItemDataRole.DisplayRole)
        text = "" if text is None else str(text)
        tone, badge = index.data(TONE_ROLE), index.data(BADGE_ROLE)
        if badge is None:
            text, badge = ("", text) if tone is not None else (text, "")
        progress = index.data(PROGRESS_ROLE)
        return (text, str(badge), tone, None if progress is None else max(0.0, min(1.0, float(progress))),
                str(index.data(DETAIL_ROLE) or ""))

    def _badge_size(self, font: QFont, text: str) -> QSize:
        fm = QFontMetrics(font)
        return QSize(fm.horizontalAdvance(text) + 2 * m.S, fm.height() + 4)

    def sizeHint(self, option, index) -> QSize:
        if not self.styled(index):
            return super().sizeHint(option, index)
        size = self._natural(option, index)
        view = option.widget
        if isinstance(view, QListView) and view.viewport().width() > 0:   # a list row: no sideways scrolling
            size.setWidth(min(size.width(), view.viewport().width()))
        return size

    def _natural(self, option, index) -> QSize:
        text, badge, tone, progress, detail = self._parts(option, index)
        base = option.font
        width, height = m.S, QFontMetrics(base).height() + 2 * m.XS
        if text:
            width += m.S + QFontMetrics(base).horizontalAdvance(text)
        if badge:
            size = self._badge_size(badge_font(base), badge)
            width += m.S + size.width()
            height = max(height, size.height() + 2 * m.XS)
        if progress is not None:
            width += m.S + BAR_WIDTH
        if detail:
            width += m.S + QFontMetrics(caption_font(base)).horizontalAdvance(detail)
        return QSize(width, height)

    def minimum_width(self, option, index) -> int:
        """The room the badge, bar and detail need: a plain text before them is elided first."""
        text = self._parts(option, index)[0]
        hint = self._natural(option, index).width()
        if not text:
            return hint
        fm = QFontMetrics(option.font)
        return hint - fm.horizontalAdvance(text) + min(fm.horizontalAdvance(text), fm.horizontalAdvance("…") * 4)

    def paint(self, painter: QPainter, option, index) -> None:
        if not self.styled(index):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, badge, tone, progress, detail = self._parts(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)  # row, selection, focus

        p = theme.current()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(opt.rect).adjusted(m.S, 0, -m.S, 0)
        x, middle = rect.left(), rect.center().y()
        if opt.displayAlignment & Qt.AlignmentFlag.AlignRight:   # a count as a badge stays over its column's numbers
            x = max(rect.left(), rect.right() - (self._natural(option, index).width() - 2 * m.S))
        if text:
            painter.setFont(opt.font)
            painter.setPen(QColor(p.text))
            fm = QFontMetrics(opt.font)
            spare = rect.width() + 2 * m.S - self._natural(option, index).width()
            if spare < 0:   # a long name gives way to the badge after it
                text = fm.elidedText(text, Qt.TextElideMode.ElideRight, max(0, fm.horizontalAdvance(text) + spare))
            advance = fm.horizontalAdvance(text)
            painter.drawText(QRectF(x, rect.top(), advance + 1, rect.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
            x += advance + m.S
        if badge:
            font = badge_font(opt.font)
            size = self._badge_size(font, badge)
            pill = QRectF(x, middle - size.height() / 2, size.width(), size.height())
            background, colour = tone_colours(p, tone)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(background))
            painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
            painter.setFont(font)
            painter.setPen(QColor(colour))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, badge)
            x = pill.right() + m.S
        if progress is not None:
            track = QRectF(x, middle - BAR_HEIGHT / 2, min(BAR_WIDTH, max(0.0, rect.right() - x)), BAR_HEIGHT)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(p.border))
            painter.drawRoundedRect(track, BAR_HEIGHT / 2, BAR_HEIGHT / 2)
            if progress > 0:
                painter.setBrush(QColor(p.accent))
                painter.drawRoundedRect(QRectF(track.left(), track.top(), max(BAR_HEIGHT, track.width() * progress),
                                               BAR_HEIGHT), BAR_HEIGHT / 2, BAR_HEIGHT / 2)
            x = track.right() + m.S
        if detail and x < rect.right():
            font = caption_font(opt.font)
            fm = QFontMetrics(font)
            painter.setFont(font)
            painter.setPen(QColor(p.muted))
            room = QRectF(x, rect.top(), rect.right() - x, rect.height())
            painter.drawText(room, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             fm.elidedText(detail, Qt.TextElideMode.ElideRight, int(room.width())))
        painter.restore()
