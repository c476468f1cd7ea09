"""Crafted model files are refused in words: a GGUF header with arrays nested without end or a
`general.alignment` that is not a number, and a LoRA adapter's safetensors whose header lies,
give ModelError (never RecursionError, TypeError or a job left "converting")."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from engine.errors import ModelError, ModelFileError
from engine.finetune import to_gguf
from engine.models.gguf_file import read_gguf_info

STRING, ARRAY, UINT32 = 8, 9, 4


def s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def gguf(path, kvs: list[bytes], n_tensors: int = 0, tail: bytes = b"") -> str:
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, n_tensors, len(kvs)) + b"".join(kvs) + tail + b"\0" * 64)
    return str(path)


def kv(key: str, vtype: int, value: bytes) -> bytes:
    return s(key) + struct.pack("<I", vtype) + value


def nested(depth: int) -> bytes:
    """An array of one array of one array … of nothing, `depth` deep."""
    # the same bytes as prepending one header per level, made in linear time: that loop was
    # quadratic, and at 200,000 levels took most of a minute of every run's collection
    return struct.pack("<IQ", ARRAY, 1) * depth + struct.pack("<IQ", UINT32, 0)


@pytest.mark.parametrize("name, kvs, words", [
    ("nested", [kv("general.architecture", STRING, s("llama")), kv("x.deep", ARRAY, nested(200_000))],
     "nested more than"),
    ("alignment_text", [kv("general.architecture", STRING, s("llama")),
                        kv("general.alignment", STRING, s("thirty-two"))], "general.alignment"),
    ("alignment_zero", [kv("general.alignment", UINT32, struct.pack("<I", 0))], "general.alignment"),
    ("alignment_odd", [kv("general.alignment", UINT32, struct.pack("<I", 24))], "general.alignment"),
    ("alignment_array", [kv("general.alignment", ARRAY, struct.pack("<IQ", UINT32, 1) + struct.pack("<I", 32))],
     "general.alignment"),
    ("unknown_array", [kv("x.weird", ARRAY, struct.pack("<IQ", 77, 3))], "unknown value type"),
])
def test_a_crafted_gguf_header_is_refused_in_words(tmp_path, name, kvs, words) -> None:
    with pytest.raises(ModelFileError, match=words):
        read_gguf_info(gguf(tmp_path / f"{name}.gguf", kvs))


def test_a_crafted_tensor_count_of_dimensions_is_refused(tmp_path) -> None:
    tensor = s("blk.0.w") + struct.pack("<I", 2**31) + b"\0" * 32
    with pytest.raises(ModelFileError):
        read_gguf_info(gguf(tmp_path / "dims.gguf", [], n_tensors=1, tail=tensor))


def test_a_name_that_is_not_text_is_dropped_not_used(tmp_path) -> None:
    info = read_gguf_info(gguf(tmp_path / "names.gguf", [kv("general.architecture", UINT32, struct.pack("<I", 5)),
                                                           kv("general.name", UINT32, struct.pack("<I", 7))]))
    assert info.architecture is None and info.name is None


def safetensors(path, header, body: bytes = b"") -> None:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)


@pytest.mark.parametrize("name, header, body", [
    ("list", [1, 2, 3], b""),
    ("meta_text", {"a.lora_A.weight": "F32"}, b""),
    ("no_offsets", {"a.lora_A.weight": {"dtype": "F32", "shape": [1]}}, b""),
    ("outside", {"a.lora_A.weight": {"dtype": "F32", "shape": [4], "data_offsets": [0, 10**9]}}, b"\0" * 16),
    ("negative", {"a.lora_A.weight": {"dtype": "F32", "shape": [4], "data_offsets": [-16, 0]}}, b"\0" * 16),
    ("shape", {"a.lora_A.weight": {"dtype": "F32", "shape": [3, 3], "data_offsets": [0, 16]}}, b"\0" * 16),
    ("shape_text", {"a.lora_A.weight": {"dtype": "F32", "shape": "big", "data_offsets": [0, 16]}}, b"\0" * 16),
])
def test_a_crafted_safetensors_is_refused_in_words(tmp_path, name, header, body) -> None:
    path = tmp_path / f"{name}.safetensors"
    safetensors(path, header, body)
    with pytest.raises(ModelError, match="not a readable safetensors file"):
        to_gguf.read_safetensors(path)


def test_a_good_safetensors_still_reads(tmp_path) -> None:
    path = tmp_path / "ok.safetensors"
    data = np.arange(4, dtype=np.float32).tobytes()
    safetensors(path, {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}, data)
    assert to_gguf.read_safetensors(path)["a"].tolist() == [[0, 1], [2, 3]]
