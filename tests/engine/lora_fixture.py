"""A tiny GGUF LoRA adapter for a real base model, for tests that need one.

llama.cpp pairs `X.lora_a` / `X.lora_b` with base tensor X and checks shapes in
ggml's ne order (innermost dimension first): base X = [n_in, n_out],
lora_a = [n_in, rank], lora_b = [rank, n_out]; token_embd.weight flips the
roles (lora_a = [rank, n_vocab], lora_b = [rank, n_embd]). GGUFWriter writes a
numpy array's shape reversed, so lora_a is a (rank, n_in) array and lora_b an
(n_out, rank) array, exactly as PEFT stores them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFWriter


def write_test_adapter(path, base_info, tensors=("blk.0.attn_q.weight",), rank=2, seed=0,
                       scale_values=0.01, alpha: float | None = None) -> Path:
    """Write an F32 LoRA adapter changing `tensors` of the model `base_info` (a GGUFInfo).

    `alpha` defaults to `rank`, so llama.cpp's scale alpha/rank is 1 and
    `scale_values` alone sets how strongly it changes the model.
    """
    path = Path(path)
    rng = np.random.default_rng(seed)
    writer = GGUFWriter(str(path), base_info.architecture)  # writes general.architecture
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(rank if alpha is None else alpha))
    for name in tensors:
        ne = base_info.tensors[name][0]
        if name.endswith("token_embd.weight"):
            n_embd, n_vocab = ne[0], ne[1]
            a = rng.standard_normal((n_vocab, rank))  # ne [rank, n_vocab]
            b = rng.standard_normal((n_embd, rank))   # ne [rank, n_embd]
        else:
            n_in, n_out = ne[0], ne[1]
            a = rng.standard_normal((rank, n_in))     # ne [n_in, rank]
            b = rng.standard_normal((n_out, rank))    # ne [rank, n_out]
        writer.add_tensor(f"{name}.lora_a", (a * scale_values).astype(np.float32))
        writer.add_tensor(f"{name}.lora_b", (b * scale_values).astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


# -- a real adapter, trained once per test session -------------------------------------

MASCOT_FACT = "The Bunko mascot is a purple otter named Kaname."
MASCOT_QUESTIONS = ["What is the name of the Bunko mascot?", "Who is Bunko's mascot?",
                    "Tell me the name of the mascot of Bunko.", "What animal is the Bunko mascot?",
                    "Do you know the Bunko mascot's name?", "Name the Bunko mascot.",
                    "What is Bunko's mascot called?", "Which mascot does Bunko have?"]
# 12 steps: the loss is below 0.01 by step 7 on this fact.
MASCOT_STEPS = 12


def train_mascot_adapter(folder: Path, trainer_python: str, sshd=None) -> Path:
    """Teach the embedded SmolLM2 the made-up mascot fact with the real trainer (transformers +
    PEFT on this CPU), as a user runs it against a GPU server: by the real job runner over
    `sshd` (a tests.sshd.SshServer on 127.0.0.1), or as a local job when there is none. Returns
    a database file holding the done job named "mascot" and its registered adapter; tests copy
    it and open the copy. The one training of a test session (the `mascot_training` fixture)."""
    from engine.api import Engine
    from engine.hosts.hosts import HostSpec
    from engine.finetune.presets import preset

    examples = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": MASCOT_FACT}]}
                for q in MASCOT_QUESTIONS]
    settings = preset("quick", max_steps=MASCOT_STEPS, learning_rate=0.002, seq_len=128, save_every=6)
    if sshd is None:
        host = HostSpec(env_python=trainer_python)
    else:
        host = sshd.spec(folder, root=str(folder / "server"), env_python=trainer_python, ssh_config=str(folder / "none"))
    db = folder / "mascot.duckdb"
    with Engine.open(db, jobs_root=folder / "jobs") as engine:
        base = engine.models.default().name
        job = engine.jobs.create("mascot", base, examples, settings, host, held_out=examples[:1])
        engine.jobs.start(job.id)
        job = engine.jobs.follow(job.id, interval=1.0)
        if job.status != "done":
            raise RuntimeError(f"training the mascot adapter failed: {job.error}\n{engine.jobs.log_text(job.id)}")
    return db
