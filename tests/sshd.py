"""A real OpenSSH server on 127.0.0.1 for the tests of the SSH job runner.

Everything lives in one temporary folder: the host key, sshd_config, the client keys,
authorized_keys, known_hosts, an ssh_config and sshd's log. sshd runs in the foreground
(-D) with its log on stderr (-e), which goes to ``sshd.log``; it logs in as whoever runs
the tests (root in CI), and only with a key. Linux only: stop() walks /proc.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"  # sshd re-executes itself, so it must be started by absolute path
LOCKED_KEY_PASSPHRASE = "open sesame"


def sshd_missing_reason() -> str | None:
    """Why a real sshd cannot be run here, or None when it can."""
    if not os.path.exists(SSHD):
        return f"{SSHD} not found: install openssh-server to run the SSH tests"
    if not shutil.which("ssh-keygen"):
        return "ssh-keygen not found: install openssh-client to run the SSH tests"
    return None


def _keygen(path: Path, passphrase: str = "") -> None:
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".pub").unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", path.name, "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue  # gone meanwhile
            ppid = int(stat.rpartition(")")[2].split()[1])  # the name in (...) may hold spaces
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _alive(pid: int) -> bool:
    """Running or stopped; a zombie (only waiting to be reaped) counts as gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


class SshServer:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()  # kept across restarts; sshd sets SO_REUSEADDR
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.host_key = self.root / "host_key"
        self.client_key = self.root / "client_key"        # authorized, no passphrase
        self.locked_key = self.root / "locked_key"        # authorized, LOCKED_KEY_PASSPHRASE
        self.locked_key_passphrase = LOCKED_KEY_PASSPHRASE
        self.stranger_key = self.root / "stranger_key"    # not authorized
        self.authorized_keys = self.root / "authorized_keys"
        self.known_hosts = self.root / "known_hosts"
        self.ssh_config = self.root / "ssh_config"
        self.config = self.root / "sshd_config"
        self.log = self.root / "sshd.log"
        self.pids: set[int] = set()  # every process of the server seen by stop(), for tests to check
        self.process: subprocess.Popen | None = None
        _keygen(self.host_key)
        _keygen(self.client_key)
        _keygen(self.locked_key, LOCKED_KEY_PASSPHRASE)
        _keygen(self.stranger_key)
        self.authorized_keys.write_text("".join(
            Path(f"{k}.pub").read_text() for k in (self.client_key, self.locked_key)))
        self.write_known_hosts()
        q = lambda p: f'"{p}"'  # noqa: E731 -- sshd_config and ssh_config take quoted paths
        self.config.write_text(f"""\
Port {self.port}
ListenAddress 127.0.0.1
HostKey {q(self.host_key)}
PidFile {q(self.root / "sshd.pid")}
AuthorizedKeysFile {q(self.authorized_keys)}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
UseDNS no
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
LogLevel VERBOSE
""")
        self.ssh_config.write_text(f"""\
Host gpubox
    HostName 127.0.0.1
    Port {self.port}
    User {self.user}
    IdentityFile {q(self.client_key)}
    IdentitiesOnly yes
    UserKnownHostsFile {q(self.known_hosts)}
    StrictHostKeyChecking yes
""")

    @property
    def host_key_fingerprint(self) -> str:
        """'SHA256:...', as `ssh-keygen -lf` prints it."""
        out = subprocess.run(["ssh-keygen", "-lf", f"{self.host_key}.pub"], check=True,
                             capture_output=True, text=True).stdout
        return out.split()[1]

    def spec(self, folder: Path, **changes):
        """A HostSpec for this server by address, user and key (no ~/.ssh/config read), its
        files under folder/"remote" and this Python as the trainer's; `changes` override."""
        from engine.hosts.hosts import HostSpec

        fields = dict(kind="ssh", hostname="127.0.0.1", port=self.port, user=self.user,
                      key_file=str(self.client_key), known_hosts=str(self.known_hosts),
                      root=str(Path(folder) / "remote"), env_python=sys.executable,
                      ssh_config=str(Path(folder) / "no-config"))
        fields.update(changes)
        return HostSpec(**fields)

    def alias_spec(self, folder: Path):
        """A HostSpec naming the alias "gpubox" of this server's ssh_config, as a user's
        ~/.ssh/config entry would; files under folder/"remote"."""
        from engine.hosts.hosts import HostSpec

        return HostSpec(kind="ssh", alias="gpubox", ssh_config=str(self.ssh_config),
                        known_hosts=str(self.known_hosts), root=str(Path(folder) / "remote"))

    def write_known_hosts(self) -> None:
        """known_hosts that trusts the current host key, under [127.0.0.1]:PORT."""
        kind, blob = Path(f"{self.host_key}.pub").read_text().split()[:2]
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {kind} {blob}\n")

    def start(self, timeout: float = 10.0) -> None:
        """Start sshd (on the same port, with the same keys) and wait until it sends its banner."""
        if self.process and self.process.poll() is None:
            return
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation chroot
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.config)],
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                self._fail(f"sshd exited with status {self.process.returncode}", offset)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                self._fail(f"sshd did not answer on 127.0.0.1:{self.port} within {timeout}s", offset)
            time.sleep(0.05)

    def _fail(self, why: str, offset: int) -> None:
        with open(self.log, "rb") as f:
            f.seek(offset)
            stderr = f.read().decode(errors="replace").strip()
        raise RuntimeError(f"{why}; its stderr:\n{stderr or '(empty)'}")

    def stop(self) -> None:
        """Kill sshd and every process it started, so open connections drop at once.

        Each connection's sshd calls setsid(), so a process group kill would miss it:
        walk the tree instead, stopping (SIGSTOP) each process as found so none can fork
        behind our back, then SIGKILL them all.
        """
        if not self.process:
            return
        found: set[int] = set()
        new = [self.process.pid]
        while new:  # until a fresh look at /proc finds no child not yet stopped
            for pid in new:
                found.add(pid)
                try:
                    os.kill(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    pass
            tree = _children()
            new = [c for p in found for c in tree.get(p, ()) if c not in found]
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        self.process = None
        self.pids |= found
        deadline = time.monotonic() + 5  # SIGKILL is not instant on a loaded machine
        while time.monotonic() < deadline and any(_alive(pid) for pid in found):
            time.sleep(0.05)

    def change_host_key(self, update_known_hosts: bool = False) -> None:
        """A new host key, and sshd restarted with it. known_hosts keeps the old key unless asked."""
        running = self.process is not None
        self.stop()
        _keygen(self.host_key)
        if update_known_hosts:
            self.write_known_hosts()
        if running:
            self.start()
