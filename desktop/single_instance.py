"""One app per database: a second copy asks the first to come forward and quits.

Without this, a second start would fail on the database lock; with it the
person just sees the window they already have. The socket name comes from a
hash of the database path (and the user), so two profiles (BUNKO_DATA_DIR)
can still run side by side.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

ACTIVATE = b"activate\n"


def key_for(db_path: Path | str) -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = ""
    resolved = str(Path(db_path).expanduser().resolve())
    return "bunko-" + hashlib.sha256(f"{user}\0{resolved}".encode()).hexdigest()[:20]


class SingleInstance(QObject):
    """`notify_running()` in a second copy; `listen()` in the first, which then emits `activated`."""

    activated = Signal()

    def __init__(self, key: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.server: QLocalServer | None = None
        self._clients: list[QLocalSocket] = []

    def notify_running(self, timeout_ms: int = 500) -> bool:
        """True when another copy answers (and has been asked to come to the front)."""
        socket = QLocalSocket()
        socket.connectToServer(self.key)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(ACTIVATE)
        socket.flush()
        socket.waitForBytesWritten(timeout_ms)
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(timeout_ms)
        log.info("another Bunko is running on this database; asked it to come forward")
        return True

    def listen(self) -> bool:
        """Become the first copy. A socket left by a crashed copy is removed first."""
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        ok = server.listen(self.key)
        if not ok and server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
            # Nobody answered notify_running(), so the file is stale.
            QLocalServer.removeServer(self.key)
            ok = server.listen(self.key)
        if not ok:
            log.warning("single-instance socket %s unavailable: %s", self.key, server.errorString())
            server.deleteLater()
            return False
        server.newConnection.connect(self._on_connection)
        self.server = server
        return True

    def close(self) -> None:
        if self.server is None:
            return
        for socket in self._clients:
            # Silenced first: a socket destroyed with the server would otherwise emit
            # disconnected from its destructor, and a deleteLater() from there crashes.
            socket.blockSignals(True)
            socket.abort()
        self._clients.clear()
        self.server.close()
        self.server.deleteLater()
        self.server = None

    def _on_connection(self) -> None:
        while self.server is not None and self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            self._clients.append(socket)
            socket.readyRead.connect(self._read)
            socket.disconnected.connect(self._forget_closed)
        self._read()

    def _read(self) -> None:
        for socket in self._clients:
            if socket.bytesAvailable() and ACTIVATE.strip() in bytes(socket.readAll()):
                log.info("a second start asked this window to come forward")
                self.activated.emit()

    def _forget_closed(self) -> None:
        for socket in [s for s in self._clients if s.state() == QLocalSocket.LocalSocketState.UnconnectedState]:
            self._clients.remove(socket)
            socket.deleteLater()
