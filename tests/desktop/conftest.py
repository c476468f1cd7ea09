"""Real widgets, offscreen, against a real engine (tmp database, the embedded models)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """Each test gets its own Bunko data folder (settings, logs, database)."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("BUNKO_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def no_dialogs(monkeypatch):
    """Message boxes would block offscreen: record them instead. Returns the list of (kind, text)."""
    from PySide6.QtWidgets import QMessageBox

    shown = []
    for kind, answer in (("warning", QMessageBox.StandardButton.Ok), ("critical", QMessageBox.StandardButton.Ok),
                         ("information", QMessageBox.StandardButton.Ok),
                         ("question", QMessageBox.StandardButton.Yes)):
        def fake(parent, title, text, *args, _kind=kind, _answer=answer, **kwargs):
            shown.append((_kind, text))
            return _answer
        monkeypatch.setattr(QMessageBox, kind, staticmethod(fake))
    return shown


@pytest.fixture
def ctx(qtbot, data_dir, embedder_dir, no_dialogs):
    """An AppContext on a fresh database in the test's data folder."""
    from desktop.context import AppContext
    from desktop.settings import Settings
    from engine.api import Engine

    engine = Engine.open(data_dir / "bunko.duckdb", embedder_dir)
    context = AppContext(engine, Settings(data_dir / "settings.ini"))
    yield context
    context.shut_down(30)     # the test's widgets may live on a little: no real message box later
    engine.close()


@pytest.fixture
def styled():
    """The app's fonts and theme module; English and the system theme again afterwards."""
    from desktop import theme
    from desktop.app import register_fonts
    from desktop.i18n import apply_language

    register_fonts()
    yield theme
    apply_language("en")
    theme.apply_theme("system")
