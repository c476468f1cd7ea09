"""The model catalog (resources/catalog.toml): the models Bunko offers to download, read and checked.

The list is data, so it can be updated without a code change. Whether a model fits this
computer, and how fast it would run, is judged in engine.llm.fit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from ..resources import resources_dir

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # 3.10: huggingface_hub brings tomli there
    import tomli as tomllib


COMMIT = re.compile(r"[0-9a-f]{40}")
# A repository is "owner/name", a file a plain name: no "..", no absolute path, no URL, no query.
_PLAIN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
REPO_NAME = re.compile(rf"{_PLAIN}/{_PLAIN}")
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.gguf")
BRANCH_NAME = re.compile(_PLAIN)

@dataclass(frozen=True)
class CatalogFile:
    quant: str
    file: str
    size: int                 # bytes; approximate unless size_exact
    sha256: str | None = None
    size_exact: bool = False


@dataclass(frozen=True)
class CatalogModel:
    id: str
    name: str
    repo: str
    revision: str             # a commit, or a branch name ("main") where none was looked up
    licence: str
    languages: tuple[str, ...]
    params_b: float
    context: int
    files: tuple[CatalogFile, ...]
    default_quant: str
    licence_url: str = ""
    notes: str = ""
    arch: str = "llama"
    layers: int = 32
    embd: int = 4096
    heads: int = 32
    kv_heads: int = 8
    head_dim: int | None = None
    vocab: int = 32000
    unverified: bool = False  # declared in the catalog: no commit and sha256 could be checked for it

    @property
    def pinned(self) -> bool:
        """Whether `revision` is a commit (the same bytes every time) rather than a branch."""
        return bool(COMMIT.fullmatch(self.revision))

    def trusted(self, quant: str | None = None) -> bool:
        """Whether a download of this file is checked against pinned values: a commit, its
        sha256 and its exact size, all written in the catalog (not taken from the hub that day)."""
        f = self.file(quant)
        return self.pinned and bool(f.sha256) and f.size_exact

    def file(self, quant: str | None = None) -> CatalogFile:
        quant = quant or self.default_quant
        for f in self.files:
            if f.quant.lower() == quant.lower():
                return f
        raise ModelError(f"{self.name} has no {quant} file in the catalog; choose one of "
                         f"{', '.join(f.quant for f in self.files)}.")


def catalog_path() -> Path:
    return resources_dir() / "catalog.toml"


def load_catalog(path: str | Path | None = None) -> list[CatalogModel]:
    """The catalog's models, in file order. A damaged file raises ModelError naming the entry."""
    path = Path(path) if path else catalog_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"The model catalog cannot be read: {path} ({exc.strerror or exc}).") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"The model catalog {path} is not valid TOML: {exc}.") from exc
    models, seen = [], set()
    for n, raw in enumerate(data.get("model", []), 1):
        where = f"entry {n} ({raw.get('id', 'no id')}) of the model catalog {path}"
        try:
            files = tuple(CatalogFile(quant=f["quant"], file=f["file"], size=int(f["size"]),
                                      sha256=(f.get("sha256") or "").lower() or None,
                                      size_exact=bool(f.get("size_exact", False))) for f in raw["files"])
            known = {k: raw[k] for k in ("licence_url", "notes", "arch", "layers", "embd", "heads",
                                         "kv_heads", "head_dim", "vocab", "unverified") if k in raw}
            model = CatalogModel(id=raw["id"], name=raw["name"], repo=raw["repo"], revision=raw["revision"],
                                 licence=raw["licence"], languages=tuple(raw["languages"]),
                                 params_b=float(raw["params_b"]), context=int(raw["context"]),
                                 files=files, default_quant=raw.get("default_quant") or files[0].quant, **known)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelError(f"The {where} is incomplete or wrong: {exc!r}.") from exc
        if model.id in seen:
            raise ModelError(f"The {where} repeats the id {model.id!r}.")
        check_names(model, where)
        for f in files:
            if f.sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", f.sha256):
                raise ModelError(f"The {where} has a sha256 for {f.file} that is not 64 hex digits.")
        if not model.unverified and not all(model.trusted(f.quant) for f in files):
            raise ModelError(f"The {where} is neither pinned (a 40-hex commit, and a sha256 and exact size for "
                             "every file) nor marked `unverified = true`; a download must never trust the hub "
                             "silently.")
        model.file()  # the default quantisation must exist
        seen.add(model.id)
        models.append(model)
    return models


def check_names(model: CatalogModel, where: str) -> None:
    """Catalog values become URLs and paths: each must be a plain name."""
    if not isinstance(model.repo, str) or not REPO_NAME.fullmatch(model.repo) or ".." in model.repo:
        raise ModelError(f"The {where} names the repository {model.repo!r}, which is not a plain owner/name.")
    if not isinstance(model.revision, str) or not (COMMIT.fullmatch(model.revision) or (
            BRANCH_NAME.fullmatch(model.revision) and ".." not in model.revision)):
        raise ModelError(f"The {where} has the revision {model.revision!r}, which is neither a commit nor a plain "
                         "branch name.")
    if not BRANCH_NAME.fullmatch(str(model.id)) or ".." in str(model.id):
        raise ModelError(f"The {where} has the id {model.id!r}, which is not a plain name.")
    for f in model.files:
        if not isinstance(f.file, str) or not FILE_NAME.fullmatch(f.file) or ".." in f.file:
            raise ModelError(f"The {where} names the file {f.file!r}, which is not a plain .gguf file name.")


def find(model_id: str, catalog: list[CatalogModel] | None = None) -> CatalogModel:
    catalog = load_catalog() if catalog is None else catalog
    for m in catalog:
        if m.id == model_id:
            return m
    raise ModelError(f"The catalog has no model {model_id!r}. See the list with: bunko models catalog")
