"""The job runner against a real sshd on 127.0.0.1: host keys, logins, Test connection,
and jobs (with a quick stand-in trainer) that run detached, survive a dropped
connection, crash, are cancelled with nothing left behind, resume and finish with a
registered adapter. The real trainer over SSH is in test_finetune_loop.py."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.api import Engine, probe_host
from engine.errors import (AuthError, HostKeyChangedError, HostKeyUnknownError, PassphraseNeededError)
from engine.hosts.hosts import HostSpec, Secrets
from engine.finetune.jobs import Jobs
from engine.finetune.presets import preset

FAKE = Path(__file__).with_name("fake_trainer.py")
EXAMPLES = [{"messages": [{"role": "user", "content": f"Question {i}?"},
                          {"role": "assistant", "content": f"Answer {i}."}]} for i in range(6)]


def spec_for(sshd, tmp_path, **changes) -> HostSpec:
    return sshd.spec(tmp_path, **changes)


@pytest.fixture
def engine(tmp_path):
    with Engine.open(tmp_path / "db.duckdb") as e:
        yield e


@pytest.fixture
def jobs(engine, tmp_path):
    return Jobs(engine._store, engine.models.registry, root=tmp_path / "here", trainer_script=FAKE)


def fake(tmp_path, **behaviour) -> None:
    (tmp_path / "remote").mkdir(exist_ok=True)
    (tmp_path / "remote" / "fake.json").write_text(json.dumps(behaviour))


def trainers_running(tmp_path) -> list[str]:
    out = subprocess.run(["pgrep", "-af", "bunko_train"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(tmp_path) in line]


# -- host keys and logins --------------------------------------------------------------------

def test_unknown_host_shows_its_fingerprint_and_is_accepted_only_when_the_user_says_so(sshd, tmp_path):
    own = tmp_path / "bunko_known_hosts"
    spec = spec_for(sshd, tmp_path, known_hosts=str(own))
    with pytest.raises(HostKeyUnknownError) as err:
        probe_host(spec)
    assert err.value.fingerprint == sshd.host_key_fingerprint and sshd.host_key_fingerprint in str(err.value)
    assert not own.exists()  # never accepted silently
    with pytest.raises(HostKeyUnknownError):
        probe_host(spec, Secrets(accept_fingerprint="SHA256:somethingelse"))
    report = probe_host(spec, Secrets(accept_fingerprint=err.value.fingerprint))
    assert report.ok and report.python
    assert f"[127.0.0.1]:{sshd.port}" in own.read_text()
    assert probe_host(spec).ok  # remembered


def test_changed_host_key_is_refused_and_known_hosts_left_alone(sshd, tmp_path):
    before = sshd.known_hosts.read_text()
    sshd.change_host_key()
    with pytest.raises(HostKeyChangedError, match="CHANGED"):
        probe_host(spec_for(sshd, tmp_path), Secrets(accept_fingerprint=sshd.host_key_fingerprint))
    assert sshd.known_hosts.read_text() == before


def test_refused_key_and_passphrase(sshd, tmp_path):
    with pytest.raises(AuthError, match="refused"):
        probe_host(spec_for(sshd, tmp_path, key_file=str(sshd.stranger_key)))
    locked = spec_for(sshd, tmp_path, key_file=str(sshd.locked_key))
    with pytest.raises(PassphraseNeededError):
        probe_host(locked)
    assert probe_host(locked, Secrets(passphrase=sshd.locked_key_passphrase)).ok


def test_alias_from_ssh_config_and_a_host_without_python(sshd, tmp_path):
    alias = HostSpec(kind="ssh", alias="gpubox", ssh_config=str(sshd.ssh_config), known_hosts=str(sshd.known_hosts),
                     root=str(tmp_path / "remote"))
    report = probe_host(alias)
    assert report.ok, report.problems
    assert report.label == "gpubox" and report.disk_free_bytes > 0 and report.python.startswith("3.")
    assert any("No NVIDIA GPU" in w for w in report.warnings)
    missing = probe_host(spec_for(sshd, tmp_path, python="python9.9"))
    assert not missing.ok and "No Python" in missing.problems[0]


def test_unreachable_host_is_a_clear_error(tmp_path):
    from engine.errors import HostError

    with pytest.raises(HostError, match="Cannot connect|did not answer"):
        probe_host(HostSpec(kind="ssh", hostname="127.0.0.1", port=1, ssh_config=str(tmp_path / "none")))


# -- jobs ----------------------------------------------------------------------------------

def test_job_runs_detached_over_ssh_and_registers_its_adapter(sshd, tmp_path, engine, jobs):
    fake(tmp_path, delay=0.02)
    base = engine.models.default().name
    job = jobs.create("fake-ssh", base, EXAMPLES[:5], preset("quick", max_steps=8), spec_for(sshd, tmp_path),
                      held_out=EXAMPLES[5:])
    seen = []
    jobs.start(job.id, progress=lambda p: seen.append(p.item))
    job = jobs.follow(job.id, progress=lambda p: seen.append(p.item), interval=0.2)
    assert job.status == "done", job.error
    assert [e.step for e in seen if e.kind == "step"] == list(range(1, 9))
    assert job.adapter == "fake-ssh" and job.loss == 0.25
    adapter = engine.models.get("fake-ssh")
    assert adapter.kind == "adapter" and adapter.base_model == base
    assert json.loads(engine.models.get("fake-ssh").training if isinstance(adapter.training, str)
                      else json.dumps(adapter.training))["settings"]["max_steps"] == 8
    assert len(jobs.events(job.id, "step")) == 8
    assert "done" in jobs.log_text(job.id)  # the trainer's output, copied here
    # the base model went up once; a second job finds it there
    bases = list((tmp_path / "remote" / "bases").glob("*.gguf"))
    assert len(bases) == 1 and bases[0].stat().st_size == Path(engine.models.get(base).path).stat().st_size
    jobs.clean(job.id)
    assert not (tmp_path / "remote" / "jobs" / f"{job.id}-fake-ssh").exists()


def test_cancel_leaves_nothing_running_and_resume_continues(sshd, tmp_path, engine, jobs):
    fake(tmp_path, delay=0.3)
    job = jobs.create("fake-cancel", engine.models.default().name, EXAMPLES, preset("quick", max_steps=40),
                      spec_for(sshd, tmp_path))
    jobs.start(job.id)
    deadline = time.monotonic() + 30
    while jobs.sync(job.id).step < 3 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert trainers_running(tmp_path)
    job = jobs.cancel(job.id)
    assert job.status == "cancelled" and not trainers_running(tmp_path)
    stopped_at = job.step
    assert stopped_at >= 3
    fake(tmp_path, delay=0.01)
    jobs.start(job.id)
    job = jobs.follow(job.id, interval=0.2)
    assert job.status == "done"
    starts = jobs.events(job.id, "start")
    assert starts[-1].resumed_from >= stopped_at


def test_a_dropped_connection_does_not_stop_training(sshd, tmp_path, engine, jobs):
    fake(tmp_path, delay=0.4)   # 12 s of training: it must outlast sshd's stop (up to 5 s) and the pause
    job = jobs.create("fake-drop", engine.models.default().name, EXAMPLES, preset("quick", max_steps=30),
                      spec_for(sshd, tmp_path))
    jobs.start(job.id)
    seen: list[dict] = []
    result: dict = {}
    follower = threading.Thread(target=lambda: result.update(
        job=jobs.follow(job.id, progress=lambda p: seen.append(p.item), interval=0.2)))
    follower.start()
    deadline = time.monotonic() + 30
    while not any(e.kind == "step" for e in seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    sshd.stop()                       # the link drops mid-training
    time.sleep(2.5)
    assert trainers_running(tmp_path)  # the trainer did not notice
    sshd.start()
    follower.join(120)
    assert result["job"].status == "done"
    statuses = [e.status for e in seen if e.kind == "status"]
    assert "connection_lost" in statuses and "reconnected" in statuses
    assert [e.step for e in jobs.events(job.id, "step")] == list(range(1, 31))  # no line lost or doubled


@pytest.mark.parametrize("crash, kind, words", [("oom", "out_of_memory", "ran out of"),
                                                ("killed", "killed", "ended without finishing")])
def test_a_crashing_trainer_fails_the_job_in_words_and_it_can_resume(sshd, tmp_path, engine, jobs, crash, kind, words):
    fake(tmp_path, delay=0.01, crash=crash)
    job = jobs.create(f"fake-{crash}", engine.models.default().name, EXAMPLES, preset("quick", max_steps=6),
                      spec_for(sshd, tmp_path))
    jobs.start(job.id)
    job = jobs.follow(job.id, interval=0.2)
    assert job.status == "failed" and job.error_kind == kind and words in job.error
    fake(tmp_path, delay=0.01)
    jobs.start(job.id)
    assert jobs.follow(job.id, interval=0.2).status == "done"


def test_a_truncated_base_on_the_host_is_sent_again(sshd, tmp_path, engine, jobs):
    fake(tmp_path, delay=0.01)
    base = engine.models.default()
    first = jobs.create("fake-a", base.name, EXAMPLES, preset("quick", max_steps=2), spec_for(sshd, tmp_path))
    jobs.start(first.id)
    assert jobs.follow(first.id, interval=0.2).status == "done"
    [remote_base] = (tmp_path / "remote" / "bases").glob("*.gguf")
    with remote_base.open("r+b") as f:      # as if an upload had broken off
        f.truncate(1000)
    second = jobs.create("fake-b", base.name, EXAMPLES, preset("quick", max_steps=2), spec_for(sshd, tmp_path))
    jobs.start(second.id)
    assert remote_base.stat().st_size == Path(base.path).stat().st_size
    assert jobs.follow(second.id, interval=0.2).status == "done"


def test_local_job_and_a_job_state_seen_by_a_new_process(tmp_path, engine, jobs):
    (tmp_path / "here").mkdir(exist_ok=True)
    (tmp_path / "here" / "fake.json").write_text(json.dumps({"delay": 0.05}))
    job = jobs.create("fake-local", engine.models.default().name, EXAMPLES, preset("quick", max_steps=10),
                      HostSpec(env_python=sys.executable))
    jobs.start(job.id)
    # "the app was closed": a fresh Jobs (as after a restart) picks the job up from the database
    again = Jobs(engine._store, engine.models.registry, root=tmp_path / "here", trainer_script=FAKE)
    assert again.get("fake-local").status == "running"
    ended = again.follow("fake-local", interval=0.2)
    assert ended.status == "done", ended.error   # it failed once in the fast tier under load: say why
    assert engine.models.get("fake-local").kind == "adapter"


def test_environment_setup_over_ssh_runs_detached_and_reports_failure(sshd, tmp_path, monkeypatch):
    """The real setup path (venv, pip, marker file) on the host; requirements swapped for
    an empty list so that nothing big is installed, then for a broken one."""
    from engine.errors import HostError
    from engine.finetune import trainer_env
    from engine.hosts.ssh import SSHHost

    reqs = tmp_path / "reqs"
    reqs.mkdir()
    (reqs / "requirements-cpu.txt").write_text("# nothing: the test only checks the machinery\n")
    monkeypatch.setattr(trainer_env, "TRAINER_DIR", reqs)
    spec = spec_for(sshd, tmp_path, env_python=None)
    host = SSHHost.connect(spec, Secrets())
    try:
        assert not trainer_env.env_ready(host)
        lines: list[str] = []
        trainer_env.setup(host, "cpu", lines.append)
        assert trainer_env.env_ready(host, "cpu") and not trainer_env.env_ready(host, "cuda")
        assert (tmp_path / "remote" / "env" / "bin" / "python").exists()
        (reqs / "requirements-cpu.txt").write_text("this is not a requirement ===\n")
        assert not trainer_env.env_ready(host, "cpu")   # changed pins: set up again
        with pytest.raises(HostError, match="failed"):
            trainer_env.setup(host, "cpu")
    finally:
        host.close()


def test_a_host_short_of_disk_space_is_refused_before_anything_is_sent(sshd, tmp_path, engine, jobs, monkeypatch):
    from engine.errors import HostError
    from engine.finetune import trainer_env

    monkeypatch.setattr(trainer_env, "MIN_DISK_CPU", 1 << 60)   # more than any disk has
    spec = spec_for(sshd, tmp_path, env_python=None)
    report = probe_host(spec)
    assert not report.ok and "GiB free" in report.problems[0]
    job = jobs.create("no-room", engine.models.default().name, EXAMPLES, preset("quick", max_steps=2), spec)
    with pytest.raises(HostError, match="GiB free"):
        jobs.start(job.id)
    job = jobs.get(job.id)
    assert job.status == "failed" and "GiB free" in job.error
    assert not (tmp_path / "remote" / "jobs").exists()   # nothing uploaded
