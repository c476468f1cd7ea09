"""Walking a library folder: what to index, what to skip and why.

Links (symbolic links, and Windows junctions where Python sees them as links)
are followed only while they lead somewhere inside the library folder; one
that leads out of it (into ~/.ssh, or /proc/self/environ) is listed as skipped
with its reason, never read. The walk remembers every folder's (device, inode),
so a link loop is visited once and never hangs the scan. Only regular files
are read: named pipes, sockets and devices are listed and left alone.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator

from . import ignore
from .generated import generated_file, generated_folder
from .normalize import valid_text
from .parsers import kind_for

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 100 * 1024 * 1024  # past this a file is almost always a log or a dump

# Folders never indexed, whatever a library's switches say.
SKIP_DIRS = {
    ".git": "version-control folder",
    ".hg": "version-control folder",
    ".svn": "version-control folder",
    "$RECYCLE.BIN": "system folder",
    "System Volume Information": "system folder",
}
# Ignore files honoured in every folder, in this order (the later one wins). A library's
# "include generated and ignored files" switch sets .gitignore aside; .bunkoignore,
# written for Bunko, always applies.
GIT_IGNORE = ".gitignore"
BUNKO_IGNORE = ".bunkoignore"

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


# File names that are not valid UTF-8 (Shift_JIS names from a zip made on Japanese
# Windows) reach Python with one lone surrogate per bad byte; such a string can be
# neither stored nor printed. The database keeps a display form, with U+FFFD for
# each bad byte, and beside it the name's own bytes, which identify the file.

def display_path(rel: str) -> str:
    """`rel` as it can be stored and shown: each undecodable byte becomes U+FFFD."""
    return valid_text(rel)


def raw_path(rel: str) -> bytes | None:
    """The bytes of a name that is not valid Unicode, or None for an ordinary one."""
    return None if display_path(rel) == rel else os.fsencode(rel)


def stored_rel(path: str, raw: bytes | None) -> str:
    """The relative path as the scan gives it, from a row's (path, raw path)."""
    return os.fsdecode(raw) if raw is not None else path


# Pseudo-file systems whose "files" are a process's memory, environment or devices.
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")


def inside(path: str, folder: str) -> bool:
    """Whether `path` is `folder` or lies under it (both absolute and resolved)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def system_folder(path: str) -> str | None:
    """The pseudo-file system (/proc, /sys, /dev) that `path` lies in, if any."""
    if os.name != "posix":
        return None
    return next((top for top in SYSTEM_FOLDERS if inside(path, top)), None)


def _system_devices() -> dict[int, str]:
    """The devices of /proc, /sys and /dev where they are mounts of their own (a folder
    mounted from one of them inside a library is left alone too)."""
    if os.name != "posix":
        return {}
    try:
        own = os.stat("/").st_dev
    except OSError:
        return {}
    found = {}
    for top in SYSTEM_FOLDERS:
        try:
            dev = os.stat(top).st_dev
        except OSError:
            continue
        if dev != own:
            found[dev] = top
    return found


def _special(mode: int) -> str | None:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else "not a regular file"


def _ignored(rule: ignore.Rule) -> str:
    return f"ignored by {rule.source} (pattern {rule.pattern})"


def scan(root: Path, max_bytes: int = MAX_FILE_BYTES, include_generated: bool = False) -> Iterator[Found]:
    """Every file under `root`, in a stable order, with skips and their reasons.
    Generated code and what .gitignore files leave out are skipped unless
    `include_generated`; a skipped folder is listed once and never walked."""
    real_root = os.path.realpath(root)
    system = _system_devices()
    names = (BUNKO_IGNORE,) if include_generated else (GIT_IGNORE, BUNKO_IGNORE)
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, ignore.RuleSet]] = [(root, ignore.RuleSet())]
    while stack:
        folder, inherited = stack.pop()
        try:
            info = folder.stat()
            key = (info.st_dev, info.st_ino)
            if key in seen:
                log.info("skipping %s: already visited through a link", folder)
                continue
            seen.add(key)
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
            base = "" if folder == root else _rel(root, folder)
            own = ignore.read_rules(folder, base, names) if any(e.name in names for e in entries) else []
            rules = inherited.extend(own)
        except PermissionError:
            yield Found(_rel(root, folder) + "/", skip="no permission to read this folder")
            continue
        except OSError as exc:
            yield Found(_rel(root, folder) + "/", skip=f"cannot read this folder ({exc.strerror or exc})")
            continue
        subfolders: list[tuple[Path, ignore.RuleSet]] = []
        for entry in entries:
            path = Path(entry.path)
            rel = _rel(root, path)
            name = entry.name
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if not os.path.exists(target):
                        yield Found(rel, skip="broken link")
                        continue
                    if not inside(target, real_root):
                        kind = "folder" if os.path.isdir(target) else "file"
                        yield Found(rel + ("/" if kind == "folder" else ""),
                                    skip=f"link to a {kind} outside the library folder ({target}); not followed")
                        continue
                st = entry.stat()  # follows a link, which leads inside
                special = _special(st.st_mode)
                if special is not None:
                    yield Found(rel, skip=f"{special}, not a document")
                    continue
                if stat.S_ISDIR(st.st_mode):
                    rule = rules.match(rel, True) if rules else None
                    why = None if include_generated else generated_folder(name, entry.path)
                    if name in SKIP_DIRS:
                        yield Found(rel + "/", skip=SKIP_DIRS[name])
                    elif st.st_dev in system:
                        yield Found(rel + "/", skip=f"system folder ({system[st.st_dev]}), not documents")
                    elif rule is not None:
                        yield Found(rel + "/", skip=_ignored(rule))
                    elif why is not None:
                        yield Found(rel + "/", skip=why)
                    elif name.startswith("."):
                        yield Found(rel + "/", skip="hidden folder")
                    else:
                        subfolders.append((path, rules))
                    continue
            except PermissionError:
                yield Found(rel, skip="no permission to read this file")
                continue
            except OSError as exc:
                yield Found(rel, skip=f"cannot read this file ({exc.strerror or exc})")
                continue
            rule = rules.match(rel, False) if rules else None
            why = None if include_generated else generated_file(name, st.st_size)
            if rule is not None:
                yield Found(rel, st.st_size, st.st_mtime, skip=_ignored(rule))
            elif name.startswith("."):
                yield Found(rel, st.st_size, st.st_mtime, skip="hidden file")
            elif why is not None:
                yield Found(rel, st.st_size, st.st_mtime, skip=why)
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
            else:
                yield Found(rel, st.st_size, st.st_mtime)
        stack.extend(reversed(subfolders))
