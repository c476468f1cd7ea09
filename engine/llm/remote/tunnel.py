"""A local port forwarded over SSH to a port on the server's 127.0.0.1 (like `ssh -L`).

A listening socket on this computer's 127.0.0.1 takes connections; each gets its own
paramiko direct-tcpip channel, and one thread per connection copies bytes both ways.
Nagle is off on every hop: a streamed answer is many small writes, and each waiting
for an acknowledgement would add tens of milliseconds per token.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
from typing import Any

log = logging.getLogger(__name__)

BUFFER = 64 * 1024


class Tunnel:
    def __init__(self, transport, remote_port: int, remote_host: str = "127.0.0.1") -> None:
        self.transport = transport
        self.remote = (remote_host, remote_port)
        try:
            transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass  # not a TCP socket (a proxy command): fine, only slower
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.port = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._pairs: list[tuple[socket.socket, Any]] = []   # (local socket, paramiko channel)
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name=f"tunnel:{self.port}", daemon=True).start()

    @property
    def alive(self) -> bool:
        return not self._closed.is_set() and self.transport.is_active()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, peer = self._listener.accept()
            except OSError:
                return  # closed
            try:
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                channel = self.transport.open_channel("direct-tcpip", self.remote, peer, timeout=10)
            except Exception as exc:  # the SSH link is gone, or the server refused the forward
                log.warning("port-forward to %s:%d failed: %s", *self.remote, exc)
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, channel))
            threading.Thread(target=self._pump, args=(client, channel), daemon=True).start()

    def _pump(self, client: socket.socket, channel) -> None:
        try:
            while True:
                ready, _, _ = select.select([client, channel], [], [], 1.0)
                if self._closed.is_set():
                    return
                if not ready:
                    if channel.closed or not self.transport.is_active():
                        return
                    continue
                if client in ready:
                    data = client.recv(BUFFER)
                    if not data:
                        return
                    channel.sendall(data)
                if channel in ready:
                    data = channel.recv(BUFFER)
                    if not data:
                        return
                    client.sendall(data)
        except (OSError, EOFError) as exc:
            log.info("port-forward connection ended: %s", exc)
        except Exception as exc:  # paramiko.SSHException: the link broke
            log.info("port-forward connection broke: %s", exc)
        finally:
            with self._lock:
                if (client, channel) in self._pairs:
                    self._pairs.remove((client, channel))
            for end in (channel, client):
                try:
                    end.close()
                except Exception:
                    pass

    def close(self) -> None:
        self._closed.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, channel in pairs:
            for end in (channel, client):
                try:
                    end.close()
                except Exception:
                    pass
