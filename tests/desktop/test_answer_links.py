"""An answer is text a document can steer, so its Markdown is shown without raw HTML and its
links are limited: citations open their passage, http(s) opens only after the person agrees,
file: and every other scheme never opens, and nothing it names is loaded. Real widgets, offscreen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QTextDocument
from PySide6.QtWidgets import QMessageBox

from engine.types import Source

HOSTILE = ("Here is <b>bold</b> and <a href=\"file:///etc/passwd\">a tag link</a> <img src=\"x.png\">\n\n"
           "<script>alert(1)</script>\n\n"
           "[the file](file:///etc/passwd) [the web](https://example.com/page) [js](javascript:alert(1)) "
           "[share](smb://server/share) [mail](mailto:a@example.com) and a source [1].")


def anchors(body) -> list[str]:
    found, block = [], body.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            href = it.fragment().charFormat().anchorHref()
            if href and href not in found:
                found.append(href)
            it += 1
        block = block.next()
    return found


@pytest.fixture
def view(qtbot, tmp_path):
    from desktop.chat import MessageView

    v = MessageView("assistant")
    qtbot.addWidget(v)
    v.set_sources([Source(1, "docs", "a.md", str(tmp_path / "a.md"), "", "A passage.")])
    v.set_text(HOSTILE)
    return v


def test_raw_html_is_shown_as_text(view):
    shown = view.body.toPlainText()
    assert "<b>bold</b>" in shown and "<script>alert(1)</script>" in shown and "<img src=" in shown
    # the tag's link is text, not a link: only the Markdown links are anchors
    assert sorted(anchors(view.body)) == sorted(["file:///etc/passwd", "https://example.com/page",
                                                 "javascript:alert(1)", "smb://server/share",
                                                 "mailto:a@example.com", "cite:1"])


def test_only_web_links_open_and_only_after_a_yes(view, monkeypatch):
    opened, asked = [], []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toString()) or True))
    reply = [QMessageBox.StandardButton.No]

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return reply[0]
    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    for href in anchors(view.body):
        if href != "cite:1":
            view.body.anchorClicked.emit(QUrl(href))
    assert opened == [] and len(asked) == 1 and "https://example.com/page" in asked[0]
    reply[0] = QMessageBox.StandardButton.Yes
    for href in anchors(view.body):
        if href != "cite:1":
            view.body.anchorClicked.emit(QUrl(href))
    assert opened == ["https://example.com/page"]
    view.body.anchorClicked.emit(QUrl("cite:1"))   # a citation still opens its passage, without asking
    assert view.preview is not None and view.preview.source.number == 1 and len(asked) == 2
    view.preview.close()


def test_nothing_an_answer_names_is_loaded(view, tmp_path):
    image = tmp_path / "x.png"
    from PySide6.QtGui import QImage

    QImage(4, 4, QImage.Format.Format_RGB32).save(str(image))
    kind = QTextDocument.ResourceType.ImageResource.value
    url = QUrl.fromLocalFile(str(image))
    assert view.body.loadResource(kind, url).isNull()
    view.set_text(f"![secret]({url.toString()})")
    view.body.document().size()   # lay it out
    loaded = view.body.document().resource(kind, url)
    assert loaded is None or loaded.isNull()
