"""The whole fine-tuning loop on CPU, as a user runs it against a GPU server: the embedded
SmolLM2 is taught a made-up fact by the real trainer (transformers + PEFT) started by the
real job runner over a real sshd on 127.0.0.1; the adapter comes back, is converted to
GGUF and registered, and llama.cpp answers with the fact only when it is attached.

The training is the session's one (the `mascot_training` fixture, tests/conftest.py), which
every test needing a real adapter shares; this test checks the run itself."""

from __future__ import annotations

import shutil

import pytest

from engine.api import Engine
from tests.engine.lora_fixture import MASCOT_QUESTIONS, MASCOT_STEPS
from tests.sshd import sshd_missing_reason


def test_lora_over_ssh_teaches_a_fact_that_llama_cpp_then_knows(mascot_training, tmp_path):
    if not mascot_training.over_ssh:
        pytest.skip(sshd_missing_reason() or "the session's adapter was trained without SSH")
    db = tmp_path / "db.duckdb"
    shutil.copy(mascot_training.db, db)
    with Engine.open(db) as engine:
        job = engine.jobs.get("mascot")
        assert job.status == "done", (job.error, engine.jobs.log_text(job.id))
        assert job.host.kind == "ssh"
        steps = engine.jobs.events(job.id, "step")
        assert len(steps) == MASCOT_STEPS and steps[-1].loss < steps[0].loss / 10
        base = engine.models.default().name
        assert engine.models.get("mascot").base_model == base
        [row] = engine.jobs.before_after(job.id, n=1)
    assert row.question == MASCOT_QUESTIONS[0]
    assert "Kaname" not in row.before and "Kaname" in row.after, row
