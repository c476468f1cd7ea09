"""What an SSH host sends back is read in bounded amounts: a command that prints without end
and a log that grows to gigabytes give at most MAX_RUN_OUTPUT / MAX_READ bytes, quickly, with the
cut said in words. Against the real sshd on loopback (skipped where none can run)."""

from __future__ import annotations

import time

import pytest

from engine.hosts import ssh as ssh_host
from engine.hosts.connect import connect


@pytest.fixture
def host(sshd, tmp_path, monkeypatch):
    monkeypatch.setattr(ssh_host, "MAX_RUN_OUTPUT", 256 * 1024)
    monkeypatch.setattr(ssh_host, "MAX_READ", 512 * 1024)
    spec = sshd.spec(tmp_path)
    h = connect(spec, tmp_path)
    yield h
    h.close()


def test_endless_output_is_cut_in_words(host) -> None:
    started = time.monotonic()
    done = host.run("yes bunko", timeout=30)
    assert len(done.out) == 256 * 1024 and done.code != 0 and "stopped it there" in done.err
    assert time.monotonic() - started < 20
    assert host.run("echo still here").out.strip() == "still here"   # the connection goes on


def test_a_huge_log_is_read_in_bounded_pieces(host, tmp_path) -> None:
    big = tmp_path / "huge.log"
    with open(big, "wb") as f:
        f.truncate(64 * 1024 * 1024)      # 64 MiB (sparse)
    assert len(host.read_from(str(big), 0)) == 512 * 1024
    assert len(host.read_from(str(big), 0, 10)) == 10
