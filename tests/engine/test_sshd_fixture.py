"""The `sshd` fixture is a real OpenSSH server that paramiko can talk to."""

from __future__ import annotations

import os
from pathlib import Path

import paramiko
import pytest


def connect(sshd, key_file=None, known_hosts=None, passphrase=None) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts or sshd.known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect("127.0.0.1", port=sshd.port, username=sshd.user, key_filename=str(key_file or sshd.client_key),
                   passphrase=passphrase, allow_agent=False, look_for_keys=False, timeout=10)
    return client


def run(client, command) -> tuple[int, str]:
    _, stdout, _ = client.exec_command(command, timeout=10)
    return stdout.channel.recv_exit_status(), stdout.read().decode()


def test_exec_with_client_key_and_known_hosts(sshd):
    with connect(sshd) as client:
        assert run(client, "echo hi") == (0, "hi\n")
        assert client.get_transport().get_remote_server_key().fingerprint == sshd.host_key_fingerprint


def test_locked_key_with_its_passphrase(sshd):
    with connect(sshd, sshd.locked_key, passphrase=sshd.locked_key_passphrase) as client:
        assert run(client, "whoami") == (0, f"{sshd.user}\n")


def test_sftp_put_and_get(sshd, tmp_path):
    local, remote, back = tmp_path / "a.bin", tmp_path / "remote.bin", tmp_path / "back.bin"
    local.write_bytes(os.urandom(100_000))
    with connect(sshd) as client, client.open_sftp() as sftp:
        sftp.put(str(local), str(remote))
        sftp.get(str(remote), str(back))
    assert back.read_bytes() == local.read_bytes()


def test_stranger_key_is_refused(sshd):
    with pytest.raises(paramiko.AuthenticationException):
        connect(sshd, sshd.stranger_key)


def test_ssh_config_alias(sshd):
    config = paramiko.SSHConfig.from_path(str(sshd.ssh_config)).lookup("gpubox")
    assert (config["hostname"], config["port"], config["user"]) == ("127.0.0.1", str(sshd.port), sshd.user)
    assert config["identityfile"] == [str(sshd.client_key)]


def test_changed_host_key_is_rejected(sshd, tmp_path):
    old = sshd.host_key_fingerprint
    sshd.change_host_key()
    assert sshd.host_key_fingerprint != old
    with pytest.raises(paramiko.BadHostKeyException):
        connect(sshd)
    sshd.write_known_hosts()
    with connect(sshd) as client:
        assert run(client, "echo again")[1] == "again\n"


def test_stop_drops_open_connections_and_start_serves_again(sshd):
    client = connect(sshd)
    assert run(client, "echo before")[1] == "before\n"
    sshd.stop()
    assert len(sshd.pids) >= 3  # the listener, and the open connection's [priv] and user processes
    for pid in sshd.pids:  # every one gone (or a zombie waiting to be reaped)
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] == "Z"
    with pytest.raises((paramiko.SSHException, EOFError, OSError)):
        run(client, "echo after")
    client.close()
    sshd.start()
    with connect(sshd) as client:
        assert run(client, "echo restarted")[1] == "restarted\n"
