"""Finding the files in `resources/` (beside the code, installed, or inside a PyInstaller bundle),
and choosing the language of a prompt template."""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path


_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def language_of(text: str) -> str:
    """'ja' when the text has kana or kanji, else 'en': prompts follow the question."""
    return "ja" if _JAPANESE.search(text or "") else "en"


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)  # set by a PyInstaller build
    if bundle:
        return Path(bundle) / "resources"
    import resources

    return Path(resources.__file__).parent


@cache
def prompt(name: str, lang: str | None = None) -> str:
    """A prompt template, `prompts/{name}_{lang}.txt` (English if that language has none)."""
    folder = resources_dir() / "prompts"
    for candidate in ([f"{name}_{lang}.txt"] if lang else []) + [f"{name}_en.txt", f"{name}.txt"]:
        path = folder / candidate
        if path.is_file():
            return path.read_text(encoding="utf-8").rstrip("\n")
    raise FileNotFoundError(f"no prompt template {name!r} in {folder}")
