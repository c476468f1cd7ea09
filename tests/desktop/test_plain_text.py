"""Text that comes from servers and documents is shown as written, never as markup: an error with
<img>/<a>/<table> in it, a file name with tags, are plain text in the labels and message boxes
that show them (Qt would otherwise render a line holding a tag as rich text)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument

from engine.errors import EndpointError
from engine.types import Source

EVIL = "http://x/v1 stopped with an error: <img src='file:///etc/passwd'><a href='http://evil'>click</a><table>"


def test_error_labels_of_the_model_dialogs_are_plain(ctx, qtbot):
    from desktop.models.catalog_dialog import CatalogDialog
    from desktop.models.remote_dialogs import EndpointDialog, GpuServerDialog

    for dialog in (EndpointDialog(ctx), GpuServerDialog(ctx)):
        qtbot.addWidget(dialog)
        dialog._failed(EndpointError(EVIL))
        assert dialog.message.textFormat() == Qt.TextFormat.PlainText and dialog.message.text() == EVIL
    catalog = CatalogDialog(ctx)
    qtbot.addWidget(catalog)
    assert catalog.status.textFormat() == Qt.TextFormat.PlainText
    assert catalog.reason.textFormat() == Qt.TextFormat.PlainText


def test_an_error_box_shows_the_servers_words_as_written(ctx, no_dialogs):
    ctx.show_error(EndpointError(EVIL))
    kind, text = no_dialogs[-1]
    doc = QTextDocument()
    doc.setHtml(text)
    assert kind == "warning" and doc.toPlainText() == EVIL    # rendered, it reads exactly as the text
    assert "<img" not in text and "&lt;img" in text


def test_a_file_name_with_tags_is_shown_as_written(qtbot, tmp_path):
    from desktop.chat.citation_preview import CitationPreview

    name = "<b>bold</b><img src=x>.txt"
    source = Source(number=1, library="lib", path=name, abs_path=str(tmp_path / name), location="<i>p. 1</i>",
                    text="passage")
    preview = CitationPreview(source)
    qtbot.addWidget(preview)
    assert preview.file_label.textFormat() == Qt.TextFormat.PlainText and preview.file_label.text().endswith(name)
    assert preview.location_label.textFormat() == Qt.TextFormat.PlainText
    assert "&lt;b&gt;bold" in preview.path_label.text()
