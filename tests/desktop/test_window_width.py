"""A 1280×800 window stays 1280 px wide on every page, in Japanese and English, with
realistic content (an indexed library, a cited Japanese answer, fine-tuning jobs): no
page, label or status line may ask for more room than the window has."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).parent / "scripts"))

import page_shots  # noqa: E402

WIDTH = 1280


class _Widths(QObject):
    """Every width the window is given, and what each page asked for at that moment."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.grown: list[str] = []
        window.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Resize and event.size().width() > WIDTH:
            asks = {name: page.minimumSizeHint().width() for name, page in self.window._pages.items()}
            self.grown.append(f"window grew to {event.size().width()} px; pages ask for {asks}, "
                              f"status bar {self.window.statusBar().minimumSizeHint().width()}")
        return False


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_page_fits_a_1280_window(ctx, qtbot, styled, tmp_path, lang):
    from desktop.i18n import apply_language
    from desktop.main_window import PAGES, MainWindow

    app = QApplication.instance()
    apply_language(lang)
    styled.apply_theme("light")
    conversation = page_shots.add_content(ctx.engine, tmp_path / "docs")
    window = MainWindow(ctx)
    ctx.window = window
    qtbot.addWidget(window)
    widths = _Widths(window)
    window.resize(WIDTH, 800)
    window.show()
    window.create_pages()
    page_shots.settle(app, ctx, 0.3)
    page_shots.show_content(app, window, ctx, conversation)
    window.page("libraries").reindex("社内規程")        # the status bar and the row while indexing
    problems = []
    for name, _module, _cls in PAGES:
        window.show_page(name)
        page_shots.settle(app, ctx, 0.1)
        room = WIDTH - window.nav.width()
        ask = window.page(name).minimumSizeHint().width()
        if ask > room:
            problems.append(f"{name} asks for {ask} px, the window has {room} beside the navigation")
        if window.width() != WIDTH:
            problems.append(f"{name}: the window is {window.width()} px wide")
    chat = window.show_page("chat")
    chat.options.mode.setCurrentIndex(chat.options.mode.count() - 1)   # libraries + adapter: every control
    page_shots.settle(app, ctx, 0.1)
    assert chat.options.adapter.isVisibleTo(chat) and chat.options.libraries_button.isVisibleTo(chat)
    ask = chat.minimumSizeHint().width()
    if ask > WIDTH - window.nav.width():
        problems.append(f"chat with every option shown asks for {ask} px")
    problems += page_shots.clipped(chat)          # the bar gave way by folding, not by cutting text
    assert not problems + widths.grown, "\n".join(problems + widths.grown)
