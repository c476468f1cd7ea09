"""Ignore files and generated code in a real folder on disk: a .gitignore at two levels, a
.bunkoignore, a node_modules tree, lock files, a minified bundle (by name and by content), a
source map and a data dump are left out with their reasons, a left-out folder is listed once
and never walked, and the library's switch brings them in (engine, then the command line).
The hash embedder stands in for e5 (tests/fakes.py); everything else is real."""

from __future__ import annotations

import json
import os

import pytest

from engine.ingest import generated, scan as scan_module
from engine.ingest.scan import scan

APP_JS = "function add(a, b) {\n  return a + b;\n}\n// the travel allowance calculator\n"
MINIFIED = "".join(f"var q{i}=function(e,t){{return e.map(function(n){{return n*{i * 7919 % 1000}+t}})}};"
                   for i in range(1500))  # one line of 100 kB, varied enough not to count as repetition
NODE_MODULE_FILES = 400


@pytest.fixture(scope="module")
def code_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("code") / "app"
    files = {
        "README.md": "# App\n\nThe daily allowance calculator for business trips.\n",
        "src/app.js": APP_JS,
        "src/vendor.js": MINIFIED,          # minified, named like ordinary code
        "src/lib.min.js": APP_JS,           # minified by its name
        "src/app.js.map": '{"version":3}',
        "package.json": '{"name": "app"}\n',
        "package-lock.json": '{"lockfileVersion": 3}\n',
        "yarn.lock": "# yarn lockfile v1\n",
        "Cargo.lock": "[[package]]\n",
        "notes/debug.log": "a log line\n",
        "notes/keep.log": "a log line kept by negation\n",
        "notes/todo.md": "# To do\n\nWrite the expense report.\n",
        "notes/private/secret.md": "# Secret\n",
        "docs/draft.txt": "a draft left out by a deeper .gitignore\n",
        "docs/final.txt": "the final text\n",
        "docs/bunko-only.md": "left out by .bunkoignore\n",
        ".gitignore": "# build output\n*.log\n!keep.log\nnotes/private/\n/out.txt\n",
        "docs/.gitignore": "draft.txt\n",
        ".bunkoignore": "bunko-only.md\n",
        "out.txt": "anchored at the root\n",
        "docs/out.txt": "not at the root: kept\n",
        "build/index.html": "<p>built</p>",
        "dist/app.css": "body{}",
        "vendor/autoload.php": "<?php\n",
        "suppliers/vendor/contract.md": "# Contract with a vendor\n",  # a person's folder called vendor
        "pkg/__pycache__/x.cpython-312.pyc": "",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    with open(root / "export.json", "wb") as f:  # a data dump: sparse, so it costs no disk
        f.truncate(generated.DUMP_BYTES + 1)
    for i in range(NODE_MODULE_FILES):
        pkg = root / "node_modules" / f"pkg{i // 50}"
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / f"index{i}.js").write_text(APP_JS)
    return root


def _skips(root, **kw):
    found = list(scan(root, **kw))
    return {f.rel: f.skip for f in found if f.skip}, {f.rel for f in found if not f.skip}


def test_the_scan_leaves_out_ignored_and_generated_entries_with_their_reasons(code_folder):
    skips, kept = _skips(code_folder)
    assert skips["node_modules/"] == "generated or dependency folder (node_modules)"
    assert skips["build/"] == "generated or dependency folder (build)"
    assert skips["dist/"] == "generated or dependency folder (dist)"
    assert skips["vendor/"] == "generated or dependency folder (vendor)"
    assert skips["pkg/__pycache__/"] == "generated or dependency folder (__pycache__)"
    assert skips["package-lock.json"] == skips["yarn.lock"] == skips["Cargo.lock"] \
        == "lock file written by a package manager"
    assert skips["src/lib.min.js"] == "minified or bundled code"
    assert skips["src/app.js.map"] == "source map written by a build tool"
    assert skips["export.json"].startswith("large data file (10 MB)")
    assert skips["notes/debug.log"] == "ignored by .gitignore (pattern *.log)"
    assert skips["notes/private/"] == "ignored by .gitignore (pattern notes/private/)"
    assert skips["out.txt"] == "ignored by .gitignore (pattern /out.txt)"
    assert skips["docs/draft.txt"] == "ignored by docs/.gitignore (pattern draft.txt)"
    assert skips["docs/bunko-only.md"] == "ignored by .bunkoignore (pattern bunko-only.md)"
    assert {"README.md", "src/app.js", "src/vendor.js", "package.json", "notes/keep.log", "notes/todo.md",
            "docs/final.txt", "docs/out.txt", "suppliers/vendor/contract.md"} == kept
    assert not any(rel.startswith("node_modules/") and rel != "node_modules/" for rel in skips)


def test_a_left_out_folder_is_never_walked(code_folder, monkeypatch):
    opened = []
    real = os.scandir

    def counting(path):
        opened.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(scan_module.os, "scandir", counting)
    list(scan(code_folder))
    assert not any("node_modules" in p or "__pycache__" in p or "notes/private" in p for p in opened)
    opened.clear()
    found = list(scan(code_folder, include_generated=True))
    assert sum("node_modules" in p for p in opened) == 1 + NODE_MODULE_FILES // 50
    assert sum(1 for f in found if f.rel.startswith("node_modules/") and not f.skip) == NODE_MODULE_FILES


def test_the_switch_includes_generated_and_gitignored_but_bunkoignore_still_applies(code_folder):
    skips, kept = _skips(code_folder, include_generated=True)
    assert {"package-lock.json", "src/lib.min.js", "notes/debug.log", "docs/draft.txt", "out.txt",
            "notes/private/secret.md", "build/index.html", "dist/app.css"} <= kept
    assert skips["docs/bunko-only.md"] == "ignored by .bunkoignore (pattern bunko-only.md)"
    assert skips[".gitignore"] == "hidden file"
    assert skips["yarn.lock"] == "unsupported file type .lock"  # included, but not a type Bunko reads
    assert skips.get("pkg/__pycache__/x.cpython-312.pyc", "").startswith("unsupported file type")


@pytest.mark.parametrize("name,data,minified", [
    ("vendor.js", MINIFIED.encode(), True),
    ("style.css", (b"a{color:red;margin:0}" * 500), True),
    ("data.json", json.dumps([{"k": i, "v": "x" * 5} for i in range(3000)], separators=(",", ":")).encode(), True),
    ("app.js", (APP_JS * 500).encode(), False),                       # a person's code
    ("pretty.json", json.dumps([{"k": i} for i in range(3000)], indent=2).encode(), False),
    ("short.js", b"x=1;" * 100, False),                                # too short to judge
    ("essay.md", MINIFIED.encode(), False),                            # only code files are judged
    ("prose.js", ("word " * 5000).encode(), False),                    # a long line, but spaced
])
def test_minified_by_content(name, data, minified):
    assert (generated.minified(name, data) is not None) is minified


def test_indexing_skips_them_lists_them_and_the_switch_brings_them_in_and_out(fast_engine, code_folder):
    libs = fast_engine.libraries
    name = libs.add(code_folder, "app").name
    assert libs.get(name).include_generated is False
    first = libs.index(name)
    assert first.added == 8 and first.failed == 0  # src/vendor.js is read, found minified
    listed = {d.path: d.reason for d in libs.documents(name, "attention")}
    assert listed["src/vendor.js"] == "minified code (very long lines with little whitespace)"
    assert listed["node_modules/"] == "generated or dependency folder (node_modules)"
    assert listed["notes/debug.log"] == "ignored by .gitignore (pattern *.log)"
    assert {h.path for h in fast_engine.search("calculator", k=20, mode="keyword")} == {"README.md", "src/app.js"}
    again = libs.index(name)  # nothing changed: the minified file is not read again either
    assert (again.unchanged, again.skipped, again.added, again.updated) == (9, 0, 0, 0)

    libs.set_include_generated(name, True)
    assert libs.get(name).include_generated is True
    second = libs.index(name)
    indexed = {d.path for d in libs.documents(name, "indexed")}
    assert {"src/vendor.js", "src/lib.min.js", "package-lock.json", "notes/debug.log",
            "node_modules/pkg0/index0.js"} <= indexed
    assert second.added + second.updated == len(indexed) - 8 and "node_modules/" not in {d.path for d in libs.documents(name)}

    libs.set_include_generated(name, False)
    third = libs.index(name)
    assert third.removed >= NODE_MODULE_FILES
    assert {d.path for d in libs.documents(name, "indexed")} == {
        "README.md", "src/app.js", "package.json", "notes/keep.log", "notes/todo.md", "docs/final.txt",
        "docs/out.txt", "suppliers/vendor/contract.md"}
    assert libs.get(name).documents == 8


def test_the_command_line_switch_is_kept_with_the_library(tmp_path, code_folder, hash_embedder, capsys,
                                                           monkeypatch):
    from engine.cli.commands import main

    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    base = ["--db", str(tmp_path / "cli.duckdb")]
    assert main([*base, "index", str(code_folder), "--name", "app", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "skipped node_modules/: generated or dependency folder (node_modules)" in out or "more" in out
    assert main([*base, "libraries", "--files", "app"]) == 0
    out = capsys.readouterr().out
    assert "skipped  node_modules/: generated or dependency folder (node_modules)" in out
    assert "skipped  src/vendor.js: minified code" in out
    assert main([*base, "index", "app", "--include-generated", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] > NODE_MODULE_FILES
    assert main([*base, "libraries"]) == 0
    assert "generated code and files ignored by .gitignore: included" in capsys.readouterr().out
    assert main([*base, "index", "app", "--json"]) == 0  # the switch stays on
    assert json.loads(capsys.readouterr().out)["removed"] == 0
    assert main([*base, "index", "app", "--skip-generated", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] >= NODE_MODULE_FILES
    with pytest.raises(SystemExit):
        main([*base, "index", "app", "--include-generated", "--skip-generated"])


def test_a_file_indexed_in_part_is_counted_and_listed(tmp_path, hash_embedder, capsys, monkeypatch):
    from engine.cli.commands import main
    from engine.ingest import sparse

    monkeypatch.setattr(sparse, "MAX_FILE_CHUNKS", 3)
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "small.md").write_text("# Small\n\nA short note.\n")
    (folder / "big.md").write_text("\n\n".join(f"## Part {i}\n\n" + " ".join(f"w{i}x{j}" for j in range(400))
                                               for i in range(10)))
    base = ["--db", str(tmp_path / "cli.duckdb")]
    assert main([*base, "index", str(folder), "--name", "docs", "--quiet"]) == 0
    assert "  partly indexed big.md: indexed in part: the first 3 passages, about " in capsys.readouterr().out
    assert main([*base, "libraries"]) == 0
    assert "    1 indexed in part (files too large to embed whole; see --files)" in capsys.readouterr().out
    assert main([*base, "libraries", "--files", "docs"]) == 0
    assert capsys.readouterr().out.startswith("partial  big.md: indexed in part: the first 3 passages")
    assert main([*base, "libraries", "--json"]) == 0
    lib = json.loads(capsys.readouterr().out)[0]
    assert (lib["partial"], lib["documents"], lib["include_generated"]) == (1, 2, False)
