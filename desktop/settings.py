"""The app's own settings (language, generation defaults, model loading), kept in an
ini file in the user's data folder, never beside the program."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QSettings

from engine.api import BACKGROUND_MODES, GenerationSettings, LoadSettings, data_dir, set_background_mode

LANGUAGES = ("system", "ja", "en")
BACKGROUND_KEY = "cpu/background_while_answering"  # engine.budget.SETTING_KEY
# The generation settings the app lets people change (and so keeps).
GENERATION_KEYS = ("temperature", "top_k", "top_p", "min_p", "repeat_penalty", "max_tokens")


class Settings:
    def __init__(self, path=None) -> None:
        path = path or data_dir() / "settings.ini"
        self.q = QSettings(str(path), QSettings.Format.IniFormat)

    def get(self, key: str, default=None, kind=None):
        value = self.q.value(key, default)
        if kind is not None and value is not None:
            try:
                if kind is bool and isinstance(value, str):
                    return value.lower() in ("1", "true", "yes")
                return kind(value)
            except (TypeError, ValueError):
                return default
        return value

    def set(self, key: str, value) -> None:
        if value is None:
            self.q.remove(key)
        else:
            self.q.setValue(key, value)
        self.q.sync()

    # -- typed views -----------------------------------------------------------
    @property
    def language(self) -> str:
        lang = self.get("ui/language", "system", str)
        return lang if lang in LANGUAGES else "system"

    def generation(self) -> GenerationSettings:
        base = GenerationSettings()
        return dataclasses.replace(base, **{
            key: self.get(f"generation/{key}", getattr(base, key), type(getattr(base, key)))
            for key in GENERATION_KEYS})

    def set_generation(self, g: GenerationSettings) -> None:
        for key in GENERATION_KEYS:
            self.set(f"generation/{key}", getattr(g, key))

    def loading(self) -> LoadSettings:
        """None (automatic) is stored as an absent key."""
        return LoadSettings(n_ctx=self.get("model/n_ctx", None, int),
                            n_threads=self.get("model/n_threads", None, int),
                            n_gpu_layers=self.get("model/n_gpu_layers", None, int))

    def set_loading(self, s: LoadSettings) -> None:
        self.set("model/n_ctx", s.n_ctx)
        self.set("model/n_threads", s.n_threads)
        self.set("model/n_gpu_layers", s.n_gpu_layers)

    @property
    def model(self) -> str | None:
        return self.get("model/name", None, str) or None

    @model.setter
    def model(self, name: str | None) -> None:
        self.set("model/name", name)

    @property
    def background(self) -> str:
        """What indexing does while an answer is written: pause | slow | full."""
        mode = self.get(BACKGROUND_KEY, "pause", str)
        return mode if mode in BACKGROUND_MODES else "pause"

    @background.setter
    def background(self, mode: str) -> None:
        self.set(BACKGROUND_KEY, mode)
        set_background_mode(mode)
