"""Where Bunko keeps its files: the user's data directories, never beside the code.

`BUNKO_DATA_DIR` overrides the root (tests, portable installs, a second profile).
Bunko's folders hold the user's documents in another form (chunks, answers, training
data), so they are private to the user (0700), even where home folders are 0755.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "bunko"


def private_dir(path: Path) -> Path:
    """`path` made (with its missing parents) readable by this user only; an existing folder of
    this user's that others could read is closed."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(path, 0o700)
    return path


def make_private(path: Path, mode: int = 0o600) -> None:
    """Take group and other access away from this user's own file or folder (POSIX only)."""
    if os.name != "posix":
        return
    try:
        st = os.stat(path)
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.chmod(path, mode)
    except OSError:
        pass   # someone else's, or gone: nothing to tighten


def data_dir() -> Path:
    override = os.environ.get("BUNKO_DATA_DIR")
    root = Path(override) if override else platformdirs.user_data_path(APP_NAME, appauthor=False)
    return private_dir(root)


def default_db_path() -> Path:
    return data_dir() / "bunko.duckdb"


def models_dir() -> Path:
    return private_dir(data_dir() / "models")


def log_dir() -> Path:
    override = os.environ.get("BUNKO_DATA_DIR")
    root = Path(override) / "logs" if override else platformdirs.user_log_path(APP_NAME, appauthor=False)
    return private_dir(root)


def machine_dir() -> Path:
    """What is true of this computer whatever the profile (the llama.cpp probe's verdict):
    the user's cache folder, or BUNKO_MACHINE_DIR."""
    override = os.environ.get("BUNKO_MACHINE_DIR")
    root = Path(override) if override else platformdirs.user_cache_path(APP_NAME, appauthor=False) / "machine"
    return private_dir(root)


def bundle_dir() -> Path | None:
    """The unpacked folder of a PyInstaller build (read-only for Bunko), None otherwise."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) if bundle else None


def bundled_model(name: str) -> Path | None:
    """A model shipped inside a packaged build (`models/<name>` there), if this is one and has it."""
    bundle = bundle_dir()
    path = bundle / "models" / name if bundle else None
    return path if path is not None and path.exists() else None


# A file whose name is not valid UTF-8 (a Shift_JIS name unpacked on Linux) has
# no path that survives a trip through Qt or JSON as text; its `file:` URI, with
# each byte of the name percent-encoded, does, and opens the very file.

def file_uri(root: str, rel: str, raw: bytes | None = None) -> str:
    """The `file:` URI of `rel` under `root`; `raw` is the name's own bytes where they
    are not valid UTF-8 (documents.path_raw), and then `rel` is only its display form."""
    if os.name == "nt" or raw is None:
        return Path(root, rel).absolute().as_uri()
    from urllib.parse import quote_from_bytes
    full = os.path.join(os.path.abspath(os.fsencode(root)), raw)
    return "file://" + quote_from_bytes(full, safe="/")


def uri_path(uri: str) -> str:
    """The local path of a `file:` URI made by `file_uri`, as Python's file functions
    take it (a name that is not UTF-8 comes back with its bytes as surrogate escapes)."""
    from urllib.parse import unquote, unquote_to_bytes, urlsplit
    parts = urlsplit(uri)
    if os.name == "nt":
        from urllib.request import url2pathname
        return url2pathname(unquote(parts.path) if parts.netloc == "" else f"//{parts.netloc}{parts.path}")
    return os.fsdecode(unquote_to_bytes(parts.path))
