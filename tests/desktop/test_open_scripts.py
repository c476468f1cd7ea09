"""A cited script or program is never handed to the system's "open" (on Windows that runs a
.bat, .vbs, .js, .ps1 or .py): its citation offers "Show in folder" and reveals the folder;
documents still open in their program. Qt's own url-handler seam records what would open."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QProcess, Slot
from PySide6.QtGui import QDesktopServices

from engine.types import Source

SCRIPTS = ["run.bat", "run.cmd", "run.vbs", "run.js", "run.ps1", "run.py", "run.sh", "setup.exe", "x.hta",
           "macro.docm", "report.pdf.bat", "trail.bat.", "Trail.BAT"]


class Recorder(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls = []

    @Slot("QUrl")
    def open(self, url) -> None:
        self.urls.append(url)


@pytest.fixture
def opened():
    recorder = Recorder()
    QDesktopServices.setUrlHandler("file", recorder, "open")
    yield recorder.urls
    QDesktopServices.unsetUrlHandler("file")


def source_for(path: Path) -> Source:
    path.write_text("echo hi\n", encoding="utf-8")
    return Source(number=1, library="lib", path=path.name, abs_path=str(path), location="line 1",
                  text="echo hi", file_uri=path.as_uri())


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the folder is opened as a URL on Linux")
@pytest.mark.parametrize("name", SCRIPTS)
def test_a_cited_script_is_shown_in_its_folder_not_opened(qtbot, tmp_path, opened, name) -> None:
    from desktop.chat.citation_preview import CitationPreview

    preview = CitationPreview(source_for(tmp_path / name))
    qtbot.addWidget(preview)
    assert preview.open_button.text() == "Show in folder"
    preview.open_file()
    assert [u.toLocalFile().rstrip("/") for u in opened] == [str(tmp_path)]


def test_on_windows_a_script_is_selected_in_explorer(qtbot, tmp_path, opened, monkeypatch) -> None:
    from desktop.chat import citation_preview

    started = []
    monkeypatch.setattr(QProcess, "startDetached", staticmethod(lambda *a: started.append(a) or True))
    monkeypatch.setattr(citation_preview.sys, "platform", "win32")
    preview = citation_preview.CitationPreview(source_for(tmp_path / "evil.vbs"))
    qtbot.addWidget(preview)
    preview.open_file()
    assert opened == []
    assert started and started[0][0] == "explorer.exe" and started[0][1][0].startswith("/select,")


@pytest.mark.parametrize("name", ["report.pdf", "notes.TXT", "sheet.xlsx", "memo.docx"])
def test_a_document_still_opens_in_its_program(qtbot, tmp_path, opened, name) -> None:
    from desktop.chat.citation_preview import CitationPreview

    preview = CitationPreview(source_for(tmp_path / name))
    qtbot.addWidget(preview)
    assert preview.open_button.text() == "Open file"
    preview.open_file()
    assert [u.toLocalFile() for u in opened] == [str(tmp_path / name)]
