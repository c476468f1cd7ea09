"""The application shell: main window, shortcuts, live language switch, single instance,
the error dialog, and a clear exit when the database is held by another process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QDir, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(ctx, qtbot):
    from desktop.main_window import MainWindow

    win = MainWindow(ctx)
    ctx.window = win
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    from desktop.i18n import apply_language

    apply_language("en")


@pytest.mark.offline
def test_main_window_opens_with_every_page(window):
    from desktop.main_window import PAGES

    window.create_pages()
    assert window.nav.count() == len(PAGES) == window.stack.count()
    for row, (name, _module, cls) in enumerate(PAGES):
        page = window.page(name)
        assert isinstance(page, QWidget)
        assert type(page).__name__ == cls, f"{name} page missing: {page!r}"
        window.nav.setCurrentRow(row)
        assert window.current_page_name() == name
    assert [window.nav.item(i).text() for i in range(6)] == ["Chat", "Libraries", "Models", "Fine-tune", "Compare",
                                                            "Settings"]
    window.show_page("chat")
    assert "Add a folder" in window.hint.library.text.text()


def test_first_run_guide_ticks_the_library_step_when_there_is_a_library(window, ctx, qtbot, tmp_path):
    qtbot.waitUntil(lambda: not window.hint.isHidden() and "libraries" in window.hint.state, timeout=10000)
    assert not window.hint.library.done
    ctx.engine.libraries.add(tmp_path)
    ctx.notify("libraries")
    qtbot.waitUntil(lambda: window.hint.library.done, timeout=10000)


@pytest.mark.offline
def test_after_show_loads_the_model_in_the_background(window, ctx, qtbot):
    from desktop.app import after_show

    with qtbot.waitSignal(ctx.changed, timeout=120000, check_params_cb=lambda c: c.kind == "model") as loaded:
        after_show(ctx, window)
    assert loaded.args[0].state is not None
    assert loaded.args[0].state.model in window.model_label.text()


def test_closing_during_indexing_and_an_answer_stops_both_and_indexing_resumes(window, ctx, qtbot, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(40):
        (folder / f"note_{i:02d}.txt").write_text(f"Note {i}: the meeting room {i} is on floor {i % 5}.\n" * 20,
                                                  encoding="utf-8")
    window.create_pages()
    libraries, chat = window.page("libraries"), window.page("chat")
    libraries.add_folder(str(folder))
    chat.ask_text("Which floor is meeting room 3 on?")
    qtbot.waitUntil(libraries.is_indexing, timeout=30000)
    window.close()
    assert ctx.runner.shutdown(60)
    assert not chat.is_streaming()
    name = ctx.engine.libraries.list()[0].name
    result = ctx.engine.libraries.index(name)       # the next start resumes: nothing lost, nothing twice
    assert not result.cancelled
    docs = ctx.engine.libraries.documents(name, status="indexed")
    assert len(docs) == len({d.path for d in docs}) == 40


def test_status_bar_shows_model_and_indexing(window, ctx):
    from engine.api import IndexProgress

    class State:
        model, adapter, offload, offload_reason, safe_settings = "SmolLM2", "style", "CPU", "no GPU", ""

    ctx.notify("model", State())
    assert "SmolLM2" in window.model_label.text() and "style" in window.model_label.text()
    assert "safe settings" not in window.model_label.text()
    State.safe_settings = "SmolLM2 crashed 2 times in a row with the default settings"
    ctx.notify("model", State())
    assert "safe settings" in window.model_label.text() and "crashed 2 times" in window.model_label.toolTip()
    ctx.indexing.emit(IndexProgress(library="docs", phase="indexing", files_total=10, files_done=4))
    assert window.index_label.isVisible() and "4/10" in window.index_label.text()
    ctx.status.emit("hello")
    assert window.statusBar().currentMessage() == "hello"


def _record(monkeypatch, page, method, calls):
    monkeypatch.setattr(page, method, lambda *args: calls.append((method, args)))


def test_shortcuts_reach_the_pages(window, monkeypatch, qtbot, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    window.create_pages()
    chat, libraries, models = window.page("chat"), window.page("libraries"), window.page("models")
    calls = []
    for page, method in ((chat, "new_conversation"), (chat, "focus_search"), (chat, "stop"),
                         (libraries, "add_folder"), (models, "add_model_file")):
        _record(monkeypatch, page, method, calls)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(tmp_path)))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "m.gguf"), "")))
    window.activateWindow()
    qtbot.waitActive(window)
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window, Qt.Key.Key_N, ctrl)
    qtbot.keyClick(window, Qt.Key.Key_F, ctrl)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.keyClick(window, Qt.Key.Key_O, ctrl)
    assert window.current_page_name() == "libraries"
    qtbot.keyClick(window, Qt.Key.Key_O, ctrl | shift)
    assert window.current_page_name() == "models"
    qtbot.keyClick(window, Qt.Key.Key_Comma, ctrl)
    assert window.current_page_name() == "settings"
    assert calls == [("new_conversation", ()), ("focus_search", ()), ("stop", ()),
                     ("add_folder", (str(tmp_path),)), ("add_model_file", (str(tmp_path / "m.gguf"),))]
    assert "0.1" in window.about_text() or "Bunko" in window.about_text()


def test_language_switch_retranslates_live(window, ctx):
    settings = window.page("settings")
    settings.language.setCurrentIndex(settings.language.findData("ja"))
    QApplication.processEvents()
    assert window.nav.item(1).text() == "ライブラリ"
    assert window.act_new_chat.text() == "新しいチャット"
    assert settings.theme_label.text() != "Theme"
    assert ctx.settings.language == "ja"
    settings.language.setCurrentIndex(settings.language.findData("en"))
    QApplication.processEvents()
    assert window.nav.item(1).text() == "Libraries"


def test_theme_switches_palette(window):
    from PySide6.QtGui import QPalette

    from desktop.settings_page import apply_theme

    try:
        apply_theme("dark")
        assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
        apply_theme("light")
        assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() >= 128
    finally:
        apply_theme("system")


def test_geometry_is_saved_and_restored(window, ctx, qtbot):
    from desktop.main_window import MainWindow

    window.resize(window.width(), 500)  # the offscreen screen is small: only the height is free
    window.close()
    assert ctx.settings.get("window/geometry") is not None
    again = MainWindow(ctx)
    qtbot.addWidget(again)
    assert again.height() == 500


def test_second_instance_asks_the_first_to_come_forward(qtbot):
    from desktop.single_instance import SingleInstance

    key = f"bunko-test-{uuid.uuid4().hex[:12]}"
    first, second = SingleInstance(key), SingleInstance(key)
    assert not first.notify_running(100)
    assert first.listen()
    try:
        with qtbot.waitSignal(first.activated, timeout=5000):
            assert second.notify_running()
    finally:
        first.close()
    assert not second.notify_running(100)  # closed: nobody answers any more


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes leave no file behind")
def test_stale_socket_after_a_crash_is_replaced(qtbot):
    import socket

    from desktop.single_instance import SingleInstance

    key = f"bunko-test-{uuid.uuid4().hex[:12]}"
    path = os.path.join(QDir.tempPath(), key)
    crashed = socket.socket(socket.AF_UNIX)
    crashed.bind(path)  # bound, never listening, never unlinked: what a crash leaves
    crashed.close()
    instance = SingleInstance(key)
    try:
        assert not instance.notify_running(100)
        assert instance.listen()
    finally:
        instance.close()


def test_different_databases_get_different_keys(tmp_path):
    from desktop.single_instance import key_for

    assert key_for(tmp_path / "a.duckdb") != key_for(tmp_path / "b.duckdb")
    assert key_for(tmp_path / "a.duckdb") == key_for(str(tmp_path / "x" / ".." / "a.duckdb"))


@pytest.mark.qt_no_exception_capture
def test_unexpected_error_in_a_slot_shows_a_dialog_and_the_app_goes_on(ctx, qtbot, no_dialogs):
    from desktop.app import ErrorReporter

    reporter = ErrorReporter(ctx)
    reporter.install()
    try:
        def broken():
            raise RuntimeError("kaboom")
        QTimer.singleShot(0, broken)
        qtbot.waitUntil(lambda: len(no_dialogs) == 1, timeout=5000)
        kind, text = no_dialogs[0]
        assert kind == "critical" and "kaboom" in text and "bunko.log" in text
        later = []
        QTimer.singleShot(0, lambda: later.append(True))
        qtbot.waitUntil(lambda: later == [True], timeout=5000)   # the event loop still runs

        thread = threading.Thread(target=broken)
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda: len(no_dialogs) == 2, timeout=5000)
    finally:
        reporter.uninstall()


def test_locked_database_gives_a_clear_message_and_exit_1(data_dir, qtbot, no_dialogs, capsys):
    from desktop.app import main

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from engine.api import Engine; e = Engine.open(sys.argv[1]); "
         "print('ready', flush=True); sys.stdin.read()", str(data_dir / "bunko.duckdb")],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert main(["bunko"]) == 1
    finally:
        holder.stdin.close()
        holder.wait(30)
    assert len(no_dialogs) == 1
    kind, text = no_dialogs[0]
    assert kind == "critical" and "in use" in text
    assert "in use" in capsys.readouterr().err


def test_launcher_routes_commands(monkeypatch, capsys):
    import importlib.util

    from desktop import launcher

    seen = []
    monkeypatch.setattr(launcher, "run_cli", lambda argv: seen.append(("cli", argv)) or 0)
    monkeypatch.setattr("desktop.bench_ui.main", lambda argv: seen.append(("bench", argv)) or 0)
    monkeypatch.setattr("desktop.app.main", lambda argv=None: seen.append(("app", None)) or 0)
    assert launcher.main(["bench", "ui", "--json"]) == 0
    assert launcher.main(["bench", "--help"]) == 0
    assert launcher.main([]) == 0
    real_find = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "PySide6" else real_find(name, *a))
    assert launcher.main([]) == 0
    assert seen == [("bench", ["--json"]), ("cli", ["bench", "--help"]), ("app", None), ("cli", [])]
    assert "pip install PySide6" in capsys.readouterr().err


def test_whole_flow_through_the_window(window, ctx, qtbot, tmp_path):
    """Add a folder on the Libraries page, wait for indexing, ask on the Chat page, see a
    cited answer and open the citation: what a person does on a fresh install."""
    from engine.api import GenerationSettings

    folder = tmp_path / "規程"
    folder.mkdir()
    (folder / "travel.md").write_text("# Travel\n\nThe daily travel allowance is 4,700 yen per day.\n",
                                      encoding="utf-8")
    (folder / "security.md").write_text("# Security\n\nPasswords must be 14 characters long.\n", encoding="utf-8")
    ctx.settings.set_generation(GenerationSettings(temperature=0.0, max_tokens=24))
    window._call("libraries", "add_folder", folder)
    qtbot.waitUntil(lambda: any(lib.documents == 2 for lib in ctx.engine.libraries.list()), timeout=120_000)
    chat = window.page("chat")
    window.show_page("chat")
    chat.new_conversation()
    with qtbot.waitSignal(chat.answer_finished, timeout=180_000) as done:
        chat.ask_text("How much is the daily travel allowance?")
    answer = done.args[0]
    assert answer.status == "complete" and "4,700" in answer.text
    view = chat.transcript.views[-1]
    chip = next(c for c in view.chips if "travel.md" in c.text())
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    assert view.preview is not None and "4,700 yen" in view.preview.passage.toPlainText()
    view.preview.close()


def test_model_crash_mid_answer_keeps_the_window_and_the_partial_answer(window, ctx, qtbot):
    """The model's worker dies (SIGSEGV) while an answer streams in the window: the answer is kept as
    stopped with a note in words, and the next question is answered by a fresh worker."""
    import signal

    from engine.api import GenerationSettings

    ctx.settings.set_generation(GenerationSettings(temperature=0.0, max_tokens=300, repeat_penalty=1.0))
    chat = window.page("chat")
    window.show_page("chat")
    chat.new_conversation()
    with qtbot.waitSignal(chat.answer_finished, timeout=180_000) as done:
        chat.ask_text("Write a long story about a cat who travels around Japan by train.")
        qtbot.waitUntil(lambda: chat.transcript.views and len(chat.transcript.views[-1]._text) > 20, timeout=120_000)
        os.kill(ctx.engine.models.loaded().worker_pid, signal.SIGSEGV)
    answer = done.args[0]
    assert answer.status == "stopped" and answer.text
    view = chat.transcript.views[-1]
    assert view.notice_label.isVisible() and "stopped unexpectedly" in view.notice_label.text()
    assert "SIGSEGV" in view.notice_label.text()
    ctx.settings.set_generation(GenerationSettings(temperature=0.0, max_tokens=24))
    with qtbot.waitSignal(chat.answer_finished, timeout=180_000) as again:
        chat.ask_text("What is the capital of France?")
    assert again.args[0].status == "complete" and "Paris" in again.args[0].text


def test_log_files_are_private_also_after_rotation(data_dir):
    import logging
    import stat as _stat

    from desktop import app as app_module

    old = os.umask(0o022)
    try:
        path = app_module.setup_logging()
        handler = app_module._log_handler
        logging.getLogger("bunko.test").warning("a line")
        handler.doRollover()
        logging.getLogger("bunko.test").warning("another line")
        for p in (path, path + ".1"):
            assert _stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
        assert _stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    finally:
        os.umask(old)
        logging.getLogger().removeHandler(app_module._log_handler)
        app_module._log_handler.close()
        app_module._log_handler = None
