"""Bunko's embedder on a GPU server: runs one ONNX graph on token ids read from stdin.

Copied to the server and started over SSH; it imports only the standard library,
numpy and onnxruntime (the GPU build where there is a GPU), never Bunko. Tokenizing
stays on the user's computer, so the server needs no tokenizer.

    python3 bunko_embed_host.py MODEL.onnx CONFIG.json

Frames, little-endian, on stdin and stdout:
  first, out: b"BKH1" u32 length, a JSON hello {"providers", "onnxruntime"} or {"error"}
  request:    b"BKE1" u32 rows, u32 width, int32 ids [rows, width], int32 lengths [rows]
  answer:     b"BKV1" u32 rows, u32 dim, float32 vectors [rows, dim]
  failure:    b"BKX1" u32 length, u32 0, the message (utf-8); the process goes on
End of stdin ends it (so does a dropped SSH session).
"""

import json
import struct
import sys

MAX_ROWS = 4096
MAX_WIDTH = 8192


def _read(stream, n):
    data = b""
    while len(data) < n:
        piece = stream.read(n - len(data))
        if not piece:
            return None
        data += piece
    return data


def _send(out, magic, payload):
    out.write(magic + struct.pack("<I", len(payload)) + payload)
    out.flush()


def _fail(out, message):
    payload = message.encode("utf-8", "replace")[:4000]
    out.write(struct.pack("<4sII", b"BKX1", len(payload), 0) + payload)
    out.flush()


def main(argv):
    out = sys.stdout.buffer
    inp = sys.stdin.buffer
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as exc:
        _send(out, b"BKH1", json.dumps({"error": "import", "detail": str(exc),
                                        "python": sys.executable}).encode())
        return 3
    model, config_path = argv[1], argv[2]
    with open(config_path, encoding="utf-8") as f:
        cfg = json.load(f)
    available = ort.get_available_providers()
    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")   # a shared server's cores
    try:
        session = ort.InferenceSession(model, options, providers=providers or None)
    except Exception as exc:  # onnxruntime's own exception classes
        _send(out, b"BKH1", json.dumps({"error": "load", "detail": str(exc)}).encode())
        return 4
    inputs = {i.name for i in session.get_inputs()}
    outputs = [o.name for o in session.get_outputs()]
    pooled = bool(cfg.get("pooled_in_graph"))
    name = "last_hidden_state" if (not pooled and "last_hidden_state" in outputs) else outputs[0]
    dim, pad = int(cfg["dim"]), int(cfg.get("pad_id", 0))
    _send(out, b"BKH1", json.dumps({"providers": session.get_providers(), "onnxruntime": ort.__version__,
                                    "python": sys.version.split()[0]}).encode())
    while True:
        head = _read(inp, 12)
        if head is None:
            return 0
        magic, rows, width = struct.unpack("<4sII", head)
        if magic != b"BKE1" or rows > MAX_ROWS or width > MAX_WIDTH:
            _fail(out, "a frame Bunko does not know; stopping")
            return 5
        body = _read(inp, 4 * rows * width + 4 * rows)
        if body is None:
            return 0
        try:
            ids = np.frombuffer(body, np.int32, rows * width).reshape(rows, width).astype(np.int64)
            lengths = np.frombuffer(body, np.int32, rows, 4 * rows * width)
            mask = (np.arange(width)[None, :] < lengths[:, None]).astype(np.int64)
            ids = np.where(mask == 1, ids, pad)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            (result,) = session.run([name], feed)
            result = np.asarray(result, dtype=np.float32)
            if not pooled:
                if cfg.get("pooling") == "cls":
                    result = result[:, 0, :]
                else:
                    weights = mask[:, :, None].astype(np.float32)
                    result = (result * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            if result.shape != (rows, dim):
                raise ValueError(f"vectors of shape {result.shape}, expected {(rows, dim)}")
            if cfg.get("normalize", True):
                result = result / np.maximum(np.linalg.norm(result, axis=1, keepdims=True), 1e-12)
        except Exception as exc:  # one bad batch is reported, the process goes on
            _fail(out, f"{type(exc).__name__}: {exc}")
            continue
        out.write(struct.pack("<4sII", b"BKV1", rows, dim) + np.ascontiguousarray(result, np.float32).tobytes())
        out.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
