"""Importing GGUF models from a file or folder (a USB drive on a computer without internet).

The files are copied into Bunko's model folder, because a USB drive goes away,
with the same checks as a download: enough disk space, the size and sha256 the
catalog names for a file of that name (or a `NAME.sha256` file beside it, as
`sha256sum` writes), and a readable GGUF header. A file that fails is not added,
and the copy is deleted.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

from .. import paths
from ..errors import BunkoError, Cancelled, DiskFullError, ModelError, ModelFileError
from ..hashing import copy_hashing
from .catalog import CatalogFile, CatalogModel, load_catalog
from ..types import Progress
from .download import Meter, check_space, disk_full, free_bytes, register, verify
from .gguf_file import MAGIC

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    added: list = field(default_factory=list)                      # ModelInfo of each model added
    refused: list[tuple[str, str]] = field(default_factory=list)   # (path, why)


def import_folder() -> Path:
    return paths.models_dir() / "imported"


def _catalog_match(name: str, catalog: list[CatalogModel]) -> tuple[CatalogModel, CatalogFile] | None:
    for model in catalog:
        for f in model.files:
            if f.file.lower() == name.lower():
                return model, f
    return None


def _sidecar_sha(path: Path) -> str | None:
    """The hash in `NAME.sha256` (sha256sum's format: the hex digest first), if there is one."""
    side = path.with_name(path.name + ".sha256")
    try:
        first = side.read_text(encoding="ascii", errors="replace").split()
    except OSError:
        return None
    return first[0].lower() if first and len(first[0]) == 64 else None


def candidates(source: Path) -> list[Path]:
    """The files to import: the file itself, or the .gguf files in a folder and its subfolders."""
    if source.is_file():
        return [source]
    if source.is_dir():
        return sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() == ".gguf"
                      and ".partial" not in p.parts)
    raise ModelFileError(f"There is no file or folder {source}.")


def copy_checked(source: Path, folder: Path, size: int | None, sha256: str | None,
                 progress: Callable[[Progress], None] | None = None, cancel=None,
                 free: Callable[[Path], int] = free_bytes) -> Path:
    """Copy `source` into `folder`, hashing on the way; check it; return the new path."""
    with open(source, "rb") as f:
        if f.read(4) != MAGIC:
            raise ModelFileError(f"{source} is not a GGUF model file (it does not start with 'GGUF'); "
                                 "nothing was copied.")
    folder.mkdir(parents=True, exist_ok=True)
    total = source.stat().st_size
    check_space(folder, total, free)
    dest = folder / source.name
    part = folder / f".{source.name}.import-part"
    try:
        with Meter("copy", progress, cancel, total) as meter, open(part, "wb") as out:
            digest = copy_hashing([source], out, on_bytes=meter.update)
    except Cancelled:
        part.unlink(missing_ok=True)
        raise
    except OSError as exc:
        part.unlink(missing_ok=True)
        if disk_full(exc):
            raise DiskFullError(f"The disk filled up while copying {source.name} into {folder}; the partial copy "
                                "was removed. Free some space and try again.") from exc
        raise ModelFileError(f"Cannot copy {source}: {exc.strerror or exc}") from exc
    verify(part, size, sha256, digest.hexdigest(), f"The file {source}")
    if dest.exists():
        dest = folder / f"{source.stem}-{digest.hexdigest()[:8]}{source.suffix}"
    os.replace(part, dest)
    return dest


def import_models(registry, source: str | Path, progress: Callable[[Progress], None] | None = None,
                  cancel=None, catalog: list[CatalogModel] | None = None,
                  free: Callable[[Path], int] = free_bytes) -> ImportResult:
    """Import one GGUF file or every .gguf file of a folder. A single file that fails raises;
    in a folder, failures are listed in `refused` and the rest goes on."""
    source = Path(source).expanduser()
    files = candidates(source)
    if not files:
        raise ModelError(f"{source} holds no .gguf files.")
    catalog = load_catalog() if catalog is None else catalog
    result = ImportResult()
    for path in files:
        match = _catalog_match(path.name, catalog)
        entry, cfile = match if match else (None, None)
        sha = _sidecar_sha(path) or (cfile.sha256 if cfile else None)
        size = cfile.size if cfile is not None and cfile.size_exact else None
        try:
            copied = copy_checked(path, import_folder(), size, sha, progress, cancel, free)
            name = f"{entry.id}-{cfile.quant.lower()}" if entry and cfile else path.stem
            model = register(registry, copied, _free_name(registry, name), entry,
                             {"imported_from": str(path.resolve()), "sha256": sha or None})
            result.added.append(model)
        except Cancelled:
            raise
        except BunkoError as exc:
            if source.is_file():
                raise
            log.info("not imported: %s (%s)", path, exc)
            result.refused.append((str(path), str(exc)))
    return result


def _free_name(registry, name: str) -> str:
    taken = {m.name for m in registry.list()}
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    return candidate
