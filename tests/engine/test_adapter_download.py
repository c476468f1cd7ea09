"""Fetching a trained adapter from a host that may be hostile, against a real sshd on
127.0.0.1: only the trainer's two files come back, never a link, never anything
outside the job's folder, never more than the cap; the listing is never a path here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.errors import UnsafeAdapterError
from engine.hosts import adapter_files
from engine.hosts.connect import connect
from engine.hosts.hosts import HostSpec, LocalHost

SECRET = b"the host's secret, not an adapter"


def spec_for(sshd, tmp_path) -> HostSpec:
    return sshd.spec(tmp_path)


def job_tree(tmp_path) -> Path:
    """A remote job folder whose adapter folder holds the real files and hostile extras."""
    job = tmp_path / "remote" / "jobs" / "1-x"
    adapter = job / "output" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text('{"r": 2}')
    (adapter / "adapter_model.safetensors").write_bytes(b"\0" * 1000)
    (adapter / "run_me.sh").write_text("echo pwned")
    (adapter / "sub").mkdir()
    (adapter / "sub" / "authorized_keys").write_text("ssh-ed25519 AAAA attacker")
    (tmp_path / "secret").write_bytes(SECRET)
    return job


@pytest.fixture
def host(sshd, tmp_path):
    h = connect(spec_for(sshd, tmp_path), tmp_path / "here")
    yield h
    h.close()


def test_only_the_trainers_files_come_back(host, tmp_path):
    job = job_tree(tmp_path)
    local = tmp_path / "here" / "adapter"
    got = host.get_adapter(str(job), local)
    assert got == local
    assert sorted(p.name for p in local.iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    assert (local / "adapter_model.safetensors").read_bytes() == b"\0" * 1000


def test_a_linked_weights_file_is_refused(host, tmp_path):
    job = job_tree(tmp_path)
    weights = job / "output" / "adapter" / "adapter_model.safetensors"
    weights.unlink()
    weights.symlink_to(tmp_path / "secret")
    local = tmp_path / "here" / "adapter"
    with pytest.raises(UnsafeAdapterError, match="not a plain file"):
        host.get_adapter(str(job), local)
    assert not local.exists() or not any(local.iterdir())


def test_an_adapter_folder_leading_outside_the_job_is_refused(host, tmp_path):
    job = job_tree(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (job / "output" / "adapter").rename(elsewhere)
    (job / "output" / "adapter").symlink_to(elsewhere)
    with pytest.raises(UnsafeAdapterError, match="outside the job"):
        host.get_adapter(str(job), tmp_path / "here" / "adapter")


def test_an_oversized_file_is_refused_and_leaves_no_part(host, tmp_path, monkeypatch):
    job = job_tree(tmp_path)
    monkeypatch.setitem(adapter_files.ADAPTER_FILES, "adapter_model.safetensors", 999)
    local = tmp_path / "here" / "adapter"
    with pytest.raises(UnsafeAdapterError, match="more than the 999"):
        host.get_adapter(str(job), local)
    assert not list(local.glob("*.part")) and not (local / "adapter_model.safetensors").exists()


def test_a_file_growing_past_the_cap_while_fetched_is_cut(host, tmp_path, monkeypatch):
    job = job_tree(tmp_path)
    real_lstat = host.sftp.lstat

    def shrunk(path):  # the size seen before the download is small; the file is not
        st = real_lstat(path)
        st.st_size = min(st.st_size, 10)
        return st
    monkeypatch.setattr(host.sftp, "lstat", shrunk)
    monkeypatch.setitem(adapter_files.ADAPTER_FILES, "adapter_model.safetensors", 500)
    monkeypatch.setattr(adapter_files, "CHUNK", 100)
    local = tmp_path / "here" / "adapter"
    with pytest.raises(UnsafeAdapterError, match="more than the 500"):
        host.get_adapter(str(job), local)
    assert not list(local.glob("*.part")) and not (local / "adapter_model.safetensors").exists()


class _Entry:
    def __init__(self, name, mode=0o100644):
        self.filename, self.st_mode, self.st_size = name, mode, 3


def test_hostile_names_in_a_listing_are_never_used(host, tmp_path, monkeypatch):
    """A server can list names no real file has ("/abs", "../x"): they must not become paths here."""
    job = job_tree(tmp_path)
    monkeypatch.setattr(host.sftp, "listdir_attr", lambda _p: [_Entry(str(tmp_path / "abs")), _Entry("../escape"),
                                                                _Entry("adapter_config.json")])
    host.get_adapter(str(job), tmp_path / "here" / "adapter")
    assert not (tmp_path / "abs").exists() and not (tmp_path / "here" / "escape").exists()


def test_a_local_job_gets_the_same_checks(tmp_path):
    job = job_tree(tmp_path)
    host = LocalHost(HostSpec(), tmp_path)
    assert host.get_adapter(str(job), tmp_path / "unused") == job / "output" / "adapter"
    weights = job / "output" / "adapter" / "adapter_model.safetensors"
    weights.unlink()
    os.symlink(tmp_path / "secret", weights)
    with pytest.raises(UnsafeAdapterError, match="not a plain file"):
        host.get_adapter(str(job), tmp_path / "unused")


def test_a_job_whose_host_links_its_adapter_fails_in_words(sshd, tmp_path):
    from engine.api import Engine
    from engine.finetune.jobs import Jobs
    from engine.finetune.presets import preset

    (tmp_path / "remote").mkdir()
    (tmp_path / "secret").write_bytes(SECRET)
    (tmp_path / "remote" / "fake.json").write_text(
        '{"delay": 0.01, "adapter_link": "%s"}' % (tmp_path / "secret"))
    examples = [{"messages": [{"role": "user", "content": f"Q{i}?"}, {"role": "assistant", "content": f"A{i}."}]}
                for i in range(3)]
    with Engine.open(tmp_path / "db.duckdb") as engine:
        jobs = Jobs(engine._store, engine.models.registry, root=tmp_path / "here",
                    trainer_script=Path(__file__).with_name("fake_trainer.py"))
        job = jobs.create("linked", engine.models.default().name, examples, preset("quick", max_steps=2),
                          spec_for(sshd, tmp_path))
        jobs.start(job.id)
        job = jobs.follow(job.id, interval=0.1, give_up_after=20)
        assert job.status == "failed" and job.error_kind == "unsafe_adapter", job.error
        assert "not a plain file" in job.error
        assert not any(p.read_bytes() == SECRET for p in (tmp_path / "here").rglob("*") if p.is_file())
