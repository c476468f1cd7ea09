"""'Embed on: This PC / <GPU server>' for the selected library, remembered per library.

The servers offered are the SSH hosts of models on a GPU server and the aliases of
~/.ssh/config. Choosing one shows, once per server, what goes there; the index queue
reads the choice (`host_for`) when it starts the library's run.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMessageBox, QWidget

from engine.api import HostSpec, agree_embed_host, embed_host_agreed
from engine.errors import HostKeyChangedError, HostKeyUnknownError, PassphraseNeededError

from ..finetune.host_dialogs import ask_to_retry, error_text
from ..finetune.ssh_config import ssh_hosts

log = logging.getLogger(__name__)


def _key(name: str) -> str:
    return f"library/embed_host/{name}"


def host_for(settings, name: str) -> HostSpec | None:
    """The server `name` is embedded on, or None for this PC."""
    text = settings.get(_key(name), "", str)
    if not text:
        return None
    try:
        return HostSpec.from_json(text)
    except (ValueError, TypeError):
        log.warning("the embedding host stored for %s is not readable; embedding here", name)
        return None


HOST_QUESTIONS = (HostKeyUnknownError, PassphraseNeededError, HostKeyChangedError)


def ask_about_host(parent, exc: BaseException, host: HostSpec, secrets) -> bool:
    """A run on the GPU server chosen under "Embed on" failed: ask what a person can answer (an
    unknown key, a passphrase; kept in `secrets`) and say True to run again. A changed key is a
    warning. Any other error is the caller's to show (exc not in HOST_QUESTIONS)."""
    if ask_to_retry(parent, exc, host, secrets):
        return True
    if isinstance(exc, HostKeyChangedError):
        QMessageBox.warning(parent, QCoreApplication.translate("LibrariesPage", "Bunko"), error_text(exc))
    return False


def offered_hosts(ctx) -> list[HostSpec]:
    """SSH hosts of models on a GPU server first (they carry port, user and key), then ~/.ssh/config's."""
    found: list[HostSpec] = []
    for model in ctx.engine.models.list():
        host = (getattr(model, "remote", None) or {}).get("host") if getattr(model, "location", "") == "ssh" else None
        if isinstance(host, str):
            try:
                spec = HostSpec.from_json(host)
            except (ValueError, TypeError):
                continue
            if spec.label not in {s.label for s in found}:
                found.append(spec)
    for alias in ssh_hosts():
        spec = HostSpec(kind="ssh", alias=alias)
        if spec.label not in {s.label for s in found}:
            found.append(spec)
    return found


class EmbedHostChoice(QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.library: str | None = None
        self.label = QLabel()
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)   # a long user@host:port
        self.combo.activated.connect(self._chosen)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.combo)
        self.retranslate()
        self.show_library(None)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.show_library(self.library)
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.label.setText(self.tr("Embed on:"))
        self.combo.setToolTip(self.tr("Where this library's passages are turned into vectors. A GPU server of "
                                      "yours (over SSH, with onnxruntime there) embeds a large library faster; "
                                      "the index stays on this PC."))

    def show_library(self, name: str | None) -> None:
        """Fill the choices and show what `name` uses (disabled without a library)."""
        self.library = name
        self.combo.clear()
        self.combo.addItem(self.tr("This PC"), "")
        current = host_for(self.ctx.settings, name) if name else None
        hosts = offered_hosts(self.ctx)
        if current is not None and current.label not in {h.label for h in hosts}:
            hosts.insert(0, current)
        for spec in hosts:
            self.combo.addItem(spec.label, spec.to_json())
        if current is not None:
            self.combo.setCurrentIndex(next((i for i in range(self.combo.count())
                                             if self.combo.itemText(i) == current.label), 0))
        self.setEnabled(name is not None)

    def _chosen(self, index: int) -> None:
        if self.library is None:
            return
        value = self.combo.itemData(index) or ""
        if value and not self._agreed(HostSpec.from_json(value).label):
            self.combo.setCurrentIndex(0)
            value = ""
        self.ctx.settings.set(_key(self.library), value or None)

    def _agreed(self, label: str) -> bool:
        """Said once per server, before any text goes there: what is sent and what stays."""
        if embed_host_agreed(label):   # here or with `bunko index --embed-host`
            return True
        answer = QMessageBox.question(self, self.tr("What leaves this computer"), self.tr(
            "Embedding this library on {where} sends the text of its files there: every passage Bunko cuts from "
            "them, to be turned into vectors by Bunko's own script on that server. Only that server receives it, "
            "over SSH; the vectors come back and the index stays on this PC.\n\nNot sent: other libraries, "
            "conversations and the database.\n\nSend the text of this library to {where}?").format(where=label))
        if answer != QMessageBox.StandardButton.Yes:
            return False
        agree_embed_host(label)
        return True
