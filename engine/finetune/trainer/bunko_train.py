"""Bunko's LoRA trainer. Runs on the GPU host in its own environment (see requirements-*.txt),
never inside the app: it imports nothing from Bunko, and app and trainer exchange only files
and the JSON lines this script prints.

    python bunko_train.py --spec job/spec.json      (bunko_data.py beside it)

Backends: Unsloth (4-bit loading, its fast kernels) where CUDA is present; plain
transformers + PEFT elsewhere (CPU, for small models and tests). A GGUF base is
dequantised by transformers into a Hugging Face model first, so the adapter is
trained on the very weights the app chats with.

Output folder: progress.jsonl (the same lines as stdout), checkpoint-N/ (adapter,
optimizer, step), adapter/ (the final PEFT adapter), result.json. Started again
with the same spec, it continues from its last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))   # bunko_data.py lies beside this script
from bunko_data import Data, batches, encode, pack, packed_batches, read_jsonl  # noqa: E402,F401


STOP = False


def emit(out: Path | None, **event) -> None:
    event.setdefault("time", round(time.time(), 3))
    line = json.dumps(event, ensure_ascii=False)
    print(line, flush=True)
    if out is not None:
        with (out / "progress.jsonl").open("a", encoding="utf-8") as f:
            f.write(line + "\n")


def _on_term(signum, frame):  # cancel: finish the current step, save, leave
    global STOP
    STOP = True


# -- sharing the CPU with the app ----------------------------------------------------------
# While the app on this machine generates an answer it leaves a file named by its
# process id in `yield_dir` (engine/budget.py); between batches the trainer then waits
# until the answer is done (mode "pause") or rests as long as its last batch took
# ("slow"), so the answer gets the cores. A file whose process is gone is ignored.
YIELD_POLL_S = 0.25
_STALE_S = 3600.0  # where no process can be asked (Windows), an older file is ignored


def _alive(pid: int, path: Path) -> bool:
    if os.name == "nt":  # os.kill would end the process there
        try:
            return time.time() - path.stat().st_mtime < _STALE_S
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def answering(yield_dir: Path | None) -> str | None:
    """The mode ("pause" or "slow") of an answer being generated now, or None."""
    if yield_dir is None:
        return None
    try:
        files = list(Path(yield_dir).glob("*.json"))
    except OSError:
        return None
    modes = []
    for path in files:
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            pid, mode = int(info["pid"]), str(info.get("mode", "pause"))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being written or removed just now
        if _alive(pid, path):
            modes.append(mode)
    return None if not modes else "pause" if "pause" in modes else "slow"


def yield_to_answers(yield_dir: Path | None, last_batch_s: float) -> float:
    """Called between batches; returns the seconds spent waiting."""
    started = time.monotonic()
    mode = answering(yield_dir)
    if mode == "slow":
        time.sleep(min(max(last_batch_s, 0.05), 5.0))
    elif mode is not None:
        while not STOP and answering(yield_dir) is not None:
            time.sleep(YIELD_POLL_S)
    return time.monotonic() - started


# -- the model ------------------------------------------------------------------------

def dequantise_gguf(gguf_path: Path, cache: Path):
    """A GGUF base as a Hugging Face folder (transformers dequantises it), made once."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = cache / f"hf-{gguf_path.stem}-{gguf_path.stat().st_size}"
    if (folder / "config.json").exists():
        return folder
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    cache.mkdir(parents=True, exist_ok=True)
    model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    # save_pretrained refuses a model that still says it is quantised
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    tmp.rename(folder)
    return folder


def load(spec: dict, out: Path):
    import torch

    base = spec["base"]
    cache = Path(spec.get("cache") or out.parent / "bases")
    source = str(dequantise_gguf(Path(base["gguf"]), cache)) if base.get("gguf") else base["hf"]
    lora = spec.get("lora", {})
    targets = lora.get("targets") or ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    backend = spec.get("backend", "auto")
    if backend == "auto":
        backend = "unsloth" if torch.cuda.is_available() else "peft"
    seq_len = int(spec.get("train", {}).get("seq_len", 512))
    if backend == "unsloth":
        from unsloth import FastLanguageModel

        model, tokenizer = FastLanguageModel.from_pretrained(source, max_seq_length=seq_len,
                                                             load_in_4bit=bool(spec.get("load_4bit", True)))
        model = FastLanguageModel.get_peft_model(
            model, r=int(lora.get("r", 8)), lora_alpha=float(lora.get("alpha", 16)), lora_dropout=0.0,
            target_modules=targets, bias="none", use_gradient_checkpointing="unsloth",
            random_state=int(spec.get("train", {}).get("seed", 0)))
    else:
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, AutoTokenizer

        dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
        model = AutoModelForCausalLM.from_pretrained(source, torch_dtype=dtype)
        tokenizer = AutoTokenizer.from_pretrained(source)
        if torch.cuda.is_available():
            model = model.to("cuda")
        if checkpointing(spec, model):
            # activations of each block are recomputed in the backward pass instead of kept: on a CPU
            # with a 0.5B model and long RAG prompts they would otherwise take gigabytes
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.enable_input_require_grads()
            model.config.use_cache = False
        model = get_peft_model(model, LoraConfig(r=int(lora.get("r", 8)), lora_alpha=float(lora.get("alpha", 16)),
                                                 lora_dropout=float(lora.get("dropout", 0.0)),
                                                 target_modules=targets, task_type="CAUSAL_LM"))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer, backend


def checkpointing(spec: dict, model) -> bool:
    """Gradient checkpointing: as the spec says, or ("auto") for models past 200 M parameters."""
    value = spec.get("train", {}).get("checkpointing", "auto")
    if value == "auto":
        return sum(p.numel() for p in model.parameters()) > 200e6
    return bool(value)


def checkpointed(model) -> bool:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return bool(getattr(base, "is_activation_checkpointing", False)
                if hasattr(type(base), "is_activation_checkpointing") else base.is_gradient_checkpointing)


def set_threads(cfg: dict) -> int | None:
    """Intra-op threads on a CPU: the spec's number, else one fewer than the cores the process may
    use (at least one). SmolLM2 on two cores, the settings alternating in one process: with other
    work on the machine one thread made 112.7 tokens/s and two 37.0 (a thread whose core is taken
    holds up every operation of the other at its barrier); on a quieter moment 122.6 and 133.7.
    Losing 9 % when idle beats losing 3× when busy, and the spare core keeps the app answering.
    One inter-op thread: extra pools only compete for the same cores."""
    import torch

    if torch.cuda.is_available():
        return None
    n = int(cfg.get("threads") or 0)
    if not n:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        n = max(1, cores - 1)
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:   # already set in this process (the bench calls train twice)
        pass
    return n


# -- training -----------------------------------------------------------------------------

def latest_checkpoint(out: Path) -> Path | None:
    found = sorted((p for p in out.glob("checkpoint-*") if (p / "state.json").exists()),
                   key=lambda p: int(p.name.split("-")[1]))
    return found[-1] if found else None


def save_checkpoint(model, optimizer, out: Path, step: int, keep: int = 2) -> Path:
    import torch

    folder = out / f"checkpoint-{step}"
    tmp = out / f".checkpoint-{step}.tmp"
    model.save_pretrained(str(tmp))
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps({"step": step}))
    tmp.rename(folder)
    for old in sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))[:-keep]:
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    return folder


def evaluate(model, encoded, pad_id: int) -> float | None:
    import torch

    if not encoded:
        return None
    model.eval()
    losses = []
    with torch.no_grad():
        for ids, labels, mask in batches(encoded, 4, pad_id, 0, 0):
            device = next(model.parameters()).device
            losses.append(float(model(input_ids=ids.to(device), attention_mask=mask.to(device),
                                      labels=labels.to(device)).loss))
    model.train()
    return sum(losses) / len(losses)


def forward_backward(model, group, accum: int, device):
    """One optimizer step's forward and backward passes; (loss of the last micro-batch, tokens)."""
    tokens, out = 0, None
    for ids, labels, mask, positions in group:
        extra = {"position_ids": positions.to(device)} if positions is not None else {}
        out = model(input_ids=ids.to(device), attention_mask=mask.to(device), labels=labels.to(device), **extra)
        (out.loss / accum).backward()
        tokens += int(mask.sum())
    assert out is not None, "an optimizer step needs at least one micro-batch"
    return out.loss, tokens


def optimizer_for(model, cfg: dict, total: int):
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=float(cfg.get("lr", 2e-4)), weight_decay=0.0)
    warmup = max(1, int(total * float(cfg.get("warmup", 0.03))))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / max(1, total - warmup)))
    return params, optimizer, scheduler


def apply_step(params, optimizer, scheduler) -> None:
    import torch

    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)


def peak_rss_bytes() -> int | None:
    """The trainer process's peak resident memory (what training cost in RAM on a CPU)."""
    try:
        import resource
    except ImportError:   # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def calibrate(spec: dict, out: Path, steps: int = 2) -> dict:
    """Time the job's own first steps (after one to warm up) and say how long the whole job
    will take: loading + steps × the measured step time + the held-out pass. Turning a GGUF
    into trainable weights happens once (here, if not before) and is not counted for the job."""
    import torch

    cfg = spec.get("train", {})
    threads = set_threads(cfg)
    torch.manual_seed(int(cfg.get("seed", 0)))
    started = time.monotonic()
    if spec["base"].get("gguf"):   # made once and kept: the job itself will not spend this again
        dequantise_gguf(Path(spec["base"]["gguf"]), Path(spec.get("cache") or out.parent / "bases"))
    convert_s = time.monotonic() - started
    started = time.monotonic()
    model, tokenizer, backend = load(spec, out)
    load_s = time.monotonic() - started
    data = Data(spec, tokenizer)
    params, optimizer, scheduler = optimizer_for(model, cfg, data.total)
    device = next(model.parameters()).device
    model.train()
    times, tokens = [], []
    for n, (_epoch, group) in enumerate(data.steps()):
        if n > max(1, steps):
            break
        t = time.monotonic()
        _loss, done = forward_backward(model, group, data.accum, device)
        apply_step(params, optimizer, scheduler)
        times.append(time.monotonic() - t)
        tokens.append(done)
    measured = times[1:] or times
    step_s = sum(measured) / len(measured)
    per_token = sum(measured) / max(1, sum(tokens[1:] or tokens))
    held_tokens = sum(len(ids) for ids, _ in data.held)
    eval_s = held_tokens * per_token / 3     # a forward pass is about a third of a training step
    result = {"event": "calibration", "backend": backend, "threads": threads, "convert_s": round(convert_s, 2),
              "load_s": round(load_s, 2),
              "step_s": [round(x, 3) for x in times], "tokens_per_step": tokens, "total_steps": data.total,
              "examples": len(data.encoded), "rows": len(data.rows) if data.rows is not None else None,
              "estimate_s": round(load_s + data.total * step_s + eval_s, 1),
              "checkpointing": checkpointed(model)}
    emit(None, **result)
    return result


def train(spec: dict, out: Path) -> dict:
    import torch

    process_start = time.time()
    cfg = spec.get("train", {})
    seed = int(cfg.get("seed", 0))
    threads = set_threads(cfg)
    torch.manual_seed(seed)
    random.seed(seed)
    model, tokenizer, backend = load(spec, out)
    data = Data(spec, tokenizer)
    total = data.total
    params, optimizer, scheduler = optimizer_for(model, cfg, total)
    step = 0
    resumed = latest_checkpoint(out)
    if resumed is not None:
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        set_peft_model_state_dict(model, load_file(str(resumed / "adapter_model.safetensors")))
        optimizer.load_state_dict(torch.load(resumed / "optimizer.pt"))
        step = json.loads((resumed / "state.json").read_text())["step"]
        for _ in range(step):
            scheduler.step()
    emit(out, event="start", backend=backend, examples=len(data.encoded), eval_examples=len(data.held),
         total_steps=total, resumed_from=step, cuda=torch.cuda.is_available(), threads=threads,
         packed_rows=len(data.rows) if data.rows is not None else None,
         checkpointing=checkpointed(model))
    device = next(model.parameters()).device
    model.train()
    save_every = int(cfg.get("save_every", 50))
    t0, done_tokens, started_at = time.time(), 0, step
    loss_value = None
    yield_dir = Path(spec["yield_dir"]) if spec.get("yield_dir") else None
    yielded_s, batch_s = 0.0, 0.0
    # a resumed job goes on in the epoch it stopped in (its order is the seed's, so the same)
    skip = step % max(1, data.per_epoch)
    for _epoch, group in data.steps(step // max(1, data.per_epoch)):
        if step >= total or STOP:
            break
        if skip:
            skip -= 1
            continue
        yielded_s += yield_to_answers(yield_dir, batch_s)
        if STOP:
            break
        batch_start = time.monotonic()
        loss, tokens = forward_backward(model, group, data.accum, device)
        done_tokens += tokens
        apply_step(params, optimizer, scheduler)
        batch_s = (time.monotonic() - batch_start) / max(1, data.accum)
        step += 1
        loss_value = float(loss.detach())
        elapsed = time.time() - t0
        rate = (step - started_at) / elapsed if elapsed > 0 else 0.0
        emit(out, event="step", step=step, total=total, loss=round(loss_value, 5),
             lr=scheduler.get_last_lr()[0], tokens_per_s=round(done_tokens / elapsed, 1) if elapsed else 0.0,
             eta_s=round((total - step) / rate, 1) if rate else None, yielded_s=round(yielded_s, 1))
        if step % save_every == 0 and step < total:
            emit(out, event="saved", step=step, path=str(save_checkpoint(model, optimizer, out, step)))
    if STOP and step < total:
        save_checkpoint(model, optimizer, out, step)
        emit(out, event="stopped", step=step)
        return {"status": "stopped", "step": step}
    eval_loss = evaluate(model, data.held, tokenizer.pad_token_id)
    model.save_pretrained(str(out / "adapter"))
    result = {"status": "done", "step": step, "final_loss": loss_value, "eval_loss": eval_loss, "backend": backend,
              "peak_gpu_bytes": torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None,
              "peak_rss_bytes": peak_rss_bytes(), "seconds": round(time.time() - t0, 1), "wall_s": round(time.time() - process_start, 1),
              "tokens": done_tokens}
    (out / "result.json").write_text(json.dumps(result))
    emit(out, event="done", **result)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Bunko's LoRA trainer")
    parser.add_argument("--spec", required=True, type=Path)
    parser.add_argument("--calibrate", type=int, metavar="STEPS",
                        help="time this many steps of the job (after one to warm up), print the estimate, leave")
    args = parser.parse_args(argv)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    out = Path(spec.get("out") or args.spec.parent / "output")
    out.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    try:
        if args.calibrate:
            calibrate(spec, out, args.calibrate)
            return 0
        result = train(spec, out)
    except Exception as exc:  # one JSON line the app can show, then the traceback for the log
        oom = "out of memory" in str(exc).lower()
        emit(out, event="error", kind="out_of_memory" if oom else type(exc).__name__, message=str(exc)[:2000])
        traceback.print_exc(file=sys.stderr)
        return 3 if oom else 2
    return 0 if result["status"] == "done" else 1


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
