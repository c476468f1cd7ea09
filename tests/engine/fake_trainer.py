"""A stand-in for bunko_train.py in tests of the job runner: the same files and JSON
lines, no torch. It counts steps (with a pause each), saves a checkpoint on SIGTERM
and resumes from it, and at the end writes a tiny but real PEFT LoRA adapter for
SmolLM2 (layer 0's q_proj, rank 2) that the converter and llama.cpp accept.

What it should do comes from fake.json beside the host's cache folder:
{"delay": seconds per step, "crash": null | "oom" | "killed", "adapter_link": a path the
adapter's weights are made a symbolic link to, as a hostile host would}. Standard library only.
"""

import json
import os
import signal
import struct
import sys
import time
from pathlib import Path

STOP = False


def on_term(signum, frame):
    global STOP
    STOP = True


def emit(out, **event):
    event["time"] = time.time()
    line = json.dumps(event)
    print(line, flush=True)
    with (out / "progress.jsonl").open("a") as f:
        f.write(line + "\n")


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, (shape, values) in tensors.items():
        blob = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def main():
    spec_path = Path(sys.argv[sys.argv.index("--spec") + 1])
    spec = json.loads(spec_path.read_text())
    out = Path(spec["out"])
    out.mkdir(parents=True, exist_ok=True)
    fake_file = Path(spec["cache"]).parent / "fake.json"
    fake = json.loads(fake_file.read_text()) if fake_file.exists() else {}
    signal.signal(signal.SIGTERM, on_term)
    total = int(spec["train"]["max_steps"] or 10)
    state = out / "checkpoint.json"
    step = json.loads(state.read_text())["step"] if state.exists() else 0
    emit(out, event="start", backend="fake", examples=len(Path(spec["data"]["train"]).read_text().splitlines()),
         eval_examples=0, total_steps=total, resumed_from=step, cuda=False)
    while step < total and not STOP:
        time.sleep(float(fake.get("delay", 0.05)))
        step += 1
        if fake.get("crash") == "oom" and step == 3:
            emit(out, event="error", kind="out_of_memory", message="CUDA out of memory. Tried to allocate 2.00 GiB")
            return 3
        if fake.get("crash") == "killed" and step == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        emit(out, event="step", step=step, total=total, loss=round(2.0 / step, 4), lr=1e-4, tokens_per_s=100.0,
             eta_s=(total - step) * float(fake.get("delay", 0.05)))
        state.write_text(json.dumps({"step": step}))
    if STOP and step < total:
        emit(out, event="stopped", step=step)
        return 1
    adapter = out / "adapter"
    adapter.mkdir(exist_ok=True)
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 2, "lora_alpha": 2, "peft_type": "LORA"}))
    prefix = "base_model.model.model.layers.0.self_attn.q_proj"
    write_safetensors(adapter / "adapter_model.safetensors", {
        f"{prefix}.lora_A.weight": ([2, 576], [0.01] * (2 * 576)),
        f"{prefix}.lora_B.weight": ([576, 2], [0.01] * (576 * 2))})
    if fake.get("adapter_link"):
        (adapter / "adapter_model.safetensors").unlink()
        (adapter / "adapter_model.safetensors").symlink_to(fake["adapter_link"])
    result = {"status": "done", "step": step, "final_loss": round(2.0 / step, 4), "eval_loss": None,
              "backend": "fake", "seconds": 0.1}
    (out / "result.json").write_text(json.dumps(result))
    emit(out, event="done", **result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
