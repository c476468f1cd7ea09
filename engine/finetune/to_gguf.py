"""A PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) to a GGUF LoRA
that llama.cpp attaches to the GGUF base model used in chat.

What has to change on the way:
* names: PEFT's `base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight`
  becomes `blk.3.attn_q.weight.lora_a`, through the `gguf` package's name tables;
* layout: none for A (r × in) and B (out × r): GGUF stores the reversed shape,
  which is exactly what llama.cpp expects of lora_a [in, r] and lora_b [r, out];
* rotary layout: for Llama-family models, llama.cpp keeps the rows of the query
  and key projections in another order than Hugging Face (each head's two
  rotary halves interleaved); the base GGUF was converted that way, so the rows
  of B for q_proj and k_proj get the same reordering;
* scale: llama.cpp scales by alpha / r; rank-stabilised LoRA scales by
  alpha / sqrt(r), so its alpha is written as alpha · sqrt(r).
The result is checked against the base model's tensors before it is kept.
"""

from __future__ import annotations

import json
import logging
import math
import struct
from pathlib import Path

import numpy as np

from ..errors import ModelError

log = logging.getLogger(__name__)

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "BF16": np.uint16}
_ROTARY_ARCHS = {"llama", "mistral", "granite"}  # archs whose GGUF converter reorders q/k rows


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Tensors of a .safetensors file as float32 arrays (no torch needed)."""
    data = Path(path).read_bytes()
    if len(data) < 8:
        raise ModelError(f"{Path(path).name} is not a safetensors file.")
    (size,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + size])
        if not isinstance(header, dict):
            raise ValueError("the header is not an object")
        body = memoryview(data)[8 + size:]
        out = {}
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            dtype = _DTYPES.get(meta["dtype"])
            if dtype is None:
                raise ModelError(f"{name} is stored as {meta['dtype']}, which the converter does not read.")
            start, end = (int(x) for x in meta["data_offsets"])
            if not 0 <= start <= end <= len(body):
                raise ValueError(f"{name} lies outside the file")
            array = np.frombuffer(body[start:end], dtype=dtype).reshape([int(n) for n in meta["shape"]])
            if meta["dtype"] == "BF16":  # the top half of a float32
                array = (array.astype(np.uint32) << 16).view(np.float32)
            out[name] = array.astype(np.float32)
    except ModelError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, OverflowError) as exc:
        # a crafted or cut file: words, not a traceback (and the job is marked failed, not left converting)
        raise ModelError(f"{Path(path).name} is not a readable safetensors file ({type(exc).__name__}: "
                         f"{str(exc)[:200]}).") from exc
    return out


def rotary_rows(weights: np.ndarray, n_head: int) -> np.ndarray:
    """Rows of a q/k projection (or of its LoRA B) in llama.cpp's order: within each
    head, the first and second rotary halves are interleaved pair by pair."""
    rows = weights.shape[0]
    half = rows // n_head // 2
    return weights.reshape(n_head, 2, half, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def _module(name: str) -> tuple[str, str] | None:
    """('model.layers.3.self_attn.q_proj', 'a'|'b') from a PEFT tensor name."""
    for suffix, which in ((".lora_A.weight", "a"), (".lora_B.weight", "b")):
        if name.endswith(suffix):
            module = name[: -len(suffix)]
            for prefix in ("base_model.model.", "base_model."):
                if module.startswith(prefix):
                    module = module[len(prefix):]
                    break
            return module, which
    return None


def convert(adapter_dir: str | Path, base, out_path: str | Path) -> Path:
    """Write the GGUF LoRA for the PEFT adapter in `adapter_dir`; `base` is the base
    model's GGUFInfo (engine.models.gguf_file)."""
    import gguf

    from ..models.registry import check_adapter
    from ..models.gguf_file import read_gguf_info

    folder = Path(adapter_dir)
    try:
        config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder} has no readable adapter_config.json: {exc}") from exc
    rank = int(config.get("r") or 0)
    alpha = float(config.get("lora_alpha") or rank)
    if rank <= 0:
        raise ModelError("adapter_config.json gives no LoRA rank (r).")
    if config.get("use_rslora"):
        alpha *= math.sqrt(rank)
    tensors = read_safetensors(folder / "adapter_model.safetensors")
    try:
        arch = gguf.MODEL_ARCH[base.architecture.upper()]
    except KeyError as exc:
        raise ModelError(f"The converter does not know the architecture {base.architecture!r}.") from exc
    names = gguf.TensorNameMap(arch, base.n_layers or len(base.layer_bytes))
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for name, array in tensors.items():
        parsed = _module(name)
        if parsed is None:
            raise ModelError(f"{name} is not a LoRA A/B tensor; only LoRA adapters can be converted.")
        module, which = parsed
        target = names.get_name(module)
        if target is None:
            raise ModelError(f"No tensor of {base.architecture} matches {module}.")
        if target in ("token_embd", "output"):
            raise ModelError(f"The adapter changes {module}; train without embed_tokens and lm_head "
                             "(llama.cpp cannot apply LoRA there on models that share them).")
        pairs.setdefault(target + ".weight", {})[which] = array
    n_head = base.n_head or 1
    n_head_kv = base.n_head_kv or n_head
    writer = gguf.GGUFWriter(str(out_path), base.architecture)
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", alpha)
    for target, ab in sorted(pairs.items()):
        if set(ab) != {"a", "b"}:
            raise ModelError(f"{target} has only lora_{''.join(ab).upper()}; the adapter file is incomplete.")
        a, b = ab["a"], ab["b"]
        if base.architecture in _ROTARY_ARCHS and ".attn_q." in target:
            b = rotary_rows(b, n_head)
        elif base.architecture in _ROTARY_ARCHS and ".attn_k." in target:
            b = rotary_rows(b, n_head_kv)
        writer.add_tensor(target + ".lora_a", np.ascontiguousarray(a, dtype=np.float32))
        writer.add_tensor(target + ".lora_b", np.ascontiguousarray(b, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    try:
        check_adapter(read_gguf_info(out_path), base, base.name or "the base model")
    except ModelError:
        Path(out_path).unlink(missing_ok=True)
        raise
    log.info("converted %d LoRA pairs (rank %d, alpha %.1f) to %s", len(pairs), rank, alpha, out_path)
    return Path(out_path)
