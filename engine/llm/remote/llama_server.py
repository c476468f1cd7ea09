"""llama-server on the user's GPU server: put the model there, start it, reach it, stop it.

The server process runs detached (setsid nohup), bound to the server's 127.0.0.1 only, with
a random API key in a file only the user can read; Bunko reaches it through an SSH
port-forward. What runs is written to <root>/llama-server/run/<model>.json on the host, and
the key is kept in this computer's keyring, so a later session (or a reconnect after a
dropped link) finds the same server instead of starting another. GGUF files are uploaded
once per sha256 into <root>/llama-server/models/.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
import secrets as random_secrets
import threading
import time
from pathlib import Path
from collections.abc import Callable, Sequence
from typing import Any

from ...cancel import CancelToken
from ...errors import BunkoError, EndpointError, HostError
from ...hosts.connect import connect
from ...hosts.hosts import HostSpec, Secrets, quote
from ...types import Progress
from ...models.gguf_file import read_gguf_info
from . import keys, server_gpu, watchdog
from .openai_http import Interrupted, OpenAIClient, wait_ready
from .tunnel import Tunnel

log = logging.getLogger(__name__)

START_TIMEOUT = 300.0     # loading a 14B model from a cold disk takes a while
DEFAULT_IDLE_MINUTES = 30


# Whose is the socket listening on 127.0.0.1:PORT there: "ours" (a socket of PID), "other" (another
# process, maybe another user's after ours crashed), "none", or anything else when /proc cannot tell.
_OWNER = ("p=$(printf ':%04X' {port}); ino=$(awk -v p=\"$p\" '$4 == \"0A\" && substr($2, length($2) - 4) == p "
          "{{print $10; exit}}' /proc/net/tcp /proc/net/tcp6 2>/dev/null); "
          "if [ -z \"$ino\" ]; then echo none; "
          "elif ls -l /proc/{pid}/fd 2>/dev/null | grep -q \"socket:\\[$ino\\]\"; then echo ours; "
          "else echo other; fi")


def listener_owner(host, port: int, pid: int) -> str:
    """Before the key and a question go to PORT on the host: is it still our llama-server that
    listens there? Another login could bind the port once ours stopped (a crash, the watchdog)."""
    done = host.run(_OWNER.format(port=int(port), pid=int(pid)))
    said = done.out.strip()
    return said if said in ("ours", "other", "none") else "unknown"


def safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


class RemoteServer:
    """One registered `ssh` model: its llama-server on the host and the tunnel to it."""

    def __init__(self, info, root: Path, secrets: Secrets | None = None,
                 idle_check_s: float = 30.0) -> None:
        self.info = info
        self.remote = dict(info.remote or {})
        self.spec = HostSpec.from_json(self.remote["host"]) if isinstance(self.remote.get("host"), str) \
            else HostSpec(**self.remote["host"])
        self.root = Path(root)
        self.secrets = secrets
        self.n_ctx = int(self.remote.get("n_ctx") or 4096)
        self.idle_s = float(self.remote.get("idle_minutes", DEFAULT_IDLE_MINUTES)) * 60
        self._idle_check_s = idle_check_s
        self._host: Any = None   # the SSH host, once connected
        self._tunnel: Tunnel | None = None
        self._key: str | None = None
        self._pid: int | None = None
        self._port: int | None = None
        self.offload = "?"
        self.adapters: list[str] = []   # fingerprints of the LoRA adapters llama-server loaded, in id order
        self.no_repack = False          # safe settings: the defaults crashed llama-server on this host
        self._lock = threading.RLock()
        self._last_used = time.monotonic()
        self._busy = 0
        self._stop_watch = threading.Event()
        self._watcher: threading.Thread | None = None

    # -- paths on the host ----------------------------------------------------
    def _dir(self, *parts: str) -> str:
        return posixpath.join(self._host.root, "llama-server", *parts)

    @property
    def _state_path(self) -> str:
        return self._dir("run", safe(self.info.name) + ".json")

    # -- the SSH link and the tunnel -----------------------------------------
    def _ssh(self):
        if self._host is None or not self._host.client.get_transport() or \
                not self._host.client.get_transport().is_active():
            if self._host is not None:
                self._host.close()
            self._host = connect(self.spec, self.root, self.secrets)
        return self._host

    def client(self) -> OpenAIClient:
        """A client for the running server, reconnecting a dropped link; starts it if needed."""
        with self._lock:
            if self._pid is not None and self.idle_s > 0 and time.monotonic() - self._last_used >= 0.9 * self.idle_s \
                    and not self._running(self._ssh(), self._pid):
                log.info("llama-server for %s stopped while idle; starting it again", self.info.name)
                self._pid = None   # the watchdog there stopped it (or it crashed)
            if self._pid is not None:
                assert self._port is not None   # set with the pid
                owner = listener_owner(self._ssh(), self._port, self._pid)
                if owner == "other" or (owner == "none" and not self._running(self._ssh(), self._pid)):
                    log.warning("llama-server for %s no longer listens on its port (%s); starting it again",
                                self.info.name, owner)
                    self._pid = None   # never send the key and the question to whoever holds the port now
                    if self._tunnel is not None:
                        self._tunnel.close()
                        self._tunnel = None
            if self._pid is None:
                self.start()
            if self._tunnel is None or not self._tunnel.alive:
                if self._tunnel is not None:
                    log.info("the link to %s dropped; reconnecting", self.spec.label)
                    self._tunnel.close()
                host = self._ssh()
                assert self._port is not None   # the server is running
                self._tunnel = Tunnel(host.client.get_transport(), self._port)
            return OpenAIClient(f"http://127.0.0.1:{self._tunnel.port}", self._key)

    # -- start and stop ---------------------------------------------------------
    def start(self, progress: Callable[[Progress], None] | None = None,
              cancel: CancelToken | None = None) -> None:
        """Reuse the server this model already has on the host, or start one."""
        with self._lock:
            say = (lambda text: progress(Progress(message=text))) if progress else (lambda text: None)
            host = self._ssh()
            run = quote(self._dir("run"))
            host.run(f"mkdir -p {run} && chmod 700 {run}")  # the key file is written here
            if self._reuse(host):
                say(f"llama-server already runs on {self.spec.label}")
                self._open_tunnel(host, say, cancel)
            else:
                self._start_checked(host, say, cancel)
            self._last_used = time.monotonic()
            self._watch_idle()

    def _open_tunnel(self, host, say, cancel) -> OpenAIClient:
        """The tunnel to our llama-server, once it listens (and nothing else holds its port)."""
        self._await_own_listener(host, cancel)
        assert self._port is not None   # the server is running
        self._tunnel = Tunnel(host.client.get_transport(), self._port)
        client = OpenAIClient(f"http://127.0.0.1:{self._tunnel.port}", self._key)
        say("waiting for the model to load…")
        wait_ready(client, START_TIMEOUT, alive=self._alive_check(host), cancel=cancel)
        return client

    @property
    def _safe_marker(self) -> str:
        return self._dir("run", safe(self.info.name) + ".no-repack")

    def _start_checked(self, host, say, cancel, adapters: Sequence[tuple[str, str]] = ()) -> None:
        """Start llama-server and have it write a first token before it is trusted. If it dies
        doing so (llama.cpp's fast CPU kernels crash on some CPUs, AMX among them), start it once
        more with safe settings (--no-repack), and remember that for this model on this host."""
        self.no_repack = host.run(f"test -f {quote(self._safe_marker)}").code == 0
        while True:
            self._start_new(host, say, cancel, adapters)
            try:
                client = self._open_tunnel(host, say, cancel)
                for _piece in client.stream_chat(self.info.name, [{"role": "user", "content": "Hi"}],
                                                 {"max_tokens": 2, "temperature": 0}, cancel):
                    pass
                return
            except (BunkoError, Interrupted, OSError) as exc:
                if self.no_repack or self._running(host, self._pid):
                    raise
                log.warning("llama-server on %s died on its first use (%s); trying safe settings",
                            self.spec.label, str(exc)[:200])
                say(f"llama-server stopped on {self.spec.label} on its first use; starting it again "
                    "with safe settings (--no-repack)")
                self.no_repack = True
                host.write_text(self._safe_marker, "llama-server crashed with its default settings here\n")
                if self._tunnel is not None:
                    self._tunnel.close()
                    self._tunnel = None

    def _read_state(self, host) -> dict | None:
        raw = host.read_from(self._state_path, 0)
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def _reuse(self, host) -> bool:
        state = self._read_state(host)
        if state is None:
            return False
        if not self._running(host, int(state["pid"])):
            return False
        key = keys.get_key(self.info)
        if key is None:   # started by another Bunko (profile or database): the key file there is this user's
            raw = host.read_from(self._dir("run", safe(self.info.name) + ".key"), 0)[:256]
            key = raw.decode("ascii", "replace").strip() or None
            if key is None:
                return False
            keys.set_key(self.info, key)
        if listener_owner(host, int(state["port"]), int(state["pid"])) == "other":
            log.warning("port %s on %s is held by another process; starting a new llama-server", state["port"],
                        self.spec.label)
            return False
        self._pid, self._port, self._key = int(state["pid"]), int(state["port"]), key
        self.offload = state.get("offload", "?")
        self.adapters = [a["fingerprint"] for a in state.get("adapters", [])]
        # a new session counts as use: the watchdog there measures idleness by the log's time
        host.run(f"touch {quote(self._dir('run', safe(self.info.name) + '.log'))}")
        return True

    def _start_new(self, host, say, cancel, adapters: Sequence[tuple[str, str]] = ()) -> None:
        """Start llama-server; `adapters` (fingerprint, path there) are loaded unapplied: each
        request names its adapter and scale (the others at 0), so one server serves them all."""
        binary = self._binary(host, say, cancel)
        layers, self.offload = self._plan(host, self._header(host))
        model_path = self._upload(host, say, cancel)
        key = random_secrets.token_urlsafe(32)
        key_file = self._dir("run", safe(self.info.name) + ".key")
        host.write_text(key_file, key + "\n")  # in the run folder, which only the user can enter
        host.run(f"chmod 600 {quote(key_file)}")
        keys.set_key(self.info, key)
        for _attempt in range(3):
            port = self._free_port(host)
            argv = [binary, "-m", model_path, "--host", "127.0.0.1", "--port", str(port),
                    "--api-key-file", key_file, "-c", str(self.n_ctx), "-ngl", str(layers), "-np", "1",
                    "--alias", self.info.name]
            if self.remote.get("threads"):
                argv += ["-t", str(int(self.remote["threads"]))]
            for _fp, path in adapters:
                argv += ["--lora", path]
            if adapters:
                argv.append("--lora-init-without-apply")
            if self.no_repack:
                argv.append("--no-repack")
            log_name = safe(self.info.name) + ".log"
            host.run(f": > {quote(self._dir('run', log_name))}")
            say(f"starting llama-server on {self.spec.label} ({self.offload})")
            pid = host.start(argv, self._dir("run"), log_name)
            time.sleep(0.5)
            if self._running(host, pid) or not self._port_taken(host, log_name):
                break
            log.info("port %d was taken on %s; trying another", port, self.spec.label)
        else:
            raise EndpointError(f"llama-server found no free port on {self.spec.label}.")
        self._pid, self._port, self._key = pid, port, key
        self.adapters = [fp for fp, _path in adapters]
        # stops llama-server after the idle time even when Bunko is closed (or the PC is off)
        watchdog.start(host, self._dir("run"), pid, self._dir("run", log_name), self._state_path, self.idle_s)
        host.write_text(self._state_path, json.dumps({
            "pid": pid, "port": port, "offload": self.offload, "model": model_path,
            "adapters": [{"fingerprint": fp, "path": path} for fp, path in adapters]}))

    def _await_own_listener(self, host, cancel) -> None:
        """Until our llama-server listens on its port; refuse when another process holds it."""
        alive, end = self._alive_check(host), time.monotonic() + START_TIMEOUT
        assert self._port is not None and self._pid is not None   # just started
        while time.monotonic() < end:
            if cancel is not None:
                cancel.raise_if_cancelled()
            owner = listener_owner(host, self._port, self._pid)
            if owner in ("ours", "unknown"):
                return
            if owner == "other":
                raise EndpointError(f"Another program on {self.spec.label} listens on port {self._port}, where "
                                    "llama-server should; nothing was sent to it. Start the model again: Bunko "
                                    "picks another port.")
            alive()
            time.sleep(0.5)
        raise EndpointError(f"llama-server did not open its port on {self.spec.label} within {START_TIMEOUT:.0f} s.")

    def _alive_check(self, host):
        last = [0.0, True]

        def alive() -> bool:  # asked every 0.3 s while waiting; the host is asked every 2 s
            if time.monotonic() - last[0] > 2.0:
                last[0], last[1] = time.monotonic(), self._running(host, self._pid)
                if not last[1]:
                    tail = host.read_from(self._dir("run", safe(self.info.name) + ".log"), 0)
                    lines = tail.decode("utf-8", "replace").strip().splitlines()[-5:]
                    raise EndpointError(f"llama-server stopped on {self.spec.label} while loading the model. "
                                        f"Its log ends with:\n" + "\n".join(lines))
            return last[1]
        return alive

    def _running(self, host, pid: int | None) -> bool:
        if not pid:
            return False
        return host.run(f"grep -q llama-server /proc/{int(pid)}/cmdline 2>/dev/null").code == 0

    def _port_taken(self, host, log_name: str) -> bool:
        text = host.read_from(self._dir("run", log_name), 0).decode("utf-8", "replace").lower()
        return "bind" in text or "address already in use" in text

    def _free_port(self, host) -> int:
        done = host.run("python3 -c 'import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); "
                        "print(s.getsockname()[1])'")
        try:
            return int(done.out.strip())
        except ValueError:
            return 20000 + random_secrets.randbelow(40000)

    def _binary(self, host, say, cancel) -> str:
        """The binary the user named, else Bunko's own there (built once when missing)."""
        given = self.remote.get("server_binary")
        path = given or self._dir("bin", "llama-server")
        if host.run(f"test -x {quote(path)}").code == 0:
            return path
        if given:
            raise EndpointError(f"{given} is not an executable file on {self.spec.label}. Name the "
                                "llama-server binary there, or leave it out and Bunko builds one.")
        from .build_server import build
        return build(host, self._dir(), say, cancel)

    def _plan(self, host, gguf_info) -> tuple[int, str]:
        return server_gpu.plan_layers(server_gpu.probe_gpu(host), gguf_info, self.n_ctx, self.info.name, self.spec.label)

    def _header(self, host):
        if self.remote.get("server_file"):   # downloaded there: its header is read from there
            from .server_side import read_header
            return read_header(host, self.remote["server_file"], int(self.info.size))
        return read_gguf_info(self.info.path)

    def _upload(self, host, say, cancel) -> str:
        if self.remote.get("server_file"):   # downloaded there; again (resumed, checked) if it went
            path = self.remote["server_file"]
            if host.size(path) != int(self.info.size):
                from .server_side import fetch_there
                say(f"the model file is missing on {self.spec.label}; downloading it there again")
                fetch_there(host, self.remote["url"], int(self.info.size), self.remote.get("sha256"),
                            self.spec.label, lambda p: say(p.message), cancel)
            return path
        sha = self.remote.get("sha256") or "unknown"
        remote = self._dir("models", f"{sha}.gguf")
        local = Path(self.info.path)
        size = local.stat().st_size
        if host.size(remote) == size:
            return remote
        host.mkdir(self._dir("models"))
        say(f"uploading {local.name} to {self.spec.label} (once)")

        def moved(done: int, total: int) -> None:
            if cancel is not None:
                cancel.raise_if_cancelled()
            if say:
                say(f"uploaded {done // 1_000_000} of {total // 1_000_000} MB")
        host.put(local, remote, moved)
        return remote

    # -- LoRA adapters (attached on the server) -------------------------------
    def lora(self, fingerprint: str | None, scale: float = 1.0) -> list[dict]:
        """The per-request `lora` field: every loaded adapter at scale 0 but the chosen one.
        Always the full list: llama-server otherwise keeps its own global scales."""
        return [{"id": i, "scale": float(scale) if fp == fingerprint else 0.0}
                for i, fp in enumerate(self.adapters)]

    def load_adapter(self, adapter, progress: Callable[[Progress], None] | None = None,
                     cancel: CancelToken | None = None) -> None:
        """Make llama-server hold `adapter` (a registry ModelInfo whose base is this model's GGUF,
        checked by the caller): uploaded once per fingerprint next to the model, then llama-server
        restarts with it (llama.cpp loads adapters only at start)."""
        with self._lock:
            if self._pid is None:
                self.start(progress, cancel)
            if adapter.fingerprint in self.adapters:
                return
            say = (lambda text: progress(Progress(message=text))) if progress else (lambda text: None)
            host = self._ssh()
            state = self._read_state(host) or {}
            loaded = [(a["fingerprint"], a["path"]) for a in state.get("adapters", [])]
            loaded.append((adapter.fingerprint, self._upload_adapter(host, adapter, say, cancel)))
            say(f"restarting llama-server on {self.spec.label} with the adapter {adapter.name}")
            if self._pid is not None:
                self._kill(host, self._pid)
            self._pid = None
            if self._tunnel is not None:
                self._tunnel.close()
                self._tunnel = None
            self._start_checked(host, say, cancel, loaded)
            self._last_used = time.monotonic()

    def _upload_adapter(self, host, adapter, say, cancel) -> str:
        name = adapter.fingerprint.replace(":", "-") + ".gguf"   # size-sha256 of its ends: once per file
        remote = self._dir("adapters", safe(name))
        local = Path(adapter.path)
        if host.size(remote) == local.stat().st_size:
            return remote
        host.mkdir(self._dir("adapters"))
        say(f"uploading the adapter {adapter.name} to {self.spec.label} (once)")

        def moved(done: int, total: int) -> None:
            if cancel is not None:
                cancel.raise_if_cancelled()
        host.put(local, remote, moved)
        return remote

    def _kill(self, host, pid: int) -> None:
        host.run(f"kill -TERM -- -{int(pid)} 2>/dev/null; kill -TERM {int(pid)} 2>/dev/null; true")
        end = time.monotonic() + 10
        while time.monotonic() < end and self._running(host, pid):
            time.sleep(0.3)
        host.run(f"kill -KILL -- -{int(pid)} 2>/dev/null; true")

    def stop(self) -> None:
        """Stop llama-server on the host (frees the GPU) and close the link."""
        with self._lock:
            self._stop_watch.set()
            try:
                if self._pid is None:  # started by another session (the CLI, an earlier app run)
                    state = self._read_state(self._ssh())
                    if state is not None and self._running(self._host, int(state["pid"])):
                        self._pid = int(state["pid"])
                if self._pid is not None:
                    host = self._ssh()
                    self._kill(host, self._pid)
                    host.run(f"rm -f {quote(self._state_path)}")
                    log.info("stopped llama-server for %s on %s", self.info.name, self.spec.label)
            except HostError as exc:
                log.warning("could not stop llama-server on %s: %s", self.spec.label, exc)
            finally:
                self._pid = None
                self.adapters = []
                self.close()

    def close(self) -> None:
        """Close the tunnel and the SSH link; the server keeps running (until idle: the watchdog
        there stops it, so this session's own watcher ends here)."""
        with self._lock:
            self._stop_watch.set()
            if self._tunnel is not None:
                self._tunnel.close()
                self._tunnel = None
            if self._host is not None:
                self._host.close()
                self._host = None

    @property
    def running(self) -> bool:
        return self._pid is not None

    # -- idle shutdown (GPU servers are billed by the hour) ---------------------
    def touch(self, busy: int = 0) -> None:
        self._busy = max(0, self._busy + busy)
        self._last_used = time.monotonic()

    def _watch_idle(self) -> None:
        if self.idle_s <= 0 or (self._watcher is not None and self._watcher.is_alive()):
            return
        self._stop_watch.clear()

        def watch() -> None:
            while not self._stop_watch.wait(self._idle_check_s):
                if self._busy == 0 and self._pid is not None and time.monotonic() - self._last_used > self.idle_s:
                    log.info("%s idle for %.0f min: stopping llama-server", self.info.name, self.idle_s / 60)
                    self.stop()
                    return
        self._watcher = threading.Thread(target=watch, name=f"idle:{self.info.name}", daemon=True)
        self._watcher.start()
