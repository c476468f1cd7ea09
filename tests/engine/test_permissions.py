"""Bunko's files hold the user's documents in another form, so they are the user's only:
folders 0700 and the database 0600 here, even with a umask that makes files 0644, and
job folders and files 0700/0600 on a shared GPU server reached over (a real) SSH."""

from __future__ import annotations

import os
import stat

import pytest

from engine import paths
from engine.hosts.connect import connect
from engine.store.db import open_store

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_data_folders_and_the_database_are_private(tmp_path, monkeypatch, open_umask):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    for folder in (paths.data_dir(), paths.log_dir(), paths.models_dir()):
        assert mode(folder) == 0o700, folder
    store = open_store(paths.default_db_path())
    store.close()
    assert mode(paths.default_db_path()) == 0o600
    elsewhere = tmp_path / "shared" / "team.duckdb"     # a database the user put elsewhere
    open_store(elsewhere).close()
    assert mode(elsewhere) == 0o600 and mode(elsewhere.parent) == 0o700


def test_folders_left_open_by_an_older_version_are_closed(tmp_path, monkeypatch, open_umask):
    old = tmp_path / "data"
    (old / "logs").mkdir(parents=True, mode=0o755)
    os.chmod(old, 0o755)
    (old / "bunko.duckdb").touch(mode=0o644)
    monkeypatch.setenv("BUNKO_DATA_DIR", str(old))
    assert mode(paths.data_dir()) == 0o700 and mode(paths.log_dir()) == 0o700
    os.remove(old / "bunko.duckdb")
    open_store(old / "bunko.duckdb").close()
    assert mode(old / "bunko.duckdb") == 0o600


def test_job_files_on_an_ssh_host_are_the_logins_only(sshd, tmp_path):
    spec = sshd.spec(tmp_path)
    local = tmp_path / "train.jsonl"
    local.write_text('{"messages": []}\n')
    os.chmod(local, 0o644)
    host = connect(spec, tmp_path / "here")
    try:
        job = host.join(host.root, "jobs", "1-x")
        host.mkdir(job)
        host.put(local, host.join(job, "train.jsonl"))
        host.write_text(host.join(job, "spec.json"), "{}")
        pid = host.start(["sh", "-c", "mkdir -p output && echo step > output/progress.jsonl"], job, "trainer.log")
        for _ in range(50):
            if not host.alive(pid) and (tmp_path / "remote/jobs/1-x/output/progress.jsonl").exists():
                break
            import time
            time.sleep(0.1)
    finally:
        host.close()
    remote = tmp_path / "remote"
    for folder in (remote, remote / "jobs", remote / "jobs/1-x", remote / "jobs/1-x/output"):
        assert mode(folder) == 0o700, folder
    for f in ("train.jsonl", "spec.json", "trainer.log", "output/progress.jsonl"):
        assert mode(remote / "jobs/1-x" / f) == 0o600, f
