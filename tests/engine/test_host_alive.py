"""Whether a trainer still runs, asked by a host object that did not start it (the app
restarted): its command line holds the trainer's mark; while it is between execs the line is
empty, and then only a running session leader counts (a zombie or a kernel thread does not)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.hosts.hosts import TRAINER_MARK, HostSpec, LocalHost, _session_leader_running

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux /proc")


def _wait(pred, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_a_new_host_object_follows_a_trainer_it_did_not_start(tmp_path: Path, monkeypatch) -> None:
    first = LocalHost(HostSpec(), tmp_path)
    pid = first.start([sys.executable, "-c", "import time; time.sleep(30)", TRAINER_MARK], str(tmp_path), "log.txt")
    other = first.start(["sleep", "30"], str(tmp_path), "log2.txt")   # a reused pid: not ours
    again = LocalHost(HostSpec(), tmp_path)
    try:
        assert again.alive(pid) and _session_leader_running(pid)
        assert _wait(lambda: Path(f"/proc/{other}/cmdline").read_bytes())   # past its exec
        assert not again.alive(other)
        # the moment between two execs (measured: up to ~1 ms after Popen returns, under load),
        # when /proc shows an empty command line: the trainer is not taken for dead (it was: the
        # job then failed as "ended without finishing")
        read = Path.read_bytes
        monkeypatch.setattr(Path, "read_bytes", lambda self: b"" if self.name == "cmdline" else read(self))
        child = subprocess.Popen(["sleep", "30"])   # not a session leader: not a trainer `start` began
        assert again.alive(pid) and not again.alive(child.pid)
        child.kill()
        child.wait()
        monkeypatch.undo()
    finally:
        for p in (pid, other):
            os.kill(p, signal.SIGKILL)
    # dead but not yet reaped (a zombie, empty command line): not alive
    assert _wait(lambda: Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z")
    assert Path(f"/proc/{pid}/cmdline").read_bytes() == b""
    assert not again.alive(pid) and not _session_leader_running(pid)
    assert not first.alive(pid) and not first.alive(other)   # reaped by the one that started them


def test_only_a_running_session_leader_counts_when_the_command_line_is_empty() -> None:
    child = subprocess.Popen(["sleep", "30"])                           # shares this test's session
    leader = subprocess.Popen(["sleep", "30"], start_new_session=True)  # as `start` begins a trainer
    try:
        assert _session_leader_running(leader.pid) and not _session_leader_running(child.pid)
        assert not _session_leader_running(2 ** 22 + 1)                 # no such process
    finally:
        for p in (child, leader):
            p.kill()
            p.wait()
