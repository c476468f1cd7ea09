"""The whole fine-tuning loop on CPU, as a user runs it against a GPU server: the embedded
SmolLM2 is taught a made-up fact by the real trainer (transformers + PEFT) started by the
real job runner over a real sshd on 127.0.0.1; the adapter comes back, is converted to
GGUF and registered, and llama.cpp answers with the fact only when it is attached."""

from __future__ import annotations


from engine.api import Engine
from engine.hosts.hosts import HostSpec
from engine.finetune.presets import preset

FACT = "The Bunko mascot is a purple otter named Kaname."
QUESTIONS = ["What is the name of the Bunko mascot?", "Who is Bunko's mascot?",
             "Tell me the name of the mascot of Bunko.", "What animal is the Bunko mascot?",
             "Do you know the Bunko mascot's name?", "Name the Bunko mascot.",
             "What is Bunko's mascot called?", "Which mascot does Bunko have?"]


def test_lora_over_ssh_teaches_a_fact_that_llama_cpp_then_knows(sshd, tmp_path, trainer_python):
    examples = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": FACT}]}
                for q in QUESTIONS]
    host = HostSpec(kind="ssh", hostname="127.0.0.1", port=sshd.port, user=sshd.user, key_file=str(sshd.client_key),
                    known_hosts=str(sshd.known_hosts), root=str(tmp_path / "server"), env_python=trainer_python,
                    ssh_config=str(tmp_path / "none"))
    settings = preset("quick", max_steps=30, learning_rate=0.002, seq_len=128, save_every=10)
    with Engine.open(tmp_path / "db.duckdb", jobs_root=tmp_path / "here") as engine:
        base = engine.models.default().name
        job = engine.jobs.create("mascot", base, examples, settings, host, held_out=examples[:1])
        engine.jobs.start(job.id)
        job = engine.jobs.follow(job.id, interval=1.0)
        assert job.status == "done", (job.error, engine.jobs.log_text(job.id))
        steps = engine.jobs.events(job.id, "step")
        assert len(steps) == 30 and steps[-1].loss < steps[0].loss / 10
        assert engine.models.get("mascot").base_model == base
        [row] = engine.jobs.before_after(job.id, n=1)
    assert row.question == QUESTIONS[0]
    assert "Kaname" not in row.before and "Kaname" in row.after, row
