"""Models page → Add from a server → Endpoint…: against a real `bunko serve` (listing needs no
model load), the key in a real file keyring; the one-time notice of what leaves the PC."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from engine.models.registry import SMOLLM2_NAME
from tests.engine.remote_fixtures import file_keyring  # noqa: F401 - fixture

TIMEOUT = 30_000


@pytest.fixture
def served(ctx):
    from engine.serve.server import make_server

    server, token = make_server(ctx.engine, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.url, token
    server.shutdown()
    server.server_close()


def test_endpoint_dialog_lists_adds_and_says_once_what_leaves(ctx, qtbot, served, file_keyring, no_dialogs,
                                                            monkeypatch) -> None:
    from desktop.models import ModelsPage
    from desktop.models.remote_dialogs import EndpointDialog, parse_host

    url, token = served
    page = ModelsPage(ctx)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: SMOLLM2_NAME in page.models, timeout=TIMEOUT)
    assert [a.text() for a in page.server_menu.actions()] == ["Endpoint…", "On a GPU server…"]

    dialogs = []

    def run(dialog):
        dialogs.append(dialog)
        dialog.url.setText(url)
        dialog.key.setText(token)
        dialog.list_models()
        qtbot.waitUntil(lambda: dialog.model.count() > 0, timeout=TIMEOUT)
        dialog.model.setCurrentText(SMOLLM2_NAME)
        dialog.name.setText("team")
        dialog.add()
        qtbot.waitUntil(lambda: dialog.added is not None or "refused" in dialog.message.text(), timeout=TIMEOUT)
        return dialog.added is not None

    monkeypatch.setattr(EndpointDialog, "exec", run)
    page.add_endpoint()
    qtbot.waitUntil(lambda: "team" in page.models, timeout=TIMEOUT)
    item = next(page.tree.topLevelItem(i) for i in range(page.tree.topLevelItemCount())
                if page.tree.topLevelItem(i).data(page.NAME, Qt.ItemDataRole.UserRole) == "team")
    assert item.text(page.KIND) == "Model (endpoint)" and "/v1" in item.toolTip(page.NAME)
    notices = [text for kind, text in no_dialogs if kind == "information"]
    assert len(notices) == 1 and "passages" in notices[0] and "/v1" in notices[0]
    page.what_leaves_notice("elsewhere")  # once only
    assert len([1 for kind, _ in no_dialogs if kind == "information"]) == 1

    # a wrong key is said in words in the dialog, nothing is added
    bad = EndpointDialog(ctx)
    qtbot.addWidget(bad)
    bad.url.setText(url)
    bad.key.setText("wrong")
    bad.list_models()
    qtbot.waitUntil(lambda: "refused the API key" in bad.message.text(), timeout=TIMEOUT)

    assert parse_host("gpubox").alias == "gpubox"
    spec = parse_host("me@10.0.0.5:2222")
    assert (spec.user, spec.hostname, spec.port) == ("me", "10.0.0.5", 2222)
    assert parse_host("not a host") is None


from tests.engine.conftest import _sshd_server, sshd  # noqa: E402,F401 - the real sshd fixtures


def test_gpu_server_dialog_downloads_a_catalog_model_on_the_server(ctx, qtbot, sshd, tmp_path, monkeypatch,
                                                                   no_dialogs) -> None:
    """"Download on the server": the catalog model goes from the (local) hub to the loopback
    sshd's folder, checked there; this PC uploads nothing."""
    from desktop.models.remote_dialogs import GpuServerDialog
    from engine.bench.hub_server import HubServer, write_test_gguf
    from engine.hashing import sha256_file
    from engine.hosts.hosts import HostSpec
    from engine.models import catalog as cat

    small = write_test_gguf(tmp_path / "tiny.gguf", payload_bytes=1024 * 1024)
    digest = sha256_file(small).hexdigest()
    toml = tmp_path / "catalog.toml"
    toml.write_text(f'''[[model]]
id = "tiny"
name = "Tiny"
repo = "bunko-test/tiny"
revision = "0123456789abcdef0123456789abcdef01234567"
unverified = true  # its Q4_0 file has no sha256
licence = "Apache-2.0"
languages = ["ja", "en"]
params_b = 0.003
context = 256
files = [{{ quant = "Q8_0", file = "tiny.gguf", size = {small.stat().st_size}, sha256 = "{digest}", size_exact = true }},
         {{ quant = "Q4_0", file = "tiny-q4.gguf", size = 1000 }}]
''', encoding="utf-8")
    monkeypatch.setattr(cat, "catalog_path", lambda: toml)
    spec = HostSpec(kind="ssh", alias="gpubox", ssh_config=str(sshd.ssh_config), known_hosts=str(sshd.known_hosts),
                    root=str(tmp_path / "remote"))
    with HubServer() as hub:
        hub.add("bunko-test/tiny", small)
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        dialog = GpuServerDialog(ctx)
        qtbot.addWidget(dialog)
        monkeypatch.setattr(dialog, "spec", lambda: spec)
        assert dialog.upload.isChecked() and not dialog.catalog.isEnabled()
        dialog.download.setChecked(True)
        assert dialog.catalog.isEnabled() and not dialog.gguf.isEnabled()
        qtbot.waitUntil(lambda: dialog.catalog.count() > 0, timeout=TIMEOUT)
        assert dialog.catalog.count() == 1   # the entry without a sha256 cannot be checked there: not offered
        dialog.idle.setValue(0)
        dialog.add()
        assert not dialog.progress.isHidden() and not dialog.buttons.isEnabled()   # busy, shown
        qtbot.waitUntil(lambda: dialog.added is not None or dialog.buttons.isEnabled(), timeout=TIMEOUT)
    assert dialog.added is not None, dialog.message.text()
    assert dialog.added.location == "ssh" and dialog.added.remote["catalog_id"] == "tiny"
    assert (tmp_path / "remote" / "llama-server" / "models" / f"{sha256_file(small).hexdigest()}.gguf").is_file()
