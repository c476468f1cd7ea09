"""Starting and stopping the desktop app.

Order matters for the first impression: only what the window needs before it
can paint (Qt, settings, translations, the database file) happens before
show(); the chat model, the embedder and resuming indexing start afterwards,
in the background.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.api import BunkoError, Engine, default_db_path, log_dir
from engine.errors import StoreLockedError

log = logging.getLogger(__name__)

# Set by `bunko bench ui`: print when the window first paints, then quit.
PROBE_ENV = "BUNKO_STARTUP_PROBE"
PROBE_MARK = "BUNKO_FIRST_PAINT"

_log_handler: logging.Handler | None = None


class _PrivateLog(logging.handlers.RotatingFileHandler):
    """A log file only this user can read, also each new one after a rotation."""

    def _open(self):
        stream = super()._open()
        if os.name == "posix":
            try:
                os.chmod(self.baseFilename, 0o600)
            except OSError:
                pass
        return stream


def setup_logging() -> str:
    """A rotating log file in the user's log folder; returns its path."""
    global _log_handler
    path = str(log_dir() / "bunko.log")
    root = logging.getLogger()
    if _log_handler is not None:  # main() run again (tests): one file at a time
        root.removeHandler(_log_handler)
        _log_handler.close()
    handler = _PrivateLog(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    _log_handler = handler
    return path


class ErrorReporter(QObject):
    """sys.excepthook and threading.excepthook: log, tell the person, keep running."""

    report = Signal(object)

    def __init__(self, ctx=None) -> None:
        super().__init__()
        self.ctx = ctx
        self._showing = False
        self._previous = None
        # Queued even on the UI thread: the dialog opens after the failing slot has returned.
        self.report.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = None

    def excepthook(self, kind, exc, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QCoreApplication.quit()
            return
        log.critical("unexpected error", exc_info=(kind, exc, tb))
        self.report.emit(exc)

    def thread_excepthook(self, args) -> None:
        if args.exc_type is SystemExit:
            return
        log.critical("unexpected error in thread %s", getattr(args.thread, "name", "?"),
                     exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        self.report.emit(args.exc_value)

    def _show(self, exc: BaseException) -> None:
        if self._showing:  # a storm of errors (say, in a paint handler) gets one dialog
            return
        self._showing = True
        try:
            if self.ctx is not None:
                self.ctx.show_error(exc)
            else:
                QMessageBox.critical(None, QCoreApplication.translate("App", "Something went wrong"),
                                     QCoreApplication.translate(
                                         "App", "Bunko hit an unexpected problem.\n\n{error}\n\n"
                                         "The details are in the log: {log}").format(
                                         error=f"{type(exc).__name__}: {exc}", log=log_dir() / "bunko.log"))
        except Exception:  # never let the error dialog itself take the app down
            log.exception("could not show the error dialog")
        finally:
            self._showing = False


def register_fonts() -> int:
    """Fonts shipped in resources/fonts (the packaged Japanese font); returns how many loaded."""
    from .i18n import resources_dir

    folder = resources_dir() / "fonts"
    loaded = 0
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in (".ttf", ".otf"):
                if QFontDatabase.addApplicationFont(str(path)) >= 0:
                    loaded += 1
                else:
                    log.warning("font %s could not be loaded", path)
    return loaded


def _make_app(argv: list[str]) -> QApplication:
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv)
    app.setApplicationName("Bunko")
    app.setApplicationDisplayName("Bunko")
    app.setOrganizationName("")
    app.setDesktopFileName("bunko")
    from .i18n import resources_dir

    icon = resources_dir() / "icons" / "bunko.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    return app


class _FirstPaint(QObject):
    """For the startup benchmark: report the first paint of the window, then close it."""

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            print(f"{PROBE_MARK} {time.time():.6f}", flush=True)
            obj.removeEventFilter(self)
            QTimer.singleShot(0, obj.close)
        return False


def after_show(ctx, window) -> None:
    """The slow parts of starting, once the window is on screen: the chat model first, then
    the other pages and resumed indexing (after it, so that they do not race it to register
    the built-in model on a first start, nor fight it for the CPU)."""
    ctx.status.emit(QCoreApplication.translate("App", "Loading the chat model…"))

    def rest() -> None:
        window.create_pages()
        libraries = window.page("libraries")
        if hasattr(libraries, "resume_all"):
            libraries.resume_all()

    def loaded(state) -> None:
        ctx.notify("model", state)
        ctx.status.emit(QCoreApplication.translate("App", "Ready"))
        rest()

    def failed(exc: BaseException) -> None:
        ctx.notify("model", None)
        rest()
        ctx.show_error(exc)

    ctx.runner.run(ctx.engine.models.load, ctx.settings.model, ctx.settings.loading(),
                   key="model", on_done=loaded, on_error=failed)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    app = _make_app(argv)
    log_path = setup_logging()
    log.info("Bunko starting (pid %d)", os.getpid())

    from .i18n import apply_language
    from .settings import Settings
    from .single_instance import SingleInstance, key_for

    db_path = default_db_path()
    instance = SingleInstance(key_for(db_path))
    if instance.notify_running():
        print("Bunko is already open; its window has been brought to the front.", file=sys.stderr)
        return 0
    instance.listen()

    settings = Settings()
    apply_language(settings.language)
    settings.background = settings.background  # the engine's CPU budget follows the setting
    register_fonts()  # before the theme, whose font falls back to the bundled Japanese one
    from .theme import apply_theme

    apply_theme(settings.get("ui/theme", "system", str))
    reporter = ErrorReporter()
    reporter.install()
    try:
        return _run(app, instance, settings, reporter, db_path)
    finally:
        reporter.uninstall()
        instance.close()
        log.info("Bunko stopped (log: %s)", log_path)


def _run(app: QApplication, instance, settings, reporter: ErrorReporter, db_path) -> int:
    try:
        engine = Engine.open(db_path)
    except StoreLockedError as exc:
        log.warning("database locked: %s", exc)
        print(str(exc), file=sys.stderr)
        QMessageBox.critical(None, QCoreApplication.translate("App", "Bunko cannot start"),
                             QCoreApplication.translate(
                                 "App", "The Bunko database is in use by another program, so Bunko "
                                 "cannot open it.\n\n{details}").format(details=exc))
        return 1
    except BunkoError as exc:
        log.error("cannot open the database: %s", exc)
        print(str(exc), file=sys.stderr)
        QMessageBox.critical(None, QCoreApplication.translate("App", "Bunko cannot start"), str(exc))
        return 1

    from .context import AppContext
    from .main_window import MainWindow

    ctx = AppContext(engine, settings)
    reporter.ctx = ctx
    window = MainWindow(ctx)
    ctx.window = window
    instance.activated.connect(window.bring_to_front)
    probe = os.environ.get(PROBE_ENV)
    if probe:
        first_paint = _FirstPaint(window)
        window.installEventFilter(first_paint)
    window.show()
    if not probe:
        QTimer.singleShot(0, lambda: after_show(ctx, window))
    try:
        return app.exec()
    finally:
        # The window's closeEvent already asked the pages to stop; wait for their work.
        if not ctx.shut_down(30):
            log.warning("background work did not stop within 30 s")
        try:
            engine.close()
        except Exception:  # closing must not turn a clean exit into a crash report
            log.exception("closing the engine failed")


if __name__ == "__main__":
    sys.exit(main())
