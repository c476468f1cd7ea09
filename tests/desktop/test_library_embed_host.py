"""The Libraries page's 'Embed on' choice: a library re-indexed on the user's GPU server (the real
sshd on loopback, the local venv as the server's Python, the real e5 graph), after the notice
said once per server; the choice is remembered per library. A server whose key Bunko has not
seen is asked about in the window (with its fingerprint) and the run goes on once accepted."""

from __future__ import annotations

import pytest

from engine.api import embed_host_agreed
from engine.models.registry import smollm2_path
from tests.engine.conftest import _sshd_server, sshd  # noqa: F401 - the real sshd fixtures

TIMEOUT = 60_000


def library(ctx, name):
    return next((lib for lib in ctx.engine.libraries.list() if lib.name == name), None)


@pytest.fixture
def page(ctx, qtbot):
    from desktop.library import LibrariesPage

    widget = LibrariesPage(ctx)
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def test_a_library_reindexed_on_the_gpu_server_after_the_notice(ctx, page, qtbot, sshd, tmp_path, no_dialogs):
    (tmp_path / "empty_known_hosts").write_text("")
    spec = sshd.spec(tmp_path, known_hosts=str(tmp_path / "empty_known_hosts"))   # a server never seen
    ctx.engine.models.add_remote(spec, smollm2_path(), "gpu-smol", n_ctx=512)   # registered, not started
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(4):
        (folder / f"n{i}.md").write_text(f"# Note {i}\n\nThe canteen opens at {7 + i} o'clock.\n", encoding="utf-8")
    page.add_folder(folder)
    qtbot.waitUntil(lambda: (lib := library(ctx, "notes")) is not None and lib.indexed_at is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not page.is_indexing(), timeout=TIMEOUT)

    page.select("notes")
    choice = page.embed_host
    qtbot.waitUntil(lambda: choice.library == "notes", timeout=TIMEOUT)
    assert choice.isEnabled() and [choice.combo.itemText(i) for i in range(choice.combo.count())][:2] == \
        ["This PC", spec.label]
    choice.combo.setCurrentIndex(1)
    choice._chosen(1)
    assert [k for k, text in no_dialogs if "sends the text of its files there" in text] == ["question"]
    assert embed_host_agreed(spec.label)   # where `bunko index --embed-host` looks too: asked once for both

    (folder / "n9.md").write_text("# Late\n\nThe library closes at nine.\n", encoding="utf-8")
    results = []
    page.queue.finished.connect(lambda name, result: results.append(result))
    page.queue.enqueue("notes", rebuild=True)   # as after "Re-index with the new model?": yes
    qtbot.waitUntil(lambda: not page.is_indexing() and library(ctx, "notes").documents == 5, timeout=TIMEOUT)
    assert len(results) == 1 and results[0].unchanged == 0, results   # the retry after the key question rebuilt too
    assert not page.errors.get("notes")
    asked = [t for k, t in no_dialogs if "has not connected to" in t]   # the first try stopped at the key
    assert len(asked) == 1 and sshd.host_key_fingerprint in asked[0], no_dialogs
    assert not [k for k, _ in no_dialogs if k in ("warning", "critical")], no_dialogs
    assert list((tmp_path / "remote" / "embed" / "models").glob("*.onnx"))   # it ran there

    choice.show_library(None)
    choice.show_library("notes")   # remembered for the library; the notice is not asked again
    assert choice.combo.currentText() == spec.label
    choice._chosen(1)
    assert len([t for _, t in no_dialogs if "sends the text" in t]) == 1
    choice.combo.setCurrentIndex(0)
    choice._chosen(0)
    choice.show_library("notes")
    assert choice.combo.currentText() == "This PC"
