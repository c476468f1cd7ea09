"""What an SSH host may ask of the person before it lets Bunko in: accept an unknown host
key, or type the passphrase of an encrypted key. Both answers live in this session's
memory only (a Secrets per host); nothing is written anywhere."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

from engine.api import HostSpec, Secrets
from engine.errors import HostKeyChangedError, HostKeyUnknownError, PassphraseNeededError


class SessionSecrets:
    """host label -> Secrets, for this run of the app only."""

    def __init__(self) -> None:
        self._by_host: dict[str, Secrets] = {}

    def get(self, host: HostSpec) -> Secrets | None:
        return self._by_host.get(host.label) if host.kind != "local" else None

    def ensure(self, host: HostSpec) -> Secrets:
        return self._by_host.setdefault(host.label, Secrets())


def ask_to_retry(parent: QWidget | None, exc: BaseException, host: HostSpec, secrets: SessionSecrets) -> bool:
    """For the errors a person can answer (an unknown host key, a passphrase), ask; True when
    the answer is in `secrets` and the same work should run again. False for anything else."""
    if isinstance(exc, HostKeyUnknownError):
        text = QCoreApplication.translate(
            "HostDialogs", "Bunko has not connected to {host} before. Its {kind} key fingerprint is:\n\n"
            "{fingerprint}\n\nCompare it with the fingerprint your server provider shows. Connect and "
            "remember this key?").format(host=exc.host, kind=exc.key_type, fingerprint=exc.fingerprint)
        answer = QMessageBox.question(parent, QCoreApplication.translate("HostDialogs", "Unknown server"), text)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        secrets.ensure(host).accept_fingerprint = exc.fingerprint
        return True
    if isinstance(exc, PassphraseNeededError):
        passphrase, ok = QInputDialog.getText(
            parent, QCoreApplication.translate("HostDialogs", "Key passphrase"),
            QCoreApplication.translate(
                "HostDialogs", "The SSH key for {host} is protected by a passphrase. Bunko keeps it in memory "
                "until it closes and never stores it.\n\nPassphrase:").format(host=host.label),
            QLineEdit.EchoMode.Password)
        if not ok or not passphrase:
            return False
        secrets.ensure(host).passphrase = passphrase
        return True
    return False


def error_text(exc: BaseException) -> str:
    """An engine error in words, with a warning in front of a changed host key."""
    if isinstance(exc, HostKeyChangedError):
        return QCoreApplication.translate(
            "HostDialogs", "Warning: the server's identity has changed. Someone may be intercepting the "
            "connection, or the server was reinstalled. Bunko refuses to connect; check with your "
            "provider.") + "\n\n" + str(exc)
    return str(exc)
