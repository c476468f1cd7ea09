"""Offline below Python: `bunko index`, `search` and `ask` run in a child process under
`strace -f`, which sees every connect() and sendto() the process and its threads make,
native code included (onnxruntime, DuckDB, llama.cpp), where the audit hook of
tests/socket_audit.py sees only Python's sockets. Any destination that is not loopback or
a Unix socket fails the test. Checked first: the trace catches a connect made in C."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_SYSCALL = re.compile(r"\b(connect|sendto|sendmsg)\(")
_FAMILY = re.compile(r"sa_family=(AF_\w+)")
_INET = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6?, "([^"]+)"')


def _strace_reason() -> str | None:
    """Why strace cannot trace here, or None when it can."""
    strace = shutil.which("strace")
    if strace is None:
        return "strace is not installed (apt-get install strace; .ci/run installs it)"
    probe = subprocess.run([strace, "-f", "-qq", "-o", os.devnull, "true"], capture_output=True, text=True,
                           timeout=30)
    if probe.returncode != 0:
        return f"strace cannot trace in this container: {probe.stderr.strip()[:200]}"
    return None


pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="strace is Linux only")


@pytest.fixture(scope="module")
def strace() -> str:
    reason = _strace_reason()
    if reason:
        pytest.skip(reason)
    return shutil.which("strace")


def remote_destinations(trace: str) -> list[str]:
    """The trace's connect/sendto/sendmsg lines whose address is neither loopback nor a Unix
    (or netlink) socket."""
    found = []
    for line in trace.splitlines():
        if not _SYSCALL.search(line):
            continue
        family = _FAMILY.search(line)
        if family is None or family.group(1) not in ("AF_INET", "AF_INET6"):
            continue  # no address (a connected socket's send), AF_UNIX, AF_NETLINK, AF_UNSPEC
        address = _INET.search(line)
        if address is None:
            found.append(line.strip())
            continue
        ip = ipaddress.ip_address(address.group(1) or address.group(2))
        mapped = getattr(ip, "ipv4_mapped", None)
        if not (ip.is_loopback or (mapped is not None and mapped.is_loopback)):
            found.append(line.strip())
    return found


def traced(strace: str, tmp_path: Path, code: str, timeout: float = 240) -> tuple[subprocess.CompletedProcess, str]:
    log = tmp_path / "connect.trace"
    # Not inherited from this process (importing the embedder here sets it): the child's own code must.
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(BUNKO_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=os.getcwd())
    done = subprocess.run([strace, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-e", "signal=none",
                           "-s", "120", "-o", str(log), sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=os.getcwd())
    return done, log.read_text(errors="replace")


def test_onnxruntime_keeps_no_telemetry_store_and_device_id(tmp_path, embedder_dir):
    """onnxruntime's 1DS telemetry writes ~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid
    and an event store when a session is made, then uploads them; Bunko's embedder turns it off."""
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=os.getcwd())
    code = f"from engine.embed import load_embedder; load_embedder({str(embedder_dir)!r}).embed_passages(['x'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                          cwd=os.getcwd())
    assert done.returncode == 0, done.stderr[-2000:]
    assert not [p for p in tmp_path.rglob("*") if "Microsoft" in p.parts], sorted(tmp_path.rglob("*"))


def test_the_trace_catches_a_connect_made_in_native_code(strace, tmp_path):
    code = """
        import ctypes, socket, struct
        libc = ctypes.CDLL(None, use_errno=True)
        def native_connect(ip, port):   # C's connect(): no Python audit hook sees it
            fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK, 0)
            addr = struct.pack("<H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(ip) + bytes(8)
            libc.connect(fd, ctypes.c_char_p(addr), len(addr))
            libc.close(fd)
        native_connect("127.0.0.1", 9)
        native_connect("192.0.2.1", 9)
        server = socket.socket(socket.AF_UNIX)
        server.bind("{0}")
        server.listen()
        socket.socket(socket.AF_UNIX).connect("{0}")
    """.format(tmp_path / "s")
    done, trace = traced(strace, tmp_path, code, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "127.0.0.1" in trace and "AF_UNIX" in trace  # local ones seen, and let through
    remote = remote_destinations(trace)
    assert len(remote) == 1 and "192.0.2.1" in remote[0], remote


@pytest.mark.slow
def test_index_search_and_ask_connect_nowhere_even_in_native_code(strace, tmp_path, embedder_dir):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "travel.md").write_text("# Travel\n\nThe daily allowance is 4,700 yen per day.\n", encoding="utf-8")
    code = f"""
        import sys
        from engine.cli import main
        common = ["--db", {str(tmp_path / "b.duckdb")!r}, "--embedder", {str(embedder_dir)!r}]
        assert main([*common, "index", {str(docs)!r}, "--quiet"]) == 0
        assert main([*common, "search", "daily allowance", "--json"]) == 0
        assert main([*common, "ask", "What is the daily allowance?", "--max-tokens", "4", "--json"]) == 0
    """
    done, trace = traced(strace, tmp_path, code)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "travel.md" in done.stdout
    assert remote_destinations(trace) == []
