"""Indexing a real folder into a real DuckDB file with the real default embedder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.api import Engine
from engine.errors import EmbedderMismatchError, SchemaTooNewError, StoreLockedError

RULES = """# 出張旅費規程

## 第1条（目的）
この規程は、社員が業務のため出張する場合の旅費について定める。

## 第12条（日当）
出張の日当は、1日につき3,000円とする。ただし、日帰り出張で所要時間が4時間未満の場合は支給しない。

## 第13条（宿泊費）
宿泊費は実費とし、1泊につき12,000円を上限とする。
"""

HANDBOOK = """# Travel handbook

## Per diem
Employees on travel receive a per diem of 45 dollars for meals. Receipts are not required.

## Lodging
Hotels are booked through the travel office. The nightly limit follows the federal rate.
"""

LEAVE_SJIS = "休暇規程\n第5条 年次有給休暇は、入社6か月後に10日付与する。\n第6条 慶弔休暇は、結婚の場合5日とする。\n"


def make_pdf(path: Path) -> None:
    canvas = pytest.importorskip("reportlab.pdfgen.canvas")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    c = canvas.Canvas(str(path))
    for text in ("Company safety manual, first page.", "The fire assembly point is the north parking lot.",
                 "第3章 防災 避難場所は北側駐車場とする。"):
        c.setFont("HeiseiKakuGo-W5", 12)
        c.drawString(72, 720, text)
        c.showPage()
    c.save()


def make_docx(path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("福利厚生規程", level=1)
    d.add_paragraph("社員食堂の昼食補助は1食あたり200円とする。")
    d.save(str(path))


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "社内 規程"  # Japanese characters and a space in the path
    (root / "旅費").mkdir(parents=True)
    (root / "旅費" / "出張旅費規程.md").write_text(RULES, encoding="utf-8")
    (root / "handbook.md").write_text(HANDBOOK, encoding="utf-8")
    (root / "休暇規程.txt").write_bytes(LEAVE_SJIS.encode("cp932"))
    make_pdf(root / "safety.pdf")
    make_docx(root / "福利厚生.docx")
    (root / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")
    (root / "junk.docx").write_bytes(b"PK\x03\x04" + os.urandom(200))
    (root / ".secret.md").write_text("hidden", encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]", encoding="utf-8")
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    with open(root / "huge.log", "wb") as f:  # a 2 GB log file, sparse so the test stays cheap
        f.truncate(2 * 1024**3)
    (root / "loop").symlink_to(root, target_is_directory=True)
    return root


@pytest.fixture()
def engine(tmp_path: Path, embedder_dir: Path):
    with Engine.open(tmp_path / "db" / "bunko.duckdb", embedder_dir) as eng:
        yield eng


def consistent(engine: Engine) -> None:
    """No duplicate document, no orphan chunk, vector or posting."""
    cur = engine._store.cursor()
    one = lambda sql: cur.execute(sql).fetchone()[0]  # noqa: E731
    assert one("SELECT count(*) - count(DISTINCT (library_id, path)) FROM documents") == 0
    assert one("SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)") == 0
    assert one("SELECT count(*) FROM embeddings WHERE chunk_id NOT IN (SELECT id FROM chunks)") == 0
    assert one("SELECT count(*) FROM chunks WHERE id NOT IN (SELECT chunk_id FROM embeddings)") == 0
    assert one("SELECT count(*) FROM (SELECT chunk_id FROM kw_main UNION ALL SELECT chunk_id FROM kw_tail) "
               "WHERE chunk_id NOT IN (SELECT id FROM chunks)") == 0
    assert one("SELECT count(*) FROM documents d WHERE n_chunks != "
               "(SELECT count(*) FROM chunks c WHERE c.document_id = d.id)") == 0


def test_index_search_and_bad_input(engine: Engine, folder: Path) -> None:
    lib = engine.libraries.add(folder)
    result = engine.libraries.index(lib.name)
    assert result.added == 5 and result.failed == 3, result
    consistent(engine)

    docs = {d.path: d for d in engine.libraries.documents(lib.name)}
    assert docs["broken.pdf"].status == "error" and "PDF" in docs["broken.pdf"].reason
    assert docs["junk.docx"].status == "error" and "Word" in docs["junk.docx"].reason
    assert docs["huge.log"].status == "skipped" and "too large" in docs["huge.log"].reason
    assert docs[".git/"].reason == "version-control folder"
    assert docs[".secret.md"].reason == "hidden file"
    assert docs["photo.jpg"].status == "error" and "picture" in docs["photo.jpg"].reason  # OCR refused it
    assert docs["休暇規程.txt"].status == "indexed"
    assert not any(p.startswith("loop/") for p in docs)  # the link loop was walked once

    listed = engine.libraries.list()[0]
    assert (listed.documents, listed.errors) == (5, 3) and listed.chunks >= 5

    hits = engine.search("出張の日当はいくら?", k=3)
    assert hits[0].path == "旅費/出張旅費規程.md"
    assert "3,000円" in hits[0].text and "日当" in (hits[0].heading or "")
    assert hits[0].line_start is not None and hits[0].abs_path.endswith("出張旅費規程.md")

    hits = engine.search("Where is the fire assembly point?", k=3)
    assert hits[0].path == "safety.pdf" and hits[0].page == 2

    assert engine.search("年次有給休暇は何日?", k=1)[0].path == "休暇規程.txt"  # Shift_JIS decoded
    assert engine.search("昼食補助", k=1, mode="keyword")[0].path == "福利厚生.docx"
    assert engine.search("per diem meals", k=1, mode="dense")[0].path == "handbook.md"
    only = engine.search("規程", k=10, path="旅費/*")
    assert only and all(h.path.startswith("旅費/") for h in only)


def test_reindex_follows_edits_renames_and_deletes(engine: Engine, folder: Path) -> None:
    lib = engine.libraries.add(folder)
    engine.libraries.index(lib.name)
    again = engine.libraries.index(lib.name)
    assert (again.added, again.updated, again.removed, again.chunks) == (0, 0, 0, 0)

    (folder / "handbook.md").write_text(HANDBOOK.replace("45 dollars", "60 dollars"), encoding="utf-8")
    (folder / "旅費" / "出張旅費規程.md").rename(folder / "旅費" / "travel-rules.md")
    (folder / "休暇規程.txt").unlink()
    (folder / "new.md").write_text("# 新規\n在宅勤務手当は月額5,000円とする。", encoding="utf-8")
    os.utime(folder / "福利厚生.docx")  # touched, same bytes

    result = engine.libraries.index(lib.name)
    assert (result.added, result.updated, result.renamed, result.removed) == (1, 1, 1, 1), result
    consistent(engine)
    assert "60 dollars" in engine.search("per diem", k=1, mode="keyword")[0].text
    assert engine.search("日当", k=1, mode="keyword")[0].path == "旅費/travel-rules.md"
    assert not [h for h in engine.search("年次有給休暇", k=5) if h.path == "休暇規程.txt"]
    assert engine.search("在宅勤務手当", k=1)[0].path == "new.md"

    engine.libraries.remove(lib.name)
    assert engine.libraries.list() == []
    assert engine.search("日当") == []
    consistent(engine)


def test_killed_run_resumes_without_duplicates(tmp_path: Path, embedder_dir: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(40):
        body = "\n".join(f"第{j}条 規程{i}の条文{j}。社員は手続{j}に従い、上長に届け出る。" for j in range(60))
        (root / f"doc{i:02d}.md").write_text(f"# 規程{i}\n{body}\n", encoding="utf-8")
    db = tmp_path / "kill.duckdb"
    cmd = [sys.executable, "-m", "engine.cli", "--db", str(db), "--embedder", str(embedder_dir),
           "index", str(root), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=Path(__file__).parents[2])
    # Wait until the first documents are committed (the WAL has chunks), then kill -9 mid-run.
    deadline = time.monotonic() + 120
    wal = Path(str(db) + ".wal")
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 50_000:
            break
        time.sleep(0.1)
    time.sleep(0.5)
    assert proc.poll() is None, "indexing finished before it could be killed"
    proc.kill()
    proc.wait()

    with Engine.open(db, embedder_dir) as engine:
        consistent(engine)
        before = engine.libraries.list()[0].documents
        assert 0 < before < 40
        result = engine.libraries.index("many")
        assert result.added == 40 - before and result.unchanged == before
        consistent(engine)
        assert engine.libraries.list()[0].documents == 40


def test_second_process_gets_a_clear_message(tmp_path: Path, embedder_dir: Path) -> None:
    db = tmp_path / "locked.duckdb"
    Engine.open(db, embedder_dir).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, duckdb, time; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(30)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError, match="in use by another program"):
            Engine.open(db, embedder_dir)
        from engine.cli.commands import main

        assert main(["--db", str(db), "libraries"]) == 2
    finally:
        holder.kill()
        holder.wait()


def test_newer_schema_is_refused(tmp_path: Path, embedder_dir: Path) -> None:
    db = tmp_path / "new.duckdb"
    with Engine.open(db, embedder_dir) as engine:
        engine._store.con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(SchemaTooNewError, match="newer version of Bunko"):
        Engine.open(db, embedder_dir)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    from engine.errors import StoreError

    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"this is not a database" * 1000)
    with pytest.raises(StoreError, match="not a valid DuckDB"):
        Engine.open(bad)


def test_vectors_from_another_model_are_refused(engine: Engine, folder: Path) -> None:
    lib = engine.libraries.add(folder)
    with engine._store.transaction() as cur:
        cur.execute("UPDATE libraries SET embedder_id = 'other-model-0000', embedder_name = 'other' WHERE id = ?",
                    [lib.id])
    with pytest.raises(EmbedderMismatchError, match="cannot be mixed"):
        engine.libraries.index(lib.name)
    with pytest.raises(EmbedderMismatchError):
        engine.search("日当", libraries=[lib.name])
