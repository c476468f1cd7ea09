"""The Models page against a real engine and the built-in SmolLM2: list, load, add, remove, settings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QInputDialog

from desktop.widgets import TONE_ROLE
from engine.models.gguf_file import read_gguf_info
from engine.models.registry import SMOLLM2_NAME, smollm2_path
from tests.engine.lora_fixture import write_test_adapter

TIMEOUT = 30_000


@pytest.fixture
def page(ctx, qtbot):
    from desktop.models import ModelsPage

    widget = ModelsPage(ctx)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: SMOLLM2_NAME in widget.models, timeout=TIMEOUT)
    return widget


def row(page, name):
    for i in range(page.tree.topLevelItemCount()):
        item = page.tree.topLevelItem(i)
        if item.data(page.NAME, Qt.ItemDataRole.UserRole) == name:
            return [item.text(c) for c in range(page.tree.columnCount())]
    return None


def test_lists_the_builtin_model_and_loads_it_in_the_background(ctx, page, qtbot, no_dialogs):
    name, kind, size, quant, context, template, base, use, runs_on, speed = row(page, SMOLLM2_NAME)
    assert kind == "Model (built in)" and size.endswith("MB") and quant and template == "ChatML"
    assert context.replace(",", "").isdigit() and base == "" and use == ""
    assert page.in_use() == {}
    assert "No model is loaded" in page.state_label.text()
    page.select(SMOLLM2_NAME)
    assert page.load_button.isEnabled() and not page.remove_button.isEnabled()  # built in: cannot be removed

    page.settings_panel.context.setValue(1024)  # a loading setting: used by this load
    states = []
    ctx.changed.connect(lambda c: c.kind == "model" and states.append(c.state))
    qtbot.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    assert "Loading" in page.state_label.text() and not page.load_button.isEnabled()
    qtbot.waitUntil(lambda: bool(states), timeout=TIMEOUT)
    state = states[0]
    assert state.model == SMOLLM2_NAME and state.n_ctx == 1024 and ctx.engine.models.host.state == state
    assert page.in_use() == {SMOLLM2_NAME: "Loaded"}
    loaded = next(page.tree.topLevelItem(i) for i in range(page.tree.topLevelItemCount())
                  if page.tree.topLevelItem(i).text(page.USE) == "Loaded")
    assert loaded.data(page.USE, TONE_ROLE) == "success"        # drawn as the tables' badge (StatusDelegate)
    text = page.state_label.text()
    assert "1,024" in text and f"{state.n_threads} threads" in text and state.offload in text
    assert page.reason_label.text() == state.offload_reason
    assert ctx.settings.model == SMOLLM2_NAME
    for widget in (page, page.settings_panel):  # a language switch redraws, keeping the state
        QApplication.sendEvent(widget, QEvent(QEvent.Type.LanguageChange))
    assert "1,024" in page.state_label.text() and page.settings_panel.context.value() == 1024
    qtbot.waitUntil(lambda: page.in_use() == {SMOLLM2_NAME: "Loaded"}, timeout=TIMEOUT)
    assert page.settings_panel.reload_button.isEnabled() and page.load_button.isEnabled()
    assert not no_dialogs


def test_add_a_bad_file_then_an_adapter_with_its_base(ctx, page, qtbot, tmp_path, no_dialogs, monkeypatch):
    bad = tmp_path / "notes.gguf"
    bad.write_text("these are notes, not a model", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(bad))])
    page.dropEvent(QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: len(no_dialogs) == 1, timeout=TIMEOUT)
    kind, text = no_dialogs[0]
    assert kind == "warning" and "GGUF" in text and "notes.gguf" in text

    adapter = write_test_adapter(tmp_path / "style.gguf", read_gguf_info(smollm2_path()))
    asked = []

    def choose(parent, title, label, items, current=0, editable=True, *args, **kwargs):
        asked.append((label, list(items)))
        return items[current], True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(choose))
    page.add_model_file(adapter)
    qtbot.waitUntil(lambda: "style" in page.models, timeout=TIMEOUT)
    assert asked and asked[0][1] == [SMOLLM2_NAME] and "style.gguf" in asked[0][0]
    assert row(page, "style")[1:2] == ["Adapter"] and row(page, "style")[page.BASE] == SMOLLM2_NAME
    assert len(no_dialogs) == 1

    # Loading an adapter loads its base and attaches it.
    page.select("style")
    page.load_selected()
    qtbot.waitUntil(lambda: page.in_use().get("style", "").startswith("Attached"), timeout=TIMEOUT)
    assert page.in_use()[SMOLLM2_NAME] == "Loaded" and "style" in page.state_label.text()

    # Remove asks, says the file stays, and forgets the entry.
    page.select("style")
    assert page.remove_button.isEnabled()
    page.remove()
    assert no_dialogs[-1][0] == "question" and "not deleted" in no_dialogs[-1][1]
    qtbot.waitUntil(lambda: "style" not in page.models, timeout=TIMEOUT)
    assert adapter.exists()


def test_settings_panel_writes_the_settings(ctx, page, qtbot):
    from engine.api import GenerationSettings, LoadSettings

    panel = page.settings_panel
    panel.gpu_layers.setValue(0)
    panel.threads.setValue(2)
    assert (ctx.settings.loading().n_gpu_layers, ctx.settings.loading().n_threads) == (0, 2)
    panel.gpu_layers.setValue(panel.gpu_layers.minimum())
    assert ctx.settings.loading().n_gpu_layers is None and panel.gpu_layers.text() == "Auto"

    panel.temperature.setValue(0.2)
    panel.top_p.setValue(0.8)
    panel.top_k.setValue(20)
    panel.min_p.setValue(0.1)
    panel.repeat_penalty.setValue(1.3)
    panel.max_tokens.setValue(256)
    g = ctx.settings.generation()
    assert (g.temperature, g.top_p, g.top_k, g.min_p, g.repeat_penalty, g.max_tokens) == (0.2, 0.8, 20, 0.1, 1.3, 256)
    assert "next time" in panel.note.text()

    qtbot.mouseClick(panel.defaults_button, Qt.MouseButton.LeftButton)
    assert ctx.settings.generation() == GenerationSettings()
    assert ctx.settings.loading() == LoadSettings()
    assert panel.threads.text() == "Auto" and panel.temperature.value() == GenerationSettings().temperature


def test_get_models_lists_the_catalog_and_downloads_with_progress(ctx, page, qtbot, tmp_path, monkeypatch):
    """The dialog downloads a catalog model from a hub-layout server on 127.0.0.1 (HF_ENDPOINT)
    through the engine and the runner, shows progress and lists the new model. A pinned entry
    downloads at once; an unverified one only after the person agrees."""
    from PySide6.QtWidgets import QMessageBox

    from engine.bench.hub_server import COMMIT, HubServer, write_test_gguf
    from engine.hashing import sha256_file
    from engine.models import catalog as cat

    first_real = cat.load_catalog()[0]
    tiny = write_test_gguf(tmp_path / "tiny-Q4_K_M.gguf", 2 * 1024 * 1024)
    loose = write_test_gguf(tmp_path / "loose-Q4_K_M.gguf", 1024 * 1024)
    toml = tmp_path / "catalog.toml"
    common = 'licence = "Apache-2.0"\nlanguages = ["ja", "en"]\nparams_b = 0.003\ncontext = 256\n'
    toml.write_text(
        f'[[model]]\nid = "tiny"\nname = "Tiny"\nrepo = "bunko-test/tiny"\nrevision = "{COMMIT}"\n{common}'
        f'files = [{{ quant = "Q4_K_M", file = "{tiny.name}", size = {tiny.stat().st_size}, size_exact = true, '
        f'sha256 = "{sha256_file(tiny).hexdigest()}" }}]\n\n'
        f'[[model]]\nid = "loose"\nname = "Loose"\nrepo = "bunko-test/loose"\nrevision = "main"\n'
        f'unverified = true\n{common}files = [{{ quant = "Q4_K_M", file = "{loose.name}", size = 1000000 }}]\n',
        encoding="utf-8")
    assert len(cat.load_catalog()) > 10 and cat.load_catalog()[0] == first_real   # the shipped one, before
    monkeypatch.setattr(cat, "catalog_path", lambda: toml)
    asked = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a: asked.append(a[2]) or answers.pop(0)))
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    with HubServer() as hub:
        hub.add("bunko-test/tiny", tiny)
        hub.add("bunko-test/loose", loose)
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        dialog = page.open_catalog()
        qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 2, timeout=TIMEOUT)
        first = dialog.tree.topLevelItem(0)
        assert first.text(0) == "Tiny" and first.text(1) == "Q4_K_M" and first.text(3) == "Apache-2.0"
        assert first.text(5) and first.text(6)  # fits? and a rough speed
        dialog.tree.setCurrentItem(first)
        assert dialog.reason.text()
        seen = []
        real = dialog._progress
        dialog._progress = lambda p: (seen.append(p), real(p))
        dialog.download_selected()
        assert asked == []   # pinned: no question
        assert not dialog.download_button.isEnabled() and dialog.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: dialog.task is None, timeout=TIMEOUT)
        assert dialog.added and dialog.added[0].name == "tiny-q4_k_m", dialog.status.text()
        assert seen and seen[-1].done == tiny.stat().st_size
        qtbot.waitUntil(lambda: "tiny-q4_k_m" in page.models, timeout=TIMEOUT)

        dialog.tree.setCurrentItem(dialog.tree.topLevelItem(1))
        dialog.download_selected()                      # unverified: asked, and "No" downloads nothing
        assert len(asked) == 1 and "does not pin Loose" in asked[0] and dialog.task is None
        assert not [r for r in hub.requests if "loose" in r[1]]
        dialog.download_selected()                      # "Yes": downloaded, checked against the hub's report
        qtbot.waitUntil(lambda: dialog.task is None, timeout=TIMEOUT)
        assert [m.name for m in dialog.added] == ["tiny-q4_k_m", "loose-q4_k_m"], dialog.status.text()
        dialog.close()


def test_each_model_says_where_it_runs_its_offload_and_last_speed(ctx, page, qtbot):
    """A real answer from the built-in model gives its speed; a model on a GPU server and an
    endpoint (registered only: no server here) show their host and address."""
    from engine.hosts.hosts import HostSpec
    from engine.types import GenerationSettings

    engine = ctx.engine
    spec = HostSpec(kind="ssh", alias="gpubox")
    engine.models.add_remote(spec, smollm2_path(), "gpu-smol", idle_minutes=0)
    engine.models.registry.insert_remote("team", "endpoint", "http://llm.example:8000/v1", {"model": "qwen"})
    done = list(engine.chat.ask("Say hello.", model=SMOLLM2_NAME, libraries=(),
                                settings=GenerationSettings(temperature=0.0, max_tokens=12)))[-1].answer
    measured = done.stats["tokens_per_second"]
    assert measured > 0
    # an earlier answer from the GPU server, as the chat stored it (ran_on: the server's offload words)
    conv = engine.conversations.create("earlier")
    engine.conversations.add_message(conv.id, "user", "q")
    engine.conversations.add_message(conv.id, "assistant", "a", model="gpu-smol",
                                     stats={"tokens_per_second": 95.25, "ran_on": "NVIDIA L4: all 31 layers"})
    page.refresh()
    qtbot.waitUntil(lambda: (row(page, "gpu-smol") or [""] * 10)[page.SPEED] != "", timeout=TIMEOUT)
    local = row(page, SMOLLM2_NAME)
    assert local[page.SPEED] == f"{measured:.1f} tokens/s"
    # loaded now (the answer loaded it): the live offload of this PC
    assert local[page.RUNS_ON] in ("This PC · CPU", f"This PC · GPU, {engine.models.loaded().offload}")
    remote = row(page, "gpu-smol")
    assert remote[page.RUNS_ON] == "gpubox · NVIDIA L4: all 31 layers" and remote[page.SPEED] == "95.2 tokens/s"
    assert row(page, "team")[page.RUNS_ON] == "http://llm.example:8000/v1" and row(page, "team")[page.SPEED] == ""
    # sorting by speed sorts by the number
    page.tree.sortByColumn(page.SPEED, Qt.SortOrder.DescendingOrder)
    first = page.tree.topLevelItem(0).data(page.NAME, Qt.ItemDataRole.UserRole)
    assert first == ("gpu-smol" if 95.25 > measured else SMOLLM2_NAME)


def test_chat_offers_an_adapter_for_a_gpu_server_model_that_runs_its_base_gguf(ctx, qtbot, tmp_path):
    from desktop.chat.chat_options import OptionsBar
    from engine.hosts.hosts import HostSpec

    engine = ctx.engine
    engine.models.registry.tiny()
    write_test_adapter(tmp_path / "a.gguf", read_gguf_info(smollm2_path()))
    engine.models.add_adapter(tmp_path / "a.gguf", SMOLLM2_NAME, "house-style")
    other = tmp_path / "other.gguf"
    other.write_bytes(smollm2_path().read_bytes() + b"\0" * 64)
    spec = HostSpec(kind="ssh", alias="gpubox")
    engine.models.add_remote(spec, smollm2_path(), "gpu-same", idle_minutes=0)
    engine.models.add_remote(spec, other, "gpu-other", idle_minutes=0)
    bar = OptionsBar()
    qtbot.addWidget(bar)
    bar.set_choices([], engine.models.list(), SMOLLM2_NAME)

    def offered(model: str) -> list:
        bar.model.setCurrentIndex(bar.model.findData(model))
        return [bar.adapter.itemData(i) for i in range(bar.adapter.count())]

    assert offered("gpu-same") == ["house-style"]
    assert offered("gpu-other") == [None]       # "No adapter for this model"
    assert offered(SMOLLM2_NAME) == ["house-style"]
