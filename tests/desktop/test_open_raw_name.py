"""A file whose name is not UTF-8 (Shift_JIS, unpacked on Linux), indexed and found by a real
search, opens from its citation by its real bytes: its display path (with U+FFFD) names no file.
The viewer is not launched: a url handler for file: (Qt's own seam) records what would open."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QDesktopServices

from engine.api import Engine
from tests.fakes import StubEmbedder
from engine.types import Source

SJIS_NAME = "報告書.txt".encode("cp932")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Windows names are UTF-16: never undecodable bytes")


class Recorder(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls = []

    @Slot("QUrl")
    def open(self, url) -> None:
        self.urls.append(url)


@pytest.fixture
def file_handler():
    recorder = Recorder()
    QDesktopServices.setUrlHandler("file", recorder, "open")
    yield recorder
    QDesktopServices.unsetUrlHandler("file")


def test_citation_of_a_shift_jis_named_file_opens_the_real_file(qtbot, tmp_path: Path, file_handler) -> None:
    from desktop.chat.citation_preview import CitationPreview

    root = tmp_path / "docs"
    root.mkdir()
    real = os.fsencode(root) + b"/" + SJIS_NAME
    Path(os.fsdecode(real)).write_bytes("売上は前年比120%でした。".encode("cp932"))
    engine = Engine.open(tmp_path / "bunko.duckdb", embedder=StubEmbedder())
    with engine:
        lib = engine.libraries.add(root)
        assert engine.libraries.index(lib.name).added == 1
        hit = engine.search("売上は前年比", k=1, mode="keyword")[0]
    source = Source.from_dict(Source.from_hit(1, hit).as_dict())  # as a conversation stores it
    assert "\ufffd" in source.abs_path and not os.path.exists(source.abs_path)

    preview = CitationPreview(source, "売上は前年比120%")
    qtbot.addWidget(preview)
    preview.open_file()
    assert len(file_handler.urls) == 1, preview.file_label.text()  # not "no longer there"
    url = file_handler.urls[0]
    assert url.isLocalFile()
    from urllib.parse import unquote_to_bytes
    assert unquote_to_bytes(bytes(url.toEncoded()).decode("ascii")[len("file://"):]) == real
