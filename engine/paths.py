"""Where Bunko keeps its files: the user's data directories, never beside the code.

`BUNKO_DATA_DIR` overrides the root (tests, portable installs, a second profile).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "bunko"


def data_dir() -> Path:
    override = os.environ.get("BUNKO_DATA_DIR")
    root = Path(override) if override else platformdirs.user_data_path(APP_NAME, appauthor=False)
    root.mkdir(parents=True, exist_ok=True)
    return root


def default_db_path() -> Path:
    return data_dir() / "bunko.duckdb"


def models_dir() -> Path:
    return data_dir() / "models"


def log_dir() -> Path:
    override = os.environ.get("BUNKO_DATA_DIR")
    root = Path(override) / "logs" if override else platformdirs.user_log_path(APP_NAME, appauthor=False)
    root.mkdir(parents=True, exist_ok=True)
    return root


def bundle_dir() -> Path | None:
    """The unpacked folder of a PyInstaller build (read-only for Bunko), None otherwise."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) if bundle else None


def bundled_model(name: str) -> Path | None:
    """A model shipped inside a packaged build (`models/<name>` there), if this is one and has it."""
    bundle = bundle_dir()
    path = bundle / "models" / name if bundle else None
    return path if path is not None and path.exists() else None
