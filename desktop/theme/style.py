"""The one application stylesheet, generated from a palette and the metrics.

Widgets choose a look by object name (#card, #citationChip) or by a dynamic property
(role="muted", kind="primary", tone="success"), never with their own setStyleSheet.
Focus is drawn as a 2 px accent border; the normal state has a 1 px border and one
more pixel of padding, so nothing moves when focus arrives.
"""

from __future__ import annotations

from PySide6.QtGui import QFont

from . import metrics as m
from .icons import icon_file
from .palette import Palette


def stylesheet(p: Palette, base: QFont) -> str:
    def pt(factor: float) -> str:
        return f"{m.point_size(base, factor)}pt"

    def arrow(colour: str) -> str:
        path = icon_file("chevron-down", colour)
        return f"image: url({path});" if path else ""

    return f"""
QToolTip {{ background: {p.surface}; color: {p.text}; border: 1px solid {p.border_strong};
    padding: {m.XS}px {m.S}px; border-radius: {m.RADIUS_S}px; }}

/* -- text roles ------------------------------------------------------------- */
QLabel[role="title"] {{ font-size: {pt(m.TITLE)}; font-weight: 600; }}
QLabel[role="subtitle"] {{ font-size: {pt(m.SUBTITLE)}; font-weight: 600; }}
QLabel[role="muted"] {{ color: {p.muted}; }}
QLabel[role="caption"] {{ color: {p.muted}; font-size: {pt(m.CAPTION)}; }}
QLabel[role="error"] {{ color: {p.danger}; }}
QLabel[role="warning"] {{ color: {p.warning}; }}
QLabel[role="success"] {{ color: {p.success}; }}

/* -- badges, cards, banners --------------------------------------------------- */
QLabel#badge {{ border-radius: {m.RADIUS_S}px; padding: 1px {m.S}px; font-size: {pt(m.CAPTION)};
    font-weight: 600; background: {p.surface_alt}; color: {p.muted}; }}
QLabel#badge[tone="accent"] {{ background: {p.accent_soft}; color: {p.accent_fg}; }}
QLabel#badge[tone="success"] {{ background: {p.success_soft}; color: {p.success}; }}
QLabel#badge[tone="warning"] {{ background: {p.warning_soft}; color: {p.warning}; }}
QLabel#badge[tone="danger"] {{ background: {p.danger_soft}; color: {p.danger}; }}
QFrame#card {{ background: {p.surface}; border: 1px solid {p.border}; border-radius: {m.RADIUS_L}px; }}
QFrame#banner {{ background: {p.accent_soft}; border: 1px solid {p.border}; border-radius: {m.RADIUS_M}px; }}
QWidget#emptyState {{ background: transparent; }}
QLabel#emptyIcon {{ background: {p.accent_soft}; border-radius: 28px; }}

/* -- buttons -------------------------------------------------------------------- */
QPushButton {{ background: {p.surface}; color: {p.text}; border: 1px solid {p.border_strong};
    border-radius: {m.RADIUS_M}px; padding: 5px 13px; min-height: 1.3em; }}
QPushButton:hover {{ background: {p.surface_alt}; }}
QPushButton:pressed, QPushButton:checked {{ background: {p.accent_soft}; border-color: {p.accent}; }}
QPushButton:disabled {{ color: {p.faint}; border-color: {p.border}; background: {p.window}; }}
QPushButton:focus {{ border: 2px solid {p.focus}; padding: 4px 12px; }}
QPushButton[kind="primary"] {{ background: {p.accent}; color: {p.accent_text}; border-color: {p.accent}; }}
QPushButton[kind="primary"]:hover {{ background: {p.accent_hover}; }}
QPushButton[kind="primary"]:disabled {{ background: {p.border}; color: {p.faint}; border-color: {p.border}; }}
QPushButton[kind="primary"]:focus {{ border: 2px solid {p.text}; }}
QPushButton::menu-indicator {{ subcontrol-position: right center; right: 6px; }}
QPushButton#citationChip {{ background: {p.accent_soft}; color: {p.accent_fg}; border: 1px solid {p.accent_soft};
    border-radius: {m.RADIUS_M}px; padding: 2px {m.S + 2}px; min-height: 1.1em; font-size: {pt(m.CAPTION)}; }}
QPushButton#citationChip:hover {{ border-color: {p.accent_fg}; }}
QPushButton#citationChip:focus {{ border: 2px solid {p.focus}; padding: 1px {m.S + 1}px; }}
QPushButton#sourceLink {{ background: transparent; border: 1px solid transparent; text-align: left;
    color: {p.accent_fg}; padding: 2px {m.XS}px; }}
QPushButton#sourceLink:focus {{ border: 2px solid {p.focus}; padding: 1px 3px; }}
QToolButton {{ background: transparent; color: {p.text}; border: 1px solid transparent;
    border-radius: {m.RADIUS_S}px; padding: 3px 5px; }}
QToolButton:hover {{ background: {p.surface_alt}; border-color: {p.border}; }}
QToolButton:checked {{ background: {p.accent_soft}; }}
QToolButton:focus {{ border: 2px solid {p.focus}; padding: 2px 4px; }}
QToolButton:disabled {{ color: {p.faint}; }}
QToolButton[kind="field"] {{ background: {p.surface}; border: 1px solid {p.border_strong};
    border-radius: {m.RADIUS_M}px; padding: 4px {m.S}px; }}
QToolButton[kind="field"]::menu-indicator {{ subcontrol-position: right center; right: 4px; }}
QToolButton[kind="field"][popupMode="2"] {{ padding-right: 18px; }}
QToolButton[kind="field"]:focus {{ border: 2px solid {p.focus}; padding: 3px {m.S - 1}px; }}

/* -- fields ---------------------------------------------------------------------- */
QLineEdit, QComboBox {{ background: {p.surface}; color: {p.text};
    border: 1px solid {p.border_strong}; border-radius: {m.RADIUS_M}px; padding: 4px {m.S}px;
    selection-background-color: {p.selection}; selection-color: {p.text}; min-height: 1.3em; }}
QLineEdit:focus, QComboBox:focus {{
    border: 2px solid {p.focus}; padding: 3px {m.S - 1}px; }}
QLineEdit:disabled, QComboBox:disabled {{ color: {p.faint}; }}
/* Fusion's own drop-down button drew a dark bar and a tiny arrow in the rounded field: one chevron instead */
QComboBox::drop-down {{ subcontrol-origin: padding; subcontrol-position: center right; width: 18px;
    border: none; background: transparent; }}
QComboBox::down-arrow {{ {arrow(p.muted)} width: 10px; height: 10px; }}
QComboBox::down-arrow:disabled {{ {arrow(p.faint)} }}
QComboBox::down-arrow:on {{ top: 1px; }}
QComboBox QAbstractItemView {{ background: {p.surface}; color: {p.text}; border: 1px solid {p.border_strong};
    selection-background-color: {p.selection}; selection-color: {p.text}; outline: none; }}
QPlainTextEdit, QTextEdit {{ background: {p.surface}; color: {p.text}; border: 1px solid {p.border_strong};
    border-radius: {m.RADIUS_M}px; padding: 4px; selection-background-color: {p.selection};
    selection-color: {p.text}; }}
QPlainTextEdit:focus, QTextEdit:focus {{ border: 2px solid {p.focus}; padding: 3px; }}
QTextBrowser#messageBody, QTextBrowser#messageBody:focus {{ background: transparent; border: none; padding: 0; }}
QCheckBox:focus, QRadioButton:focus {{ color: {p.accent_fg}; }}
QCheckBox::indicator:focus, QRadioButton::indicator:focus {{ border: 2px solid {p.focus}; border-radius: 3px; }}

/* -- lists and tables ----------------------------------------------------------------- */
QTableView, QTreeView, QListView {{ background: {p.surface}; alternate-background-color: {p.surface_alt};
    color: {p.text}; border: 1px solid {p.border}; border-radius: {m.RADIUS_M}px; gridline-color: {p.border};
    selection-background-color: {p.selection}; selection-color: {p.text}; outline: none; }}
QTableView:focus, QTreeView:focus, QListView:focus {{ border: 2px solid {p.focus}; }}
QTableView::item, QTreeView::item {{ padding: {m.XS}px {m.S}px; }}
QListView::item {{ padding: {m.XS + 2}px {m.S}px; }}
QTableView::item:focus, QTreeView::item:focus, QListView::item:focus {{ border: 1px dashed {p.focus}; }}
QHeaderView::section {{ background: {p.surface}; color: {p.muted}; border: none;
    border-bottom: 1px solid {p.border}; padding: {m.XS + 2}px {m.S}px; font-weight: 600; }}
QTableCornerButton::section {{ background: {p.surface}; border: none; }}

/* -- navigation ------------------------------------------------------------------------ */
QFrame#sidebar {{ background: {p.sidebar}; border: none; border-right: 1px solid {p.border}; }}
QLabel#brand {{ font-size: {pt(m.SUBTITLE)}; font-weight: 700; padding: {m.XS}px {m.S}px; }}
QListWidget#navigation, QListWidget#navigation:focus {{ background: transparent; border: none;
    font-size: {pt(m.BODY)}; }}
QListWidget#navigation::item {{ border-radius: {m.RADIUS_M}px; padding: {m.S}px {m.S}px; margin: 1px 0;
    color: {p.text}; border: 2px solid transparent; }}
QListWidget#navigation::item:hover {{ background: {p.surface_alt}; }}
QListWidget#navigation::item:selected {{ background: {p.accent_soft}; color: {p.accent_fg}; font-weight: 600; }}
/* Keyboard focus rings the current row (`:focus::item:selected` drew round the whole list). */
QListWidget#navigation::item:focus {{ border: 2px solid {p.focus}; }}

/* -- chat ------------------------------------------------------------------------------- */
QFrame#userMessage {{ background: {p.user_bubble}; border: none; border-radius: {m.RADIUS_L}px; }}
QFrame#assistantMessage {{ background: {p.surface}; border: 1px solid {p.border}; border-radius: {m.RADIUS_L}px; }}
QLabel#messageHeader {{ color: {p.muted}; font-size: {pt(m.CAPTION)}; font-weight: 600; }}
QLabel#messageMeta {{ color: {p.faint}; font-size: {pt(m.CAPTION)}; }}
QFrame#optionsBar {{ background: {p.surface}; border: 1px solid {p.border}; border-radius: {m.RADIUS_L}px; }}
QFrame#composer {{ background: {p.surface}; border: 1px solid {p.border_strong}; border-radius: {m.RADIUS_L}px; }}
QScrollArea#transcript, QScrollArea#transcript > QWidget > QWidget {{ background: {p.window}; border: none; }}

/* -- progress, tabs, groups, splitters, scroll bars ---------------------------------------- */
QProgressBar {{ background: {p.surface_alt}; border: none; border-radius: 4px; max-height: 8px;
    text-align: center; color: transparent; }}
QProgressBar::chunk {{ background: {p.accent}; border-radius: 4px; }}
QTabWidget::pane {{ border: 1px solid {p.border}; border-radius: {m.RADIUS_M}px; background: {p.surface}; top: -1px; }}
QTabBar::tab {{ background: transparent; color: {p.muted}; padding: {m.XS + 2}px {m.M}px;
    border: 2px solid transparent; border-bottom: 2px solid transparent; }}
QTabBar::tab:selected {{ color: {p.text}; border-bottom: 2px solid {p.accent}; font-weight: 600; }}
QTabBar::tab:focus {{ border: 2px solid {p.focus}; }}
QGroupBox {{ border: 1px solid {p.border}; border-radius: {m.RADIUS_L}px; margin-top: 1.4em;
    padding: {m.M}px {m.M}px {m.S}px {m.M}px; background: {p.surface}; }}
QGroupBox::title {{ subcontrol-origin: margin; left: {m.M}px; padding: 0 {m.XS}px; color: {p.text};
    font-weight: 600; }}
QSplitter::handle {{ background: transparent; }}
QSplitter::handle:hover {{ background: {p.border}; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 0; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 0; }}
QScrollBar::handle {{ background: {p.border_strong}; border-radius: 4px; min-height: 24px; min-width: 24px; margin: 2px; }}
QScrollBar::handle:hover {{ background: {p.faint}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QStatusBar {{ background: {p.sidebar}; color: {p.muted}; border-top: 1px solid {p.border}; }}
QStatusBar QLabel {{ color: {p.muted}; padding: 0 {m.XS}px; }}
QMenu {{ background: {p.surface}; color: {p.text}; border: 1px solid {p.border_strong}; padding: {m.XS}px; }}
QMenu::item {{ padding: {m.XS + 1}px {m.L}px {m.XS + 1}px {m.XL}px; border-radius: {m.RADIUS_S}px; }}
QMenu::item:selected {{ background: {p.selection}; color: {p.text}; }}
QMenu::item:disabled {{ color: {p.faint}; }}
"""
