"""sha256 of files, the one way the engine reads a file through sha256 (and copies one while hashing).

Big model files are read in blocks, so memory stays flat; `on_bytes(n)` hears each block (a
progress meter, which may also raise Cancelled) and `cancel` is checked between blocks.
(engine/llm/remote/server_download.py keeps its own loop: it runs on a server with only Python.)
A package rather than a module beside api.py: engine/ keeps its loose modules few (shared/hooks).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO
from collections.abc import Callable, Iterable

BLOCK = 8 * 1024 * 1024


def _blocks(f: BinaryIO, limit: int | None, cancel) -> Iterable[bytes]:
    left = limit
    while left is None or left > 0:
        if cancel is not None:
            cancel.raise_if_cancelled()
        block = f.read(BLOCK if left is None else min(BLOCK, left))
        if not block:
            return
        if left is not None:
            left -= len(block)
        yield block


def sha256_file(path: str | Path, *, on_bytes: Callable[[int], None] | None = None, cancel=None,
                limit: int | None = None, digest=None):
    """The sha256 digest of the file at `path` (or of its first `limit` bytes); `digest`
    continues one already begun. Returns the hashlib object: `.hexdigest()` for the text."""
    digest = digest if digest is not None else hashlib.sha256()
    with open(path, "rb") as f:
        for block in _blocks(f, limit, cancel):
            digest.update(block)
            if on_bytes is not None:
                on_bytes(len(block))
    return digest


def copy_hashing(sources: Iterable[str | Path], out: BinaryIO, *, on_bytes: Callable[[int], None] | None = None,
                 cancel=None, digest=None):
    """Append each file of `sources`, in order, to the open file `out`, hashing the bytes on the
    way (one read serves both). Returns the digest of everything written."""
    digest = digest if digest is not None else hashlib.sha256()
    for source in sources:
        with open(source, "rb") as f:
            for block in _blocks(f, None, cancel):
                out.write(block)
                digest.update(block)
                if on_bytes is not None:
                    on_bytes(len(block))
    return digest
