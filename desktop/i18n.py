"""The UI language: Bunko's own Japanese translation plus Qt's, installed and swapped live.

Installing or removing a translator makes Qt send QEvent.LanguageChange to
every widget, so a widget that rebuilds its texts in changeEvent() follows a
switch at once. English is the source language and needs no file.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

# Translators stay referenced here: Qt does not own them, and a collected one stops working.
_installed: list[QTranslator] = []
_current = "en"


def resources_dir() -> Path:
    """The repo's `resources/` package, or its copy inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    import resources

    return Path(resources.__file__).parent


def translations_dir() -> Path:
    return resources_dir() / "i18n"


def effective_language(language: str) -> str:
    """"ja" or "en" for a setting of "system", "ja" or "en"."""
    if language in ("ja", "en"):
        return language
    return "ja" if QLocale.system().language() == QLocale.Language.Japanese else "en"


def current_language() -> str:
    """The language now installed: "ja" or "en"."""
    return _current


def _load(name: str, folder: Path | str) -> QTranslator | None:
    translator = QTranslator()
    if translator.load(name, str(folder)):
        return translator
    log.info("no translation %s in %s", name, folder)
    return None


def apply_language(language: str) -> str:
    """Install the translators for a setting ("system", "ja", "en"); returns "ja" or "en"."""
    global _current
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("apply_language needs a QApplication")
    lang = effective_language(language)
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    if lang == "ja":
        qt_folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        for name, folder in (("qtbase_ja", qt_folder), ("bunko_ja", translations_dir())):
            translator = _load(name, folder)
            if translator is not None:
                app.installTranslator(translator)
                _installed.append(translator)
    QLocale.setDefault(QLocale(QLocale.Language.Japanese if lang == "ja" else QLocale.Language.English,
                               QLocale.Country.Japan if lang == "ja" else QLocale.Country.UnitedStates))
    _current = lang
    log.info("UI language %s (setting %s)", lang, language)
    return lang


class Retranslating:
    """Mixin for widgets with a `retranslate()` that sets their texts: called again when the
    language changes while the app runs. List it before the Qt base class."""

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
