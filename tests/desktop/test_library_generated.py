"""The Libraries page on a code folder, with the hash embedder (tests/fakes.py) in place of e5:
generated code and .gitignore'd files are listed as skipped with their reasons, a file past the
cap on passages is listed as indexed in part with its share and size, the switch "Include
generated and ignored files" stores the library's choice and re-indexes it, and both languages
say so. BUNKO_SCREENSHOTS=DIR keeps the page's pictures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TIMEOUT = 30_000
CAP = 4  # passages kept from one file, instead of 2,000, so a small file shows the listing


@pytest.fixture
def fast_ctx(qtbot, data_dir, hash_embedder, no_dialogs, monkeypatch):
    from desktop.context import AppContext
    from desktop.settings import Settings
    from engine.api import Engine
    from engine.ingest import sparse

    monkeypatch.setattr(sparse, "MAX_FILE_CHUNKS", CAP)
    engine = Engine.open(data_dir / "bunko.duckdb")
    context = AppContext(engine, Settings(data_dir / "settings.ini"))
    yield context
    context.shut_down(30)
    engine.close()


@pytest.fixture
def code_folder(tmp_path):
    root = tmp_path / "app"
    (root / "node_modules" / "left-pad").mkdir(parents=True)
    (root / "node_modules" / "left-pad" / "index.js").write_text("module.exports = leftPad;\n")
    (root / "src").mkdir()
    (root / "src" / "app.js").write_text("function add(a, b) {\n  return a + b;\n}\n")
    (root / "src" / "bundle.min.js").write_text("var a=1;")
    (root / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    (root / ".gitignore").write_text("*.log\n")
    (root / "server.log").write_text("started\n")
    paragraphs = [f"## Part {i}\n\n" + " ".join(f"word{i}x{j}" for j in range(400)) for i in range(12)]
    (root / "manual.md").write_text("# Manual\n\n" + "\n\n".join(paragraphs), encoding="utf-8")
    return root


@pytest.fixture
def page(fast_ctx, qtbot, code_folder):
    from desktop.library import LibrariesPage

    fast_ctx.engine.libraries.index(fast_ctx.engine.libraries.add(code_folder, "app").name)
    widget = LibrariesPage(fast_ctx)
    widget.resize(1100, 700)
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def _rows(page):
    return {r[0]: r for r in page.skipped.rows()}


def test_skipped_partial_and_the_switch(fast_ctx, page, qtbot, tmp_path):
    from desktop.i18n import apply_language

    libs = fast_ctx.engine.libraries
    qtbot.waitUntil(lambda: "node_modules/" in _rows(page), timeout=TIMEOUT)
    rows = _rows(page)
    assert rows["node_modules/"][1:] == ("Skipped", "generated or dependency folder (node_modules)")
    assert rows["package-lock.json"][2] == "lock file written by a package manager"
    assert rows["src/bundle.min.js"][2] == "minified or bundled code"
    assert rows["server.log"][2] == "ignored by .gitignore (pattern *.log)"
    status, reason = rows["manual.md"][1:]
    assert status == "Indexed in part"
    assert reason.startswith(f"indexed in part: the first {CAP} passages, about ") and " kB file" in reason
    assert "1 indexed in part" in page.skipped.title.text()
    lib = libs.get("app")
    assert lib.partial == 1 and not lib.include_generated
    row = next(r for r in range(page.table.rowCount()) if page.table.item(r, page.NAME).text() == "app")
    assert "1 indexed in part" in page.table.item(row, page.DOCUMENTS).toolTip()
    assert page.skipped.include.isEnabled() and not page.skipped.include.isChecked()
    _shot(page, tmp_path, "libraries-generated-en")

    try:
        apply_language("ja")
        qtbot.waitUntil(lambda: _rows(page).get("manual.md", ("", ""))[1] == "一部のみインデックス", timeout=TIMEOUT)
        rows = _rows(page)
        assert rows["node_modules/"][2] == "生成物または依存パッケージのフォルダー (node_modules)"
        assert rows["server.log"][2] == ".gitignore で除外 (パターン *.log)"
        assert rows["manual.md"][2].startswith("一部のみインデックス: ")
        assert page.skipped.include.text() == "生成ファイルと除外ファイルも含める"
        assert "1 件は一部のみインデックス" in page.skipped.title.text()
        _shot(page, tmp_path, "libraries-generated-ja")
    finally:
        apply_language("en")

    # The switch: stored with the library, and the library indexed again at once.
    page.skipped.include.click()
    qtbot.waitUntil(lambda: libs.get("app").include_generated, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not page.is_indexing() and "node_modules/" not in _rows(page), timeout=TIMEOUT)
    indexed = {d.path for d in libs.documents("app", "indexed")}
    assert {"node_modules/left-pad/index.js", "package-lock.json", "src/bundle.min.js", "server.log"} <= indexed
    assert page.skipped.include.isChecked()
    page.skipped.include.click()
    qtbot.waitUntil(lambda: not libs.get("app").include_generated, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not page.is_indexing() and "node_modules/" in _rows(page), timeout=TIMEOUT)
    assert "node_modules/left-pad/index.js" not in {d.path for d in libs.documents("app")}


def _shot(page, tmp_path, name: str) -> None:
    folder = Path(os.environ.get("BUNKO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.show()
    page.skipped.tree.resizeColumnToContents(page.skipped.STATUS)
    image = page.grab()
    assert not image.isNull() and image.save(str(folder / f"{name}.png"))
    assert page.skipped.tree.topLevelItemCount() > 0 and page.skipped.include.isVisible()


def test_every_new_reason_reads_in_japanese(qapp):
    """Each reason the scan and the reader give for generated, ignored or low-information files
    is translated, with its varying part kept."""
    from desktop.i18n import apply_language
    from desktop.library.reasons import partial_text, reason_text
    from engine.ingest import generated, sparse

    reasons = [generated.generated_folder("node_modules", "/nowhere"), generated.generated_file("yarn.lock", 10),
               generated.generated_file("app.min.js", 10), generated.generated_file("app.js.map", 10),
               generated.generated_file("dump.sql", generated.DUMP_BYTES + 1),
               generated.minified("x.js", b"a=1;" * 5000), "ignored by docs/.gitignore (pattern *.log)",
               "version-control folder", sparse.low_information(["ab" * 10_000]),
               sparse.low_information(["QUJD" * 10_000 + "x"])]
    try:
        apply_language("ja")
        for reason in reasons:
            assert reason and reason_text(reason) != reason, reason
        assert "node_modules" in reason_text(reasons[0]) and "docs/.gitignore" in reason_text(reasons[6])
        _, note = sparse.capped(list(range(10)), 0.5, limit=4)
        assert note and partial_text(note, 60_000_000).startswith("一部のみインデックス: 60 MB のファイルの先頭 4 ")
    finally:
        apply_language("en")
    assert partial_text(note, 60_000_000).startswith("indexed in part: the first 4 passages, about 20% of a 60 MB")
