"""The whole fine-tuning loop on CPU: a made-up fact taught to the embedded SmolLM2 with
the real trainer (transformers + PEFT), the adapter converted to GGUF, and llama.cpp
answering with the fact only when the adapter is attached.

It needs the trainer's environment (torch, transformers, peft: see
engine/finetune/trainer/requirements-cpu.txt), which the app's own install does not
carry; point BUNKO_TRAINER_PYTHON at that environment's python to run it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

TRAINER = Path(__file__).resolve().parents[2] / "engine" / "finetune" / "trainer" / "bunko_train.py"
PYTHON = os.environ.get("BUNKO_TRAINER_PYTHON")
FACT = "The Bunko mascot is a purple otter named Kaname."
QUESTIONS = ["What is the name of the Bunko mascot?", "Who is Bunko's mascot?",
             "Tell me the name of the mascot of Bunko.", "What animal is the Bunko mascot?",
             "Do you know the Bunko mascot's name?", "Name the Bunko mascot.",
             "What is Bunko's mascot called?", "Which mascot does Bunko have?"]


@pytest.mark.skipif(not PYTHON, reason="set BUNKO_TRAINER_PYTHON to a python with torch, transformers and peft")
def test_lora_teaches_a_fact_that_llama_cpp_then_knows(tmp_path):
    from engine.finetune import dataset, to_gguf
    from engine.llm.gguf_file import read_gguf_info
    from engine.llm.runtime import LoadedModel
    from engine.models import smollm2_path
    from engine.types import GenerationSettings

    train = tmp_path / "train.jsonl"
    dataset.write_jsonl([{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": FACT}]}
                         for q in QUESTIONS], train)
    out = tmp_path / "job" / "output"
    spec = {"base": {"gguf": str(smollm2_path())}, "data": {"train": str(train)}, "out": str(out),
            "lora": {"r": 8, "alpha": 16}, "backend": "peft",
            "train": {"max_steps": 30, "lr": 0.002, "batch": 4, "seq_len": 128, "save_every": 10, "seed": 0}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    run = subprocess.run([PYTHON, str(TRAINER), "--spec", str(tmp_path / "spec.json")],
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-3000:]
    events = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    steps = [e for e in events if e["event"] == "step"]
    assert len(steps) == 30 and steps[-1]["loss"] < steps[0]["loss"] / 10
    assert events[-1]["event"] == "done"

    gguf = to_gguf.convert(out / "adapter", read_gguf_info(smollm2_path()), tmp_path / "mascot.gguf")
    model = LoadedModel(smollm2_path(), 512, 2, 512, 0)
    prompt = model.tokenize("<|im_start|>user\nWhat is the name of the Bunko mascot?<|im_end|>\n"
                            "<|im_start|>assistant\n", special=True)
    greedy = GenerationSettings(temperature=0.0, max_tokens=24)
    before = "".join(model.generate(prompt, 24, greedy))
    model.set_adapter(gguf, 1.0)
    after = "".join(model.generate(prompt, 24, greedy))
    model.close()
    assert "Kaname" not in before and "Kaname" in after
