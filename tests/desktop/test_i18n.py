"""The Japanese translation: the compiled file exists, loads, translates, and is complete."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QTranslator


@pytest.fixture
def english(qapp):
    yield
    from desktop.i18n import apply_language

    apply_language("en")


def test_qm_file_exists_loads_and_translates(qapp):
    from desktop.i18n import translations_dir

    qm = translations_dir() / "bunko_ja.qm"
    assert qm.is_file()
    translator = QTranslator()
    assert translator.load(str(qm))
    assert translator.translate("MainWindow", "Libraries") == "ライブラリ"
    assert translator.translate("MainWindow", "New chat") == "新しいチャット"


def test_apply_language_installs_and_removes_the_translation(english):
    from desktop.i18n import apply_language, current_language

    assert apply_language("ja") == "ja" == current_language()
    assert QCoreApplication.translate("MainWindow", "Add folder…") == "フォルダーを追加…"
    assert apply_language("en") == "en"
    assert QCoreApplication.translate("MainWindow", "Add folder…") == "Add folder…"


def test_system_language_follows_the_locale(english, monkeypatch):
    from desktop.i18n import effective_language

    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale(QLocale.Language.Japanese)))
    assert effective_language("system") == "ja"
    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale(QLocale.Language.German)))
    assert effective_language("system") == "en"
    assert effective_language("ja") == "ja"


def _messages():
    from desktop.i18n import translations_dir

    root = ET.parse(translations_dir() / "bunko_ja.ts").getroot()
    for context in root.iter("context"):
        for message in context.iter("message"):
            yield context.findtext("name"), message.findtext("source"), message.find("translation")


def test_every_string_is_translated_with_the_same_placeholders():
    """A missing {name} in a translation would raise KeyError in .format() for Japanese users only."""
    untranslated, broken = [], []
    for context, source, translation in _messages():
        if translation.get("type") in ("unfinished", "vanished", "obsolete") or not (translation.text or "").strip():
            if translation.get("type") not in ("vanished", "obsolete"):
                untranslated.append((context, source))
            continue
        if sorted(re.findall(r"\{[^}]*\}", source)) != sorted(re.findall(r"\{[^}]*\}", translation.text)):
            broken.append((context, source, translation.text))
    assert not untranslated, f"run packaging/update_translations.sh and translate: {untranslated}"
    assert not broken, broken
