"""One app per database: a second copy asks the first to come forward and quits.

Without this, a second start would fail on the database lock; with it the
person just sees the window they already have. The socket name comes from a
hash of the database path (and the user), so two profiles (BUNKO_DATA_DIR)
can still run side by side. On Linux and macOS the socket is a file in a folder
only this user can enter ($XDG_RUNTIME_DIR, or a checked /tmp/bunko-<uid>): a bare
name in /tmp could be taken first by another user, who would then receive the
"activate" and keep Bunko from starting.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import stat
import tempfile
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
    name = "bunko-" + hashlib.sha256(f"{user}\0{resolved}".encode()).hexdigest()[:20]
    if os.name != "posix":
        return name
    folder = private_runtime_dir()
    return str(folder / name) if folder is not None else ""   # "": no single-instance check at all


def _mine_and_closed(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def private_runtime_dir() -> Path | None:
    """A folder for sockets that only this user can enter; None on Windows (named pipes carry
    their own access list) and where no such folder can be made (another user owns the name)."""
    if os.name != "posix":
        return None
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and _mine_and_closed(Path(runtime)):
        return Path(runtime)
    folder = Path(tempfile.gettempdir()) / f"bunko-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        log.warning("no private folder for the single-instance socket: %s", exc)
        return None
    if not _mine_and_closed(folder):   # a folder (or link) someone else put there first
        log.warning("%s is not a private folder of this user; not using it", folder)
        return None
    return folder


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
        if not self.key:
            return False
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
        if not self.key:
            log.warning("no private folder for the single-instance socket; a second start is not caught")
            return False
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
