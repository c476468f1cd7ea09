"""The reference for `bunko bench finetune`: the plain PEFT step loop a person would write
(load, LoRA, AdamW, forward/backward/step), on the very batches and settings of a Bunko job,
without Bunko's trainer around it (no progress lines, no yielding to answers, no checkpoints,
no scheduler). Runs in the trainer's environment on the job's host, next to bunko_train.py,
from which it takes only the data preparation (tokenizing, packing) so both see equal tokens.

    python peft_reference.py --spec job/spec.json

Prints one JSON line: tokens, seconds (first step to last, after loading), tokens_per_s.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec", required=True, type=Path)
    args = parser.parse_args(argv)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    found = importlib.util.spec_from_file_location("bunko_train", args.spec.parent / "bunko_train.py")
    if found is None or found.loader is None:
        raise SystemExit(f"bunko_train.py is missing next to {args.spec}")
    bunko = importlib.util.module_from_spec(found)
    found.loader.exec_module(bunko)   # for its data preparation and settings only

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cfg, lora = spec.get("train", {}), spec.get("lora", {})
    threads = bunko.set_threads(cfg)   # the same thread setting, or the comparison says nothing
    torch.manual_seed(int(cfg.get("seed", 0)))
    out = Path(spec.get("out") or args.spec.parent / "output")
    source = str(bunko.dequantise_gguf(Path(spec["base"]["gguf"]), Path(spec.get("cache") or out.parent / "bases")))
    model = AutoModelForCausalLM.from_pretrained(source, torch_dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if bunko.checkpointing(spec, model):
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    model = get_peft_model(model, LoraConfig(
        r=int(lora.get("r", 8)), lora_alpha=float(lora.get("alpha", 16)), lora_dropout=0.0, task_type="CAUSAL_LM",
        target_modules=lora.get("targets") or ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                               "down_proj"]))
    data = bunko.Data(spec, tokenizer)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=float(cfg.get("lr", 2e-4)))
    model.train()
    tokens, step, started = 0, 0, time.time()
    for _epoch, group in data.steps():
        if step >= data.total:
            break
        for ids, labels, mask, positions in group:
            extra = {"position_ids": positions} if positions is not None else {}
            loss = model(input_ids=ids, attention_mask=mask, labels=labels, **extra).loss
            (loss / data.accum).backward()
            tokens += int(mask.sum())
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
    seconds = time.time() - started
    print(json.dumps({"event": "reference", "steps": step, "tokens": tokens, "seconds": round(seconds, 2),
                      "tokens_per_s": round(tokens / seconds, 2), "threads": threads,
                      "final_loss": round(float(loss.detach()), 5)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
