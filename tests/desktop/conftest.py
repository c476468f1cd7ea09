"""Real widgets, offscreen, against a real engine (tmp database, the embedded models)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_widgets_left():
    """After each test, its top-level widgets are deleted and the deletions carried out: a window
    a test left behind would otherwise be restyled by a later test's theme change (a segfault in
    QApplication.setStyleSheet was seen after the fine-tune wizard's drafting test)."""
    yield
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for widget in app.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


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
def shared_embedder(embedder_dir, embedder, monkeypatch):
    """Engines of the test still load their embedder on first use (pages say "first used" until
    then), but get the session's copy of the default e5 model (the `embedder` fixture) instead of
    opening the folder again, when they would open that very one. Any other request (another
    folder, graph, device or thread count; libraries made by another model) loads as before."""
    from pathlib import Path

    import engine.embed
    from engine.embed import device as dev

    real = engine.embed.load_embedder

    def load(model_dir=None, cache_dir=None, threads=None, graph=None, device=None, library_ids=None):
        same = (model_dir is not None and Path(model_dir) == Path(embedder_dir)
                and (cache_dir, threads, graph, device) == (None, None, None, None)
                and all(made == embedder.model_id for made in library_ids or ()))
        try:   # the device and graph the settings ask for now, as load_embedder would choose them
            providers = dev.choose_providers(dev.available_providers(), dev.wanted_device())
            same = same and (providers == embedder.providers
                             and dev.choose_graph(dev.wanted_graph(), providers, library_ids) == embedder.graph)
        except Exception:   # noqa: BLE001 - whatever it is, the real loader says it in its words
            same = False
        if same:
            return embedder
        return real(model_dir, cache_dir=cache_dir, threads=threads, graph=graph, device=device,
                    library_ids=library_ids)

    monkeypatch.setattr(engine.embed, "load_embedder", load)
    return embedder


@pytest.fixture
def ctx(qtbot, data_dir, embedder_dir, shared_embedder, no_dialogs):
    """An AppContext on a fresh database in the test's data folder (the e5 model shared, above)."""
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
