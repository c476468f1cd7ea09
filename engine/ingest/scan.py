"""Walking a library folder: what to index, what to skip and why.

The walk follows symbolic links to folders but remembers every folder's
(device, inode), so a link loop is visited once and never hangs the scan.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .parsers import kind_for

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 100 * 1024 * 1024  # past this a file is almost always a log or a dump

# Folders that hold tools' output, not a person's documents.
SKIP_DIRS = {
    ".git": "version-control folder",
    ".hg": "version-control folder",
    ".svn": "version-control folder",
    "node_modules": "build or dependency folder",
    "__pycache__": "build or dependency folder",
    ".venv": "build or dependency folder",
    "venv": "build or dependency folder",
    "build": "build or dependency folder",
    "dist": "build or dependency folder",
    "target": "build or dependency folder",
    ".tox": "build or dependency folder",
    ".mypy_cache": "build or dependency folder",
    ".pytest_cache": "build or dependency folder",
    "$RECYCLE.BIN": "system folder",
    "System Volume Information": "system folder",
}

# Office lock files and editor leftovers.
_TEMP_PREFIXES = ("~$", ".~lock.")
_TEMP_SUFFIXES = ("~", ".tmp", ".swp", ".part", ".crdownload")


@dataclass(frozen=True)
class Found:
    """One entry of a scan: a file to index, or something skipped with its reason."""

    rel: str  # path relative to the library root, '/' separated
    size: int = 0
    mtime: float = 0.0
    skip: str | None = None  # reason, when skipped


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def scan(root: Path, max_bytes: int = MAX_FILE_BYTES) -> Iterator[Found]:
    """Every file under `root`, in a stable order, with skips and their reasons."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = folder.stat()
            key = (info.st_dev, info.st_ino)
            if key in seen:
                log.info("skipping %s: already visited through a link", folder)
                continue
            seen.add(key)
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except PermissionError:
            yield Found(_rel(root, folder) + "/", skip="no permission to read this folder")
            continue
        except OSError as exc:
            yield Found(_rel(root, folder) + "/", skip=f"cannot read this folder ({exc.strerror or exc})")
            continue
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            rel = _rel(root, path)
            name = entry.name
            try:
                is_dir = entry.is_dir()  # follows links
                if is_dir:
                    if name in SKIP_DIRS:
                        yield Found(rel + "/", skip=SKIP_DIRS[name])
                    elif name.startswith("."):
                        yield Found(rel + "/", skip="hidden folder")
                    else:
                        subfolders.append(path)
                    continue
                if not entry.is_file():
                    if entry.is_symlink():
                        yield Found(rel, skip="broken link")
                    continue  # sockets, fifos, devices: not documents
                st = entry.stat()
            except PermissionError:
                yield Found(rel, skip="no permission to read this file")
                continue
            except OSError as exc:
                yield Found(rel, skip=f"cannot read this file ({exc.strerror or exc})")
                continue
            if name.startswith("."):
                yield Found(rel, st.st_size, st.st_mtime, skip="hidden file")
            elif name.startswith(_TEMP_PREFIXES) or name.endswith(_TEMP_SUFFIXES):
                yield Found(rel, st.st_size, st.st_mtime, skip="temporary or lock file")
            elif kind_for(path) is None:
                suffix = path.suffix.lower() or "(none)"
                yield Found(rel, st.st_size, st.st_mtime, skip=f"unsupported file type {suffix}")
            elif st.st_size > max_bytes:
                yield Found(
                    rel, st.st_size, st.st_mtime,
                    skip=f"file is too large ({st.st_size / 1e6:.0f} MB; the limit is {max_bytes / 1e6:.0f} MB)",
                )
            elif not stat.S_ISREG(st.st_mode):
                continue
            else:
                yield Found(rel, st.st_size, st.st_mtime)
        stack.extend(reversed(subfolders))
