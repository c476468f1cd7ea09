"""A socket audit for the test suite: Bunko is offline unless the user asks.

A `sys.addaudithook` hook sees every socket connect, sendto and name lookup made
from Python (the standard library, paramiko, httpx, anything built on `socket`).
While an audit is active, a destination that is not loopback or a Unix socket is
refused before a packet leaves (the call raises OfflineViolation) and recorded,
so that an attempt swallowed by a broad `except` still fails the test.

Audit hooks cannot be removed, so one is installed for the process and does
nothing while no audit is active. Connections made in C (llama.cpp, onnxruntime,
DuckDB, Qt) bypass it: tests/engine/test_offline_native.py watches those with
strace in a child process (it found onnxruntime's telemetry, now switched off).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading

_EVENTS = ("socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo", "socket.gethostbyname",
           "socket.gethostbyaddr")


class OfflineViolation(AssertionError):
    """Code under test reached for the network."""


_OWN_NAME = socket.gethostname()


def is_local(host) -> bool:
    """Loopback addresses, the name localhost, this machine's own name (paramiko expands %l in
    ssh_config with getfqdn()), no host (a local lookup) and Unix socket paths."""
    if host is None or isinstance(host, bytes) or host in ("", "localhost", _OWN_NAME):
        return True
    if not isinstance(host, str):
        return False
    if host.startswith(("/", "\0")) or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


class SocketAudit:
    def __init__(self) -> None:
        self.violations: list[str] = []
        self.local: list[str] = []      # what was reached, all of it local: proof the hook watched

    def check(self, event: str, args: tuple) -> None:
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            sock, address = args[0], args[1]
            if getattr(sock, "family", None) == getattr(socket, "AF_UNIX", object()):
                return
            host = address[0] if isinstance(address, tuple) else address
        else:
            host = args[0]
        where = f"{event} {host!r}"
        if is_local(host):
            self.local.append(where)
            return
        self.violations.append(where)
        raise OfflineViolation(f"offline test reached for the network: {where}")


_active: list[SocketAudit] = []
_lock = threading.Lock()
_installed = False


def _hook(event: str, args: tuple) -> None:
    if _active and event in _EVENTS:
        _active[-1].check(event, args)


def start() -> SocketAudit:
    global _installed
    with _lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True
        audit = SocketAudit()
        _active.append(audit)
        return audit


def stop(audit: SocketAudit) -> None:
    with _lock:
        _active.remove(audit)
