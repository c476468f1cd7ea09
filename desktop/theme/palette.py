"""The colours of Bunko, light and dark, as named roles; and the QPalette made from them.

Pages never name a colour: they use a role (muted text, a success badge, the accent)
through the stylesheet (style.py) or, for widgets that paint themselves, `current()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette


@dataclass(frozen=True)
class Palette:
    dark: bool
    window: str          # behind everything
    surface: str         # cards, tables, inputs, answers
    surface_alt: str     # alternate rows, hover, code
    sidebar: str
    border: str
    border_strong: str
    text: str
    muted: str           # secondary text: captions, hints, meta lines
    faint: str           # placeholders, disabled
    accent: str          # primary buttons, progress, the active page
    accent_hover: str
    accent_text: str     # text on the accent
    accent_fg: str       # accent-coloured text on a surface (links, chips, active nav)
    accent_soft: str     # tinted backgrounds: active nav row, chips
    user_bubble: str
    selection: str
    success: str
    success_soft: str
    warning: str
    warning_soft: str
    danger: str
    danger_soft: str
    code_bg: str
    focus: str           # the keyboard focus ring


LIGHT = Palette(
    dark=False, window="#f5f6f8", surface="#ffffff", surface_alt="#eef1f5", sidebar="#eceff3",
    border="#d9dee5", border_strong="#b3bcc8", text="#1b2330", muted="#556070", faint="#8a93a0",
    accent="#2563c9", accent_hover="#1d55b0", accent_text="#ffffff", accent_fg="#1f5fc8",
    accent_soft="#e2ecfb", user_bubble="#e4edfb", selection="#cfe0fa",
    success="#1f7a4d", success_soft="#dcf2e6", warning="#955400", warning_soft="#fcecd5",
    danger="#b42318", danger_soft="#fde4e1", code_bg="#f1f3f6", focus="#2563c9")

DARK = Palette(
    dark=True, window="#181a1f", surface="#212429", surface_alt="#2a2e34", sidebar="#14161a",
    border="#363b43", border_strong="#4d5560", text="#e7e9ec", muted="#a3abb6", faint="#737b87",
    accent="#2f6fd6", accent_hover="#3d7fe6", accent_text="#ffffff", accent_fg="#8ab4f8",
    accent_soft="#1f2f4a", user_bubble="#22324d", selection="#2a436b",
    success="#4cc38a", success_soft="#173828", warning="#e9a84a", warning_soft="#3d2c12",
    danger="#ff7b70", danger_soft="#43201d", code_bg="#1b1e23", focus="#6aa1f3")


def qpalette(p: Palette) -> QPalette:
    """The Qt palette for widgets the stylesheet leaves alone (dialogs, menus, Fusion's own drawing)."""
    R, G = QPalette.ColorRole, QPalette.ColorGroup
    out = QPalette()
    for role, colour in ((R.Window, p.window), (R.WindowText, p.text), (R.Base, p.surface),
                         (R.AlternateBase, p.surface_alt), (R.ToolTipBase, p.surface), (R.ToolTipText, p.text),
                         (R.PlaceholderText, p.faint), (R.Text, p.text), (R.Button, p.surface),
                         (R.ButtonText, p.text), (R.BrightText, p.danger), (R.Highlight, p.accent),
                         (R.HighlightedText, p.accent_text), (R.Link, p.accent_fg), (R.LinkVisited, p.accent_fg),
                         (R.Mid, p.border_strong), (R.Midlight, p.border), (R.Dark, p.border_strong),
                         (R.Light, p.surface), (R.Shadow, "#000000"), (R.Accent, p.accent)):
        out.setColor(role, QColor(colour))
    for role in (R.Text, R.WindowText, R.ButtonText):
        out.setColor(G.Disabled, role, QColor(p.faint))
    return out
