"""The trainer on a CPU: packing (pure logic, the script imported as it is), and a real LoRA job
on the embedded SmolLM2 that is timed before it starts (`--calibrate`) and then trained, packed,
with the thread setting and the estimate's error recorded."""

from __future__ import annotations

import importlib.util
import math

import pytest

from engine.finetune import trainer_env


def _trainer():
    spec = importlib.util.spec_from_file_location("bunko_train", trainer_env.TRAINER_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_packing_fills_rows_without_splitting_an_example_and_restarts_positions():
    t = _trainer()
    encoded = [([i] * n, [-100] * (n - 2) + [i, i]) for i, n in enumerate((5, 3, 9, 2, 7, 4), 1)]
    rows = t.pack(encoded, 10, seed=0)
    assert sorted(x for ids, _, _ in rows for x in ids) == sorted(x for ids, _ in encoded for x in ids)
    assert all(len(ids) <= 10 for ids, _, _ in rows) and len(rows) < len(encoded)
    for ids, labels, pos in rows:
        assert len(ids) == len(labels) == len(pos)
        starts = [k for k, p in enumerate(pos) if p == 0]
        pieces = [ids[a:b] for a, b in zip(starts, starts[1:] + [len(ids)])]
        assert all(len(set(p)) == 1 and len(p) == len(encoded[p[0] - 1][0]) for p in pieces)  # whole examples
    assert t.pack(encoded, 10, seed=0) == rows and t.pack(encoded, 10, seed=1) != rows   # the seed decides


@pytest.mark.slow   # loads SmolLM2 in the trainer's environment twice and trains a few steps (minutes)
def test_a_measured_job_trains_packed_on_this_cpu(tmp_path, trainer_python):
    from engine.api import Engine
    from engine.finetune.measure import estimate_error
    from engine.finetune.presets import preset
    from engine.hosts.hosts import HostSpec

    examples = [{"messages": [{"role": "user", "content": f"What does rule {i} say?"},
                              {"role": "assistant", "content": f"Rule {i} says: " + "keep the otter dry. " * (i % 4 + 1)}]}
                for i in range(12)]
    settings = preset("quick", max_steps=3, seq_len=256, batch=2, learning_rate=0.002, save_every=100)
    with Engine.open(tmp_path / "db.duckdb", jobs_root=tmp_path / "jobs") as engine:
        job = engine.jobs.create("packed", engine.models.default().name, examples, settings,
                                     HostSpec(env_python=trainer_python), held_out=examples[:2])
        measured = engine.jobs.measure(job.id, steps=1)
        assert measured["event"] == "calibration" and measured["backend"] == "peft"
        assert measured["total_steps"] == 3 and measured["threads"] >= 1 and measured["rows"] < 12
        assert len(measured["step_s"]) == 2 and all(s > 0 for s in measured["step_s"])
        assert measured["estimate_s"] > measured["load_s"]
        assert engine.jobs.get(job.id).data["estimate"]["estimate_s"] == measured["estimate_s"]
        engine.jobs.start(job.id)
        job = engine.jobs.follow(job.id, interval=1.0)
        assert job.status == "done", (job.error, engine.jobs.log_text(job.id))
        [start] = engine.jobs.events(job.id, "start")
        assert start.packed_rows == measured["rows"] and start.threads == measured["threads"]
        steps = engine.jobs.events(job.id, "step")
        assert [s.step for s in steps] == [1, 2, 3] and all((s.tokens_per_s or 0) > 0 for s in steps)
        assert job.result["wall_s"] >= job.result["seconds"] > 0 and job.result["tokens"] > 0
        assert job.result["peak_rss_bytes"] > 100 * 1024 ** 2   # torch and a base model are resident
        assert engine.models.get(job.adapter).training["peak_rss_bytes"] == job.result["peak_rss_bytes"]
        error = estimate_error(job)
        assert error is not None and math.isfinite(error)
        print(f"\nestimate {measured['estimate_s']} s, real {job.result['wall_s']} s, error {error:+.0%}")
