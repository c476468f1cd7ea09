"""Citation chips keep the start of the file name and of the heading (elided in the middle),
wrap instead of being clipped by a narrow message, and skip reasons read in Japanese in a
Japanese window. Real widgets, offscreen; a screenshot is written for a person to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.types import Answer, Source

LONG = "ch04-01-what-is-ownership-and-borrowing-in-depth.md"
WHERE = "所有権とは？ > 所有権規則 > スタック領域とヒープ領域の違いについて, L28-57"


def sources() -> list[Source]:
    return [Source(n, "book", f"src/{LONG}", f"/b/{LONG}", WHERE.replace("L28", f"L{n}8"), f"passage {n}")
            for n in (1, 2, 3)]


def test_chip_text_keeps_the_start_of_name_and_heading():
    from desktop.chat.chips import chip_text

    text = chip_text(sources()[1])
    assert text.startswith("[2] ch04-01-what-is-") and "…" in text
    name, where = text[4:].split(" · ")
    assert name.startswith("ch04-01") and name.endswith(".md")
    assert where.startswith("所有権とは？") and where.endswith("L28-57")
    assert chip_text(Source(1, "d", "a.md", "/a.md", "", "x")) == "[1] a.md"


def test_chips_wrap_and_are_never_clipped(qtbot, styled, tmp_path):
    from desktop.chat import MessageView

    styled.apply_theme("light")  # the chips' own font and padding, as in the app
    view = MessageView("assistant")
    qtbot.addWidget(view)
    view.start_stream()
    answer = Answer("> 「所有者は一つである。」 [1]\n\n所有者がスコープを外れると値は破棄されます [2][3]。",
                    tuple(sources()), (1, 2, 3), "complete", {}, "qwen")
    view.finish(answer)
    view.resize(520, 400)
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(50)
    assert len(view.chips) == 3
    box = view.citations_box
    for chip in view.chips:
        hint = chip.sizeHint()
        assert chip.width() >= hint.width(), chip.text()           # the whole text fits its chip
        right = chip.mapTo(box, chip.rect().topRight()).x()
        assert right <= box.width(), chip.text()                   # and the chip fits the message
        assert "ch04-01" in chip.text() and "所有権とは" in chip.text()
    rows = {chip.mapTo(box, chip.rect().topLeft()).y() for chip in view.chips}
    assert len(rows) >= 2                                          # too wide for one row: wrapped
    folder = Path(os.environ.get("BUNKO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "citation_chips.png"
    assert view.grab().save(str(shot))
    assert shot.stat().st_size > 1000


@pytest.fixture
def japanese(qapp):
    from desktop.i18n import apply_language

    apply_language("ja")
    yield
    apply_language("en")


def test_skip_reasons_are_translated(japanese):
    from desktop.library.reasons import reason_text

    assert reason_text("unsupported file type .svg") != "unsupported file type .svg"
    assert ".svg" in reason_text("unsupported file type .svg")
    assert "1000" in reason_text("reading the file took too long (more than 1000 s); it was left out")
    assert reason_text("a named pipe, not a document").startswith(reason_text("a named pipe, not a document")[:2])
    assert reason_text("something no pattern knows") == "something no pattern knows"
    assert reason_text(None) == ""
