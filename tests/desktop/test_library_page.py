"""The Libraries page against a real engine: add, index, skipped files, pause/resume, watch, remove."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from desktop.widgets import DETAIL_ROLE, PROGRESS_ROLE, TONE_ROLE

TIMEOUT = 30_000


def write_folder(folder):
    folder.mkdir()
    (folder / "travel.md").write_text("# 出張規程\n\n出張の日当は三千円です。宿泊費は実費精算です。\n", encoding="utf-8")
    (folder / "notes.txt").write_text("Meeting notes: the budget for the new office was approved.\n", encoding="utf-8")
    (folder / "leave.txt").write_bytes("社内規程：有給休暇は年に二十日です。申請は上長へ。\n".encode("shift_jis"))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    (folder / "photo.xyz").write_bytes(b"\x00\x01\x02")
    return folder


def library(ctx, name):
    return next((lib for lib in ctx.engine.libraries.list() if lib.name == name), None)


@pytest.fixture
def page(ctx, qtbot):
    from desktop.library import LibrariesPage

    ctx.settings.set("library/watch_interval", 0.5)
    widget = LibrariesPage(ctx)
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def status_cell(page, name: str) -> tuple:
    """What the Status column draws for a library: text, tone, progress, time left."""
    row = next(r for r in range(page.table.rowCount())
               if page.table.item(r, page.NAME).data(Qt.ItemDataRole.UserRole) == name)
    item = page.table.item(row, page.STATUS)
    return tuple(item.data(role) for role in (Qt.ItemDataRole.DisplayRole, TONE_ROLE, PROGRESS_ROLE, DETAIL_ROLE))


def test_add_index_skipped_and_remove(ctx, page, qtbot, tmp_path, no_dialogs):
    folder = write_folder(tmp_path / "規程")
    seen, changed = [], []
    ctx.indexing.connect(seen.append)
    ctx.changed.connect(lambda c: c.kind == "libraries" and changed.append(1))

    page.add_folder(folder)
    qtbot.waitUntil(lambda: (lib := library(ctx, "規程")) is not None and lib.indexed_at is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not page.is_indexing(), timeout=TIMEOUT)
    lib = library(ctx, "規程")
    assert (lib.documents, lib.skipped, lib.errors) == (3, 1, 1)
    assert not no_dialogs

    # The table shows the new counts, and the run reached the progress widgets and the status bar.
    qtbot.waitUntil(lambda: (page.row_values("規程") or {}).get("documents") == 3, timeout=TIMEOUT)
    row = page.row_values("規程")
    assert row["folder"] == str(folder.resolve()) and row["chunks"] == lib.chunks > 0
    assert (row["skipped"], row["failed"], row["watch"]) == (1, 1, False)
    assert row["updated"]
    assert status_cell(page, "規程") == ("Ready", "success", None, "")      # a badge, no bar once done
    failed = page.table.item(0, page.FAILED)
    assert failed.data(TONE_ROLE) == "danger"                                # a failed file shows red
    assert {p.phase for p in seen} >= {"scanning", "done"} and seen[-1].phase == "done"
    assert page.progress.bar.maximum() >= 1 and "Chunks" in page.progress.chunks.text()
    assert changed and page.progress.isHidden()

    # The skipped and failed files, with their reasons.
    page.select("規程")
    qtbot.waitUntil(lambda: len(page.skipped.rows()) == 2, timeout=TIMEOUT)
    rows = {r[0]: r for r in page.skipped.rows()}
    assert rows["broken.pdf"][1] == "Failed" and rows["broken.pdf"][2]
    assert rows["photo.xyz"][1] == "Skipped" and ".xyz" in rows["photo.xyz"][2]
    assert page.skipped.tree.isSortingEnabled()

    # Engine errors reach the person, not a crash: a missing folder, then a vanished one.
    page.add_folder(tmp_path / "missing")
    qtbot.waitUntil(lambda: len(no_dialogs) == 1, timeout=TIMEOUT)
    assert no_dialogs[0][0] == "warning" and "does not exist" in no_dialogs[0][1]

    # Remove asks, says the folder stays, and forgets the library.
    page.remove("規程")
    assert no_dialogs[-1][0] == "question" and str(folder.resolve()) in no_dialogs[-1][1]
    qtbot.waitUntil(lambda: library(ctx, "規程") is None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: page.table.rowCount() == 0, timeout=TIMEOUT)
    assert (folder / "broken.pdf").exists()


def test_pause_then_resume_finishes_the_run(ctx, page, qtbot, tmp_path, no_dialogs):
    folder = tmp_path / "many"
    folder.mkdir()
    total = 320
    for i in range(total):
        (folder / f"note{i:03d}.txt").write_text(f"Note {i}: trip {i} was approved. 出張{i}回目の日当。", encoding="utf-8")
    paused, running = [], []

    def pause_once(p):
        if not paused and p.phase == "indexing" and p.files_done:
            paused.append(p.files_done)
            running.append(status_cell(page, "many"))
            qtbot.mouseClick(page.progress.pause_button, Qt.MouseButton.LeftButton)

    ctx.indexing.connect(pause_once)
    page.add_folder(folder)
    qtbot.waitUntil(lambda: page.queue.paused_name == "many", timeout=TIMEOUT)
    text, tone, progress, _left = running[0]
    assert (text, tone) == ("Indexing", "accent") and 0 <= progress <= 1      # the row shows the run's bar
    assert status_cell(page, "many")[:2] == ("Paused", "warning")
    assert page.progress.pause_button.text() == "Resume" and "Paused" in page.progress.title.text()
    for widget in (page, page.progress, page.skipped):  # a language switch redraws, keeping the state
        QApplication.sendEvent(widget, QEvent(QEvent.Type.LanguageChange))
    assert page.progress.pause_button.text() == "Resume" and page.add_button.text() == "Add folder…"
    assert not page.is_indexing()
    done_before = library(ctx, "many").documents
    assert 0 < done_before < total

    qtbot.mouseClick(page.progress.pause_button, Qt.MouseButton.LeftButton)  # Resume
    qtbot.waitUntil(lambda: library(ctx, "many").documents == total and not page.queue.busy(), timeout=TIMEOUT)
    lib = library(ctx, "many")
    assert lib.chunks == total and lib.indexed_at is not None  # nothing lost, nothing twice
    assert not no_dialogs


def test_watch_picks_up_a_new_file_and_drop_adds_a_folder(ctx, page, qtbot, tmp_path, no_dialogs):
    folder = tmp_path / "watched"
    folder.mkdir()
    (folder / "a.txt").write_text("The first document.", encoding="utf-8")

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    page.dropEvent(drop)
    qtbot.waitUntil(lambda: (lib := library(ctx, "watched")) is not None and lib.documents == 1, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: page.row_values("watched") is not None, timeout=TIMEOUT)

    row = next(r for r in range(page.table.rowCount())
               if page.table.item(r, page.NAME).data(Qt.ItemDataRole.UserRole) == "watched")
    page.table.item(row, page.WATCH).setCheckState(Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: library(ctx, "watched").watch, timeout=TIMEOUT)

    (folder / "b.txt").write_text("A second document, written later: 新しい文書。", encoding="utf-8")
    qtbot.waitUntil(lambda: library(ctx, "watched").documents == 2, timeout=TIMEOUT)

    # A watched folder that vanished is reported in its row, quietly (no dialog every tick).
    folder.rename(tmp_path / "gone")
    qtbot.waitUntil(lambda: "missing" in str((page.row_values("watched") or {}).get("error")), timeout=TIMEOUT)
    assert not no_dialogs
    assert status_cell(page, "watched")[:2] == ("Failed", "danger")
    page.reindex("watched")  # asked for by the person: now it is a dialog
    qtbot.waitUntil(lambda: len(no_dialogs) == 1, timeout=TIMEOUT)
    assert "missing" in no_dialogs[0][1]
