"""The command line against a real database: JSON output, errors at the edge, --watch."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from engine.api import CancelToken, Engine
from engine.cli.commands import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_index_search_libraries_remove(tmp_path: Path, embedder_dir: Path, capsys) -> None:
    folder = tmp_path / "規程"
    folder.mkdir()
    (folder / "旅費.md").write_text("# 旅費\n出張の日当は1日3,000円とする。\n", encoding="utf-8")
    (folder / "bad.pdf").write_bytes(b"not a pdf at all")
    base = ["--db", str(tmp_path / "b.duckdb"), "--embedder", str(embedder_dir)]

    code, out, _ = run(capsys, *base, "index", str(folder), "--json")
    assert code == 0 and json.loads(out)["added"] == 1 and json.loads(out)["failed"] == 1

    code, out, _ = run(capsys, *base, "search", "出張の日当はいくら?", "--json")
    hits = json.loads(out)["hits"]
    assert code == 0 and hits[0]["path"] == "旅費.md" and "3,000円" in hits[0]["text"]
    assert hits[0]["location"].startswith("旅費")

    code, out, _ = run(capsys, *base, "search", "日当")
    assert code == 0 and "[1] 規程/旅費.md" in out

    code, out, _ = run(capsys, *base, "libraries", "--json")
    lib = json.loads(out)[0]
    assert (lib["name"], lib["documents"], lib["errors"]) == ("規程", 1, 1)

    code, out, _ = run(capsys, *base, "libraries", "--files", "規程")
    assert "failed   bad.pdf: not a valid PDF file" in out  # failed files are labelled failed, not skipped

    code, _, err = run(capsys, *base, "search", "x", "--library", "nope")
    assert code == 2 and "no library called 'nope'" in err

    code, out, _ = run(capsys, *base, "remove", "規程")
    assert code == 0
    code, out, _ = run(capsys, *base, "libraries")
    assert "No libraries yet" in out


def test_watch_picks_up_new_files(tmp_path: Path, embedder_dir: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# A\nThe printer is on the second floor.\n", encoding="utf-8")
    cancel = CancelToken()
    with Engine.open(tmp_path / "w.duckdb", embedder_dir) as engine:
        engine.libraries.add(folder)
        results = []
        thread = threading.Thread(
            target=engine.libraries.watch, args=("notes", 0.2), kwargs={"on_result": results.append, "cancel": cancel}
        )
        thread.start()
        try:
            deadline = time.monotonic() + 60
            while not results and time.monotonic() < deadline:
                time.sleep(0.1)
            (folder / "b.md").write_text("# B\nThe coffee machine is in the kitchen.\n", encoding="utf-8")
            while time.monotonic() < deadline and not any(r.added for r in results[1:]):
                time.sleep(0.1)
        finally:
            cancel.cancel()
            thread.join(30)
        assert not thread.is_alive()
        assert engine.search("Where is the coffee machine?", k=1)[0].path == "b.md"
