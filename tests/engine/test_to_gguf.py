"""PEFT adapter → GGUF LoRA: names, shapes, the rotary row order, refusals, and llama.cpp loading it."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from engine.errors import ModelError
from engine.finetune import to_gguf
from engine.models.gguf_file import read_gguf_info
from engine.models.registry import smollm2_path


def write_safetensors(path, tensors: dict[str, np.ndarray], dtype="F32") -> None:
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        data = array.astype(np.float16 if dtype == "F16" else np.float32).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def peft_dir(tmp_path, modules, rank=4, alpha=8, scale=0.05, seed=0, dtype="F32", extra=None):
    """A PEFT adapter for SmolLM2 (576 wide, 9 heads, 3 KV heads of 64) made of random A/B."""
    rng = np.random.default_rng(seed)
    out_dims = {"q_proj": 576, "k_proj": 192, "v_proj": 192, "o_proj": 576, "down_proj": 576}
    in_dims = {"q_proj": 576, "k_proj": 576, "v_proj": 576, "o_proj": 576, "down_proj": 1536}
    tensors = {}
    for layer, module in modules:
        kind = "mlp" if module == "down_proj" else "self_attn"
        stem = f"base_model.model.model.layers.{layer}.{kind}.{module}"
        tensors[f"{stem}.lora_A.weight"] = rng.standard_normal((rank, in_dims[module])) * scale
        tensors[f"{stem}.lora_B.weight"] = rng.standard_normal((out_dims[module], rank)) * scale
    tensors.update(extra or {})
    folder = tmp_path / "peft"
    folder.mkdir(exist_ok=True)
    write_safetensors(folder / "adapter_model.safetensors", tensors, dtype)
    (folder / "adapter_config.json").write_text(json.dumps({"r": rank, "lora_alpha": alpha, "peft_type": "LORA"}))
    return folder, tensors


@pytest.fixture(scope="module")
def base():
    return read_gguf_info(smollm2_path())


def test_names_shapes_and_rotary_rows(tmp_path, base):
    folder, tensors = peft_dir(tmp_path, [(0, "q_proj"), (0, "k_proj"), (0, "v_proj"), (1, "down_proj")])
    out = to_gguf.convert(folder, base, tmp_path / "lora.gguf")
    info = read_gguf_info(out)
    assert info.kind == "adapter" and info.lora_alpha == 8
    assert set(info.tensors) == {f"{t}.weight.lora_{x}" for t in ("blk.0.attn_q", "blk.0.attn_k", "blk.0.attn_v",
                                                                 "blk.1.ffn_down") for x in "ab"}
    assert info.tensors["blk.0.attn_q.weight.lora_a"][0] == (576, 4)    # ne [in, r]
    assert info.tensors["blk.0.attn_k.weight.lora_b"][0] == (4, 192)    # ne [r, out]
    assert info.tensors["blk.1.ffn_down.weight.lora_a"][0] == (1536, 4)

    import gguf

    reader = gguf.GGUFReader(str(out))
    stored = {t.name: np.array(t.data) for t in reader.tensors}
    b_q = tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"].astype(np.float32)
    b_v = tensors["base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight"].astype(np.float32)
    assert np.allclose(stored["blk.0.attn_v.weight.lora_b"], b_v)          # v: no reordering
    assert not np.allclose(stored["blk.0.attn_q.weight.lora_b"], b_q)      # q: rows reordered per head
    assert np.allclose(stored["blk.0.attn_q.weight.lora_b"], to_gguf.rotary_rows(b_q, 9))
    # within one head of 64 rows: row 1 of llama.cpp's order is row 32 of Hugging Face's
    assert np.allclose(stored["blk.0.attn_q.weight.lora_b"][1], b_q[32])


def test_rotary_rows_is_a_permutation():
    w = np.arange(2 * 8 * 3, dtype=np.float32).reshape(16, 3)
    r = to_gguf.rotary_rows(w, 2)
    assert sorted(r[:, 0].tolist()) == w[:, 0].tolist()
    assert r[:8, 0].tolist() == [0, 12, 3, 15, 6, 18, 9, 21]


def test_llama_cpp_applies_the_converted_adapter(tmp_path, base):
    from engine.llm.runtime import LoadedModel
    from engine.types import GenerationSettings

    folder, _ = peft_dir(tmp_path, [(layer, m) for layer in range(4) for m in ("q_proj", "v_proj", "down_proj")],
                         scale=0.5, dtype="F16")
    out = to_gguf.convert(folder, base, tmp_path / "lora.gguf")
    model = LoadedModel(smollm2_path(), 512, 2, 512, 0)
    prompt = model.tokenize("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
                            special=True)
    greedy = GenerationSettings(temperature=0.0, max_tokens=12)
    plain = "".join(model.generate(prompt, 12, greedy))
    model.set_adapter(out, 1.0)
    tuned = "".join(model.generate(prompt, 12, greedy))
    model.set_adapter(None)
    again = "".join(model.generate(prompt, 12, greedy))
    model.close()
    assert tuned != plain and again == plain


def test_refusals(tmp_path, base):
    folder, _ = peft_dir(tmp_path, [(0, "q_proj")], extra={
        "base_model.model.model.embed_tokens.lora_A.weight": np.zeros((4, 49152)),
        "base_model.model.model.embed_tokens.lora_B.weight": np.zeros((576, 4))})
    with pytest.raises(ModelError, match="embed_tokens"):
        to_gguf.convert(folder, base, tmp_path / "x.gguf")
    folder, tensors = peft_dir(tmp_path, [(0, "q_proj")])
    only_a = {k: v for k, v in tensors.items() if "lora_A" in k}
    write_safetensors(folder / "adapter_model.safetensors", only_a)
    with pytest.raises(ModelError, match="incomplete"):
        to_gguf.convert(folder, base, tmp_path / "y.gguf")
    (folder / "adapter_config.json").write_text("{}")
    with pytest.raises(ModelError, match="rank"):
        to_gguf.convert(folder, base, tmp_path / "z.gguf")
