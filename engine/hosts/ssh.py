"""A training host over SSH (paramiko).

Host keys: checked against ~/.ssh/known_hosts and Bunko's own known_hosts. An
unknown host raises HostKeyUnknownError with its fingerprint; only when the user
has compared and accepted that exact fingerprint is the key added (to Bunko's
file). A changed key is refused and never overwritten. Authentication: the key
from the spec or ~/.ssh/config, the SSH agent, the user's default keys, or a
password; a passphrase or password lives in memory only.

The trainer is started with setsid + nohup, so it has its own process group and
outlives the connection; cancel signals that whole group.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import posixpath
import shlex
import stat
import time
from functools import wraps
from pathlib import Path

import paramiko

from ..errors import (AuthError, ConnectionLostError, HostError, HostKeyChangedError, HostKeyUnknownError,
                      PassphraseNeededError)
from . import adapter_files
from .hosts import TRAINER_MARK, HostSpec, RunResult, Secrets, quote

log = logging.getLogger(__name__)

MAX_RUN_OUTPUT = 4 * 1024 * 1024   # bytes of one command's output (nvidia-smi, uname, pip: a few KB)
MAX_READ = 16 * 1024 * 1024        # bytes of one read_from (logs are followed in pieces)
DEFAULT_ROOT = ".bunko"   # relative paths are under the login's home, for SFTP and the shell alike


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's form: SHA256:<base64 without padding>."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


class _AskUser(paramiko.MissingHostKeyPolicy):
    def __init__(self, accept: str | None, save_to: Path | None) -> None:
        self.accept, self.save_to = accept, save_to

    def missing_host_key(self, client, hostname, key):
        found = fingerprint(key)
        if not self.accept or self.accept != found:
            raise HostKeyUnknownError(hostname, found, key.get_name())
        client.get_host_keys().add(hostname, key.get_name(), key)
        if self.save_to is not None:
            self.save_to.parent.mkdir(parents=True, exist_ok=True)
            with self.save_to.open("a", encoding="ascii") as f:
                f.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
        log.info("accepted host key %s for %s", found, hostname)


def resolve(spec: HostSpec) -> dict:
    """hostname, port, user and key files from the spec, filled in from ssh_config."""
    config_path = Path(spec.ssh_config).expanduser() if spec.ssh_config else Path.home() / ".ssh" / "config"
    entry: dict = {}
    if config_path.is_file():
        try:
            entry = paramiko.SSHConfig.from_path(str(config_path)).lookup(spec.alias or spec.hostname or "")
        except Exception as exc:  # a config paramiko cannot read should not stop a host given in full
            log.warning("cannot read %s: %s", config_path, exc)
    hostname = spec.hostname or entry.get("hostname") or spec.alias
    if not hostname:
        raise HostError("Give a host name or an alias from ~/.ssh/config.")
    keys = [spec.key_file] if spec.key_file else list(entry.get("identityfile") or [])
    return {"hostname": hostname, "port": int(spec.port or entry.get("port") or 22),
            "user": spec.user or entry.get("user"),
            "keys": [str(Path(k).expanduser()) for k in keys if Path(k).expanduser().is_file()]}


def _guard(method):
    """A dropped transport becomes ConnectionLostError: the job is kept and reattached later."""
    @wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            if isinstance(exc, (FileNotFoundError, PermissionError)):
                raise
            raise ConnectionLostError(f"The connection to {self.spec.label} was lost ({exc or type(exc).__name__}). "
                                      "A running trainer goes on there; Bunko reconnects to follow it.") from exc
    return wrapper


class SSHHost:
    is_local = False  # files come and go over SFTP

    def __init__(self, spec: HostSpec, client: paramiko.SSHClient) -> None:
        self.spec, self.client = spec, client
        self.root = spec.root or DEFAULT_ROOT
        self._sftp: paramiko.SFTPClient | None = None

    @classmethod
    def connect(cls, spec: HostSpec, secrets: Secrets, timeout: float = 15.0,
                known_hosts: Path | None = None) -> SSHHost:
        where = resolve(spec)
        own = Path(spec.known_hosts).expanduser() if spec.known_hosts else known_hosts
        client = paramiko.SSHClient()
        client.load_system_host_keys()
        if own is not None and own.is_file():
            client.load_host_keys(str(own))
        client.set_missing_host_key_policy(_AskUser(secrets.accept_fingerprint, own))
        target = f"{where['hostname']}:{where['port']}"
        try:
            client.connect(where["hostname"], port=where["port"], username=where["user"],
                           key_filename=where["keys"] or None, passphrase=secrets.passphrase,
                           password=secrets.password, timeout=timeout, banner_timeout=timeout,
                           auth_timeout=timeout, allow_agent=True, look_for_keys=not where["keys"])
        except HostKeyUnknownError:
            client.close()
            raise
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyChangedError(
                f"The host key of {target} has CHANGED (now {fingerprint(exc.key)}, known_hosts has "
                f"{fingerprint(exc.expected_key)}). Bunko refuses to connect: someone may be intercepting the "
                "connection. If the server was reinstalled, remove its old line from known_hosts yourself.") from exc
        except paramiko.PasswordRequiredException as exc:
            client.close()
            raise PassphraseNeededError(f"The key for {target} is protected by a passphrase; enter it.") from exc
        except paramiko.AuthenticationException as exc:
            client.close()
            what = ", ".join(where["keys"]) or "the SSH agent and your default keys"
            raise AuthError(f"{target} refused the login as {where['user'] or 'the current user'} with {what}"
                            f" ({exc}). Check the user name and that the public key is in the server's "
                            "~/.ssh/authorized_keys.") from exc
        except TimeoutError as exc:
            client.close()
            raise HostError(f"{target} did not answer within {timeout:.0f} s.") from exc
        except (OSError, paramiko.SSHException) as exc:
            client.close()
            raise HostError(f"Cannot connect to {target}: {exc}") from exc
        transport = client.get_transport()
        if transport is not None:
            transport.set_keepalive(15)  # notice a dead link during long training
        log.info("connected to %s as %s", target, where["user"])
        host = cls(spec, client)
        if not host.root.startswith("/"):  # the trainer runs in its job folder: paths must be absolute
            host.root = posixpath.join(host.sftp.normalize("."), host.root)
        return host

    def close(self) -> None:
        try:
            if self._sftp is not None:
                self._sftp.close()
        except Exception:
            pass
        self.client.close()

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self._sftp = self.client.open_sftp()
        return self._sftp

    def join(self, *parts: str) -> str:
        return posixpath.join(*parts)

    @_guard
    def run(self, argv: list[str] | str, timeout: float | None = 60) -> RunResult:
        """A shell command there, under umask 077: what it makes (job folders, the trainer's
        output, the environment) is the login's only, on a server others may share."""
        command = argv if isinstance(argv, str) else " ".join(_arg(a) for a in argv)
        _, stdout, stderr = self.client.exec_command(f"umask 077; {command}", timeout=timeout)
        # the server is another party: what it prints is read up to MAX_RUN_OUTPUT, never whole
        out = stdout.read(MAX_RUN_OUTPUT + 1)
        if len(out) > MAX_RUN_OUTPUT:
            stdout.channel.close()
            log.warning("%s printed more than %d bytes for one command; the rest was not read",
                        self.spec.label, MAX_RUN_OUTPUT)
            return RunResult(255, out[:MAX_RUN_OUTPUT].decode("utf-8", "replace"),
                             f"the command printed more than {MAX_RUN_OUTPUT // 2**20} MiB; Bunko stopped it there")
        err = stderr.read(MAX_RUN_OUTPUT).decode("utf-8", "replace")
        return RunResult(stdout.channel.recv_exit_status(), out.decode("utf-8", "replace"), err)

    def mkdir(self, path: str) -> None:
        done = self.run(f"mkdir -p {quote(path)} && chmod go-rwx {quote(path)}")   # also one made before
        if done.code:
            raise HostError(f"Cannot make {path} on {self.spec.label}: {done.err.strip()}")

    @_guard
    def size(self, path: str) -> int | None:
        try:
            st = self.sftp.stat(path)
        except FileNotFoundError:
            return None
        return st.st_size if stat.S_ISREG(st.st_mode or 0) else None

    def exists(self, path: str) -> bool:
        return self.run(f"test -e {quote(path)}").code == 0

    @_guard
    def put(self, local: Path, remote: str, progress=None) -> None:
        """Upload to remote.part, then rename: a dropped upload never leaves a half file in place."""
        part = remote + ".part"
        with self.sftp.open(part, "wb") as f:   # closed to others before a byte is written
            f.chmod(0o600)
            f.set_pipelined(True)
            size, done = Path(local).stat().st_size, 0
            with open(local, "rb") as src:
                while block := src.read(32768):
                    f.write(block)
                    done += len(block)
                    if progress:
                        progress(done, size)
        self.sftp.posix_rename(part, remote)

    @_guard
    def write_text(self, remote: str, text: str) -> None:
        part = remote + ".part"
        with self.sftp.open(part, "w") as f:
            f.chmod(0o600)
            f.write(text.encode("utf-8"))
        self.sftp.posix_rename(part, remote)

    @_guard
    def get_adapter(self, job_dir: str, local: Path) -> Path:
        """The job's trained adapter, fetched into `local`: fixed names only, checked (adapter_files)."""
        return adapter_files.fetch_remote(self.sftp, job_dir, local, self.spec.label)

    @_guard
    def read_from(self, path: str, offset: int, limit: int = -1) -> bytes:
        """Bytes from `offset` on (at most `limit`, and never more than MAX_READ): a host's files
        are read in bounded pieces."""
        limit = MAX_READ if limit is None or limit < 0 else min(limit, MAX_READ)
        try:
            with self.sftp.open(path, "rb") as f:
                f.seek(offset)
                return f.read(limit)
        except FileNotFoundError:
            return b""

    def remove_tree(self, path: str) -> None:
        self.run(f"rm -rf {quote(path)}")

    def start(self, argv: list[str], cwd: str, log_name: str) -> int:
        """Detached: its own session (setsid), immune to hangup (nohup); the pid is its group id."""
        command = " ".join(_arg(a) for a in argv)
        done = self.run(f"cd {quote(cwd)} && (setsid nohup {command} >> {shlex.quote(log_name)} 2>&1 "
                        "< /dev/null & echo $!)")
        try:
            return int(done.out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise HostError(f"The trainer did not start on {self.spec.label}: {done.err.strip()}") from None

    def alive(self, pid: int) -> bool:
        # an empty cmdline is a trainer between execs (alive: not a zombie, and still leading the
        # session it began), a zombie, or a kernel thread (session 0) that took a reused pid
        p, n = f"/proc/{int(pid)}", int(pid)
        return self.run(f"grep -q {TRAINER_MARK} {p}/cmdline 2>/dev/null || "
                        f"{{ [ \"$(head -c 1 {p}/cmdline 2>/dev/null | wc -c)\" -eq 0 ] && sed 's/.*) //' {p}/stat "
                        f"2>/dev/null | awk '$1 !~ /^[ZX]/ && $4 == {n} {{ok = 1}} END {{exit !ok}}'; }}").code == 0

    def stop(self, pid: int, grace: float = 20.0) -> None:
        self.run(f"kill -TERM -- -{int(pid)} 2>/dev/null")
        end = time.monotonic() + grace
        while time.monotonic() < end and self.alive(pid):
            time.sleep(0.5)
        # whatever is left of the group, the trainer's children included
        self.run(f"kill -KILL -- -{int(pid)} 2>/dev/null; true")


def _arg(a: str) -> str:
    return quote(a) if a.startswith("~/") else shlex.quote(a)
