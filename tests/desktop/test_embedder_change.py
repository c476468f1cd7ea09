"""Settings shows where embedding runs; a library whose vectors another embedder made is
re-embedded only after the user says yes (the question dialog, answered by no_dialogs)."""

from __future__ import annotations

import pytest

TIMEOUT = 60_000


def test_settings_show_where_embedding_runs(qtbot, ctx) -> None:
    from desktop.settings_page import SettingsPage

    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    assert "CPU" in page.embedding.text() and "first used" in page.embedding.text()
    _ = ctx.engine.searcher.embedder  # loaded: now the page names the graph and the threads
    page.retranslate()
    text = page.embedding.text()
    assert text.startswith("multilingual-e5-small: ") and "graph" in text and "CPU" in text


@pytest.mark.slow
def test_a_changed_embedder_asks_before_reindexing(ctx, qtbot, tmp_path, no_dialogs, embedder_dir) -> None:
    from desktop.library import LibrariesPage
    from engine.embed import load_embedder

    folder = tmp_path / "規程"
    folder.mkdir()
    (folder / "travel.md").write_text("# 出張規程\n\n出張の日当は三千円です。\n", encoding="utf-8")
    page = LibrariesPage(ctx)
    qtbot.addWidget(page)
    try:
        page.add_folder(folder)

        def made_by():
            lib = next((lib for lib in ctx.engine.libraries.list() if lib.name == "規程"), None)
            return lib.embedder_id if lib is not None and lib.indexed_at is not None else None

        qtbot.waitUntil(lambda: made_by() is not None and not page.is_indexing(), timeout=TIMEOUT)
        first = made_by()
        exact = load_embedder(embedder_dir, threads=1, graph="exact")
        assert first != exact.model_id  # a new setup on a CPU: the fast graph
        ctx.engine.searcher._embedder = exact  # as if the user chose the exact graph
        page.queue.enqueue("規程")
        qtbot.waitUntil(lambda: made_by() == exact.model_id and not page.is_indexing(), timeout=TIMEOUT)
        asked = [text for kind, text in no_dialogs if kind == "question"]
        assert len(asked) == 1 and first in asked[0] and "Re-index" in asked[0]
    finally:
        page.shutdown()
