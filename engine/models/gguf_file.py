"""What a GGUF file says about itself, read from its header alone.

gguf.GGUFReader builds numpy views of every token, merge and tensor, which
takes seconds on a large vocabulary; the app reads headers to list models,
check adapters and plan GPU offload, so this reader walks the header through a
memory map and steps over arrays without decoding them.

Layout (little-endian): b"GGUF", u32 version, u64 tensor count, u64 key count;
then each key (string, u32 type, value) and each tensor (string name, u32
n_dims, u64 ne[n_dims], u32 ggml type, u64 offset into the data section).
The data section starts at the next multiple of `general.alignment` (32).
"""

from __future__ import annotations

import mmap
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, LlamaFileType

from ..errors import ModelFileError

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)

_STRING, _ARRAY = 8, 9
# GGUF value type -> struct code of its scalars.
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
# Numeric arrays up to this length are kept: some models give per-layer head counts.
_SMALL_ARRAY = 4096
MAX_NESTING = 8           # arrays within arrays (real files: none or one level)


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    size: int
    version: int
    kind: str                      # "model" or "adapter"
    architecture: str | None
    name: str | None
    quantization: str | None
    context_length: int | None
    n_layers: int | None
    n_embd: int | None
    n_head: int | None
    n_head_kv: int | None
    chat_template: str | None
    lora_alpha: float | None
    # name -> (ne in GGUF order, innermost first; ggml type; bytes)
    tensors: dict[str, tuple[tuple[int, ...], int, int]] = field(repr=False, compare=False)
    layer_bytes: tuple[int, ...] = field(repr=False)
    other_bytes: int = 0
    # scalar keys; an array is summarised as its length
    metadata: dict = field(default_factory=dict, repr=False, compare=False)

    def arch_key(self, key: str, default=None):
        """`<architecture>.<key>` from the metadata, e.g. arch_key("attention.key_length")."""
        return self.metadata.get(f"{self.architecture}.{key}", default)


class _Truncated(Exception):
    pass


class _Cursor:
    """Reads values off the mapped header; running past the end means truncation."""

    def __init__(self, buf) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise _Truncated
        value = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value[0] if len(value) == 1 else value

    def many(self, code: str, count: int) -> tuple:
        """`count` scalars of one struct code, always as a tuple."""
        if count == 0:
            return ()
        size = struct.calcsize(f"<{count}{code}")
        if self.pos + size > len(self.buf):
            raise _Truncated
        value = struct.unpack_from(f"<{count}{code}", self.buf, self.pos)
        self.pos += size
        return value

    def skip(self, n: int) -> None:
        if self.pos + n > len(self.buf):
            raise _Truncated
        self.pos += n

    def string(self) -> str:
        n = self.take("<Q")
        if self.pos + n > len(self.buf):
            raise _Truncated
        raw = self.buf[self.pos:self.pos + n]
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def value(self, vtype: int, depth: int = 0):
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            return self.array(depth)
        code = _SCALARS.get(vtype)
        if code is None:
            raise ValueError(f"unknown value type {vtype}")
        return self.take("<" + code)

    def array(self, depth: int = 0):
        """A numeric array short enough to matter comes back as a tuple; any
        other array as its length, stepped over without decoding. Arrays of arrays
        go MAX_NESTING deep at most: a crafted file must not recurse without end."""
        if depth >= MAX_NESTING:
            raise ValueError(f"arrays nested more than {MAX_NESTING} deep")
        etype, count = self.take("<IQ")
        code = _SCALARS.get(etype)
        if code is not None:
            if count <= _SMALL_ARRAY:
                return self.many(code, count)
            self.skip(count * struct.calcsize(code))
        elif etype == _STRING:
            for _ in range(count):
                self.skip(self.take("<Q"))
        elif etype == _ARRAY:
            for _ in range(count):
                self.array(depth + 1)
        else:
            raise ValueError(f"an array of unknown value type {etype}")
        return _Length(count)


class _Length(int):
    """The length of an array that was skipped (told apart from a scalar)."""


def tensor_nbytes(ne: tuple[int, ...], ggml_type: int) -> int:
    block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ggml_type)]
    n = 1
    for d in ne:
        n *= d
    return n // block * type_size


def read_gguf_info(path: str | Path) -> GGUFInfo:
    """Read the header of a GGUF model or LoRA adapter. Raises ModelFileError."""
    path = Path(path).expanduser()
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8 or head[:4] != MAGIC:
                raise ModelFileError(f"The file is not a GGUF model: {path}")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(path, size, buf)
    except FileNotFoundError as exc:
        raise ModelFileError(f"The model file does not exist: {path}") from exc
    except IsADirectoryError as exc:
        raise ModelFileError(f"Expected a .gguf file but got a folder: {path}") from exc
    except PermissionError as exc:
        raise ModelFileError(f"Bunko may not read the model file {path}: {exc.strerror}") from exc
    except OSError as exc:
        raise ModelFileError(f"Cannot read the model file {path}: {exc}") from exc


def _parse(path: Path, size: int, buf) -> GGUFInfo:
    cur = _Cursor(buf)
    cur.skip(4)
    version = cur.take("<I")
    if version not in SUPPORTED_VERSIONS:
        if version >= 1 << 16:  # the bytes of a small number read the wrong way round
            why = "it is a big-endian GGUF file, which llama.cpp on this computer cannot use"
        elif version == 1:
            why = "it uses GGUF version 1, which llama.cpp no longer reads; convert the model again"
        else:
            why = f"it uses GGUF version {version}, newer than this Bunko understands; update Bunko"
        raise ModelFileError(f"Cannot use {path}: {why}.")
    try:
        n_tensors, n_kv = cur.take("<QQ")
        meta: dict = {}
        for _ in range(n_kv):
            key = cur.string()
            meta[key] = cur.value(cur.take("<I"))
        raw_tensors = []
        for _ in range(n_tensors):
            name = cur.string()
            n_dims = cur.take("<I")
            ne = cur.many("Q", n_dims)
            ggml_type, offset = cur.take("<IQ")
            raw_tensors.append((name, ne, ggml_type, offset))
    except _Truncated:
        raise ModelFileError(
            f"The GGUF file is truncated: {path} has {size:,} bytes and ends inside its header "
            "(was the download interrupted?)") from None
    except (ValueError, struct.error, MemoryError, OverflowError) as exc:
        raise ModelFileError(f"The GGUF header of {path} is damaged ({exc}).") from exc

    alignment = meta.get("general.alignment", 32)
    if (not isinstance(alignment, int) or isinstance(alignment, (bool, _Length)) or not 0 < alignment <= 1 << 20
            or alignment & (alignment - 1)):
        raise ModelFileError(f"The GGUF header of {path} is damaged (general.alignment is {alignment!r}, "
                             "not a power of two).")
    data_start = -(-cur.pos // alignment) * alignment
    tensors = {}
    needed = data_start
    for name, ne, ggml_type, offset in raw_tensors:
        try:
            nbytes = tensor_nbytes(ne, ggml_type)
        except (ValueError, KeyError):
            raise ModelFileError(
                f"{path} has tensor {name} of unknown type {ggml_type}; it may need a newer "
                "llama.cpp than the one in this Bunko.") from None
        tensors[name] = (ne, ggml_type, nbytes)
        needed = max(needed, data_start + offset + nbytes)
    if size < needed:
        raise ModelFileError(
            f"The GGUF file is truncated: {path} has {size:,} bytes, its tensors need "
            f"{needed:,} (was the download interrupted?)")
    return _info(path, size, version, meta, tensors)


def _info(path: Path, size: int, version: int, meta: dict, tensors: dict) -> GGUFInfo:
    arch = meta.get("general.architecture")
    arch = arch if isinstance(arch, str) else None   # a crafted header may put anything there
    name = meta.get("general.name")

    def arch_int(key: str) -> int | None:
        value = meta.get(f"{arch}.{key}")
        if isinstance(value, tuple):  # per-layer values: the largest bounds memory
            value = max(value, default=None)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, _Length) else None

    layers: dict[int, int] = {}
    other = 0
    for name, (_ne, _t, nbytes) in tensors.items():
        if name.startswith("blk."):
            index = name.split(".", 2)[1]
            if index.isdigit():
                layers[int(index)] = layers.get(int(index), 0) + nbytes
                continue
        other += nbytes
    n_layers = arch_int("block_count")
    count = max([n_layers or 0] + [i + 1 for i in layers])
    alpha = meta.get("adapter.lora.alpha")
    template = meta.get("tokenizer.chat_template")
    return GGUFInfo(
        path=path, size=size, version=version,
        kind="adapter" if meta.get("general.type") == "adapter" else "model",
        architecture=arch, name=name if isinstance(name, str) else None,
        quantization=_quantization(meta, tensors),
        context_length=arch_int("context_length"), n_layers=n_layers,
        n_embd=arch_int("embedding_length"), n_head=arch_int("attention.head_count"),
        n_head_kv=arch_int("attention.head_count_kv") or arch_int("attention.head_count"),
        chat_template=template if isinstance(template, str) and template.strip() else None,
        lora_alpha=float(alpha) if isinstance(alpha, (int, float)) else None,
        tensors=tensors, layer_bytes=tuple(layers.get(i, 0) for i in range(count)),
        other_bytes=other,
        metadata={k: (len(v) if isinstance(v, tuple) else int(v) if isinstance(v, _Length) else v)
                  for k, v in meta.items()},
    )


def _quantization(meta: dict, tensors: dict) -> str | None:
    """The converter's label when it wrote one, else the type holding most bytes."""
    file_type = meta.get("general.file_type")
    if isinstance(file_type, int):
        try:
            label = LlamaFileType(file_type).name
            return label.removeprefix("MOSTLY_").removeprefix("ALL_")
        except ValueError:
            pass
    by_type: Counter = Counter()
    for _ne, ggml_type, nbytes in tensors.values():
        by_type[ggml_type] += nbytes
    if not by_type:
        return None
    top = by_type.most_common(1)[0][0]
    try:
        return GGMLQuantizationType(top).name
    except ValueError:
        return str(top)


def template_name(chat_template: str | None) -> str:
    """A short label for a chat template, for lists and for choosing stop words.

    The markers are the special tokens each family's template writes; Phi-4
    reuses ChatML's <|im_start|> with its own <|im_sep|>, so it is checked first.
    """
    if not chat_template or not chat_template.strip():
        return "none"
    t = chat_template
    if "<|im_sep|>" in t or ("<|user|>" in t and "<|end|>" in t):
        return "phi"
    if "<|im_start|>" in t:
        return "chatml"
    if "<|start_header_id|>" in t:
        return "llama3"
    if "<start_of_turn>" in t:
        return "gemma"
    if "[INST]" in t:
        return "mistral"
    return "custom"
