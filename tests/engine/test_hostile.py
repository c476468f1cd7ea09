"""Hostile files: names that are not UTF-8, one endless line, links out of the library,
compression bombs, sheets that lie about their size; cancelling inside one file."""

from __future__ import annotations

import io
import json
import mmap
import os
import re
import struct
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from engine.api import Engine
from tests.fakes import StubEmbedder
from engine.cancel import CancelToken
from engine.bench.hostile_bench import _PeakSampler
from engine.errors import Cancelled, ParseError
from engine.ingest import budget as budget_mod
from engine.ingest.budget import FileBudget, FileBudgetExceeded, Watchdog, checkpoint, file_budget, rss_bytes
from engine.ingest.chunk import chunk_sections
from engine.ingest.document import Section
from engine.ingest.normalize import clean_text, make_section
from engine.ingest.parsers import parse_file
from engine.ingest.scan import scan
from engine.types import Source

SJIS_NAME = "報告書.txt".encode("cp932")  # b'\x95\xf1\x8d\x90\x8f\x91.txt': not UTF-8
SJIS_TWIN = "議事録.txt".encode("cp932")


def stub_engine(tmp_path: Path, embedder=None) -> Engine:
    return Engine.open(tmp_path / "db" / "bunko.duckdb", embedder=embedder or StubEmbedder())


# --- 1. file names that are not UTF-8 -------------------------------------------------


def test_a_name_that_is_not_utf8_is_indexed_kept_and_shown(tmp_path: Path, embedder_dir: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "good.md").write_text("# 規程\n出張の日当は三千円とする。", encoding="utf-8")
    (root / "other.txt").write_text("Lodging is booked through the travel office.", encoding="utf-8")
    base = os.fsencode(root)
    (Path(os.fsdecode(base + b"/" + SJIS_NAME))).write_bytes("売上は前年比120%でした。".encode("cp932"))
    # Two names that differ only in bytes that are not UTF-8 look the same once shown;
    # they are still two files.
    (Path(os.fsdecode(base + b"/" + SJIS_TWIN))).write_bytes("議事録: 次回は来週の月曜日。".encode("cp932"))

    with Engine.open(tmp_path / "db.duckdb", embedder_dir) as engine:
        lib = engine.libraries.add(root)
        result = engine.libraries.index(lib.name)
        assert (result.added, result.failed, result.skipped) == (4, 0, 0), result
        docs = engine.libraries.documents(lib.name)
        shown = sorted(d.path for d in docs)
        assert "good.md" in shown and "other.txt" in shown
        odd = [p for p in shown if p not in ("good.md", "other.txt")]
        assert len(odd) == 2 and all("\ufffd" in p and p.endswith(".txt") for p in odd)
        assert all(p.encode("utf-8") for p in shown)  # storable and printable
        raw = {bytes(r[0]) for r in engine._store.cursor().execute(
            "SELECT path_raw FROM documents WHERE path_raw IS NOT NULL").fetchall()}
        assert raw == {SJIS_NAME, SJIS_TWIN}  # the bytes kept: the names are not lost

        hit = engine.search("売上は前年比", k=1, mode="keyword")[0]
        assert "\ufffd" in hit.path and hit.path.endswith(".txt")
        # Opening goes by the real bytes: the display path names no file.
        assert not os.path.exists(hit.abs_path)
        source = Source.from_dict(json.loads(json.dumps(Source.from_hit(1, hit).as_dict())))  # as stored
        assert os.fsencode(source.open_path) == base + b"/" + SJIS_NAME
        assert Path(source.open_path).read_bytes() == "売上は前年比120%でした。".encode("cp932")
        plain = engine.search("出張の日当", k=1, mode="keyword")[0]
        assert Source.from_hit(1, plain).open_path == str(root / "good.md") == plain.abs_path

        again = engine.libraries.index(lib.name)  # the same files are found again by their bytes
        assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 4), again

        os.rename(os.fsdecode(base + b"/" + SJIS_NAME), os.fsdecode(base + b"/" + SJIS_NAME[:-4] + b"2.txt"))
        moved = engine.libraries.index(lib.name)
        assert (moved.renamed, moved.removed, moved.added) == (1, 0, 0), moved


def test_library_folder_named_in_bytes_that_are_not_utf8_is_refused_clearly(tmp_path: Path) -> None:
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/" + SJIS_NAME[:-4]))
    folder.mkdir()
    with stub_engine(tmp_path) as engine:
        with pytest.raises(Exception, match="not valid UTF-8"):
            engine.libraries.add(folder)


def test_one_document_the_database_refuses_does_not_stop_the_others(tmp_path: Path, monkeypatch) -> None:
    from engine.library import writer as index_writer

    root = tmp_path / "docs"
    root.mkdir()
    for i in range(5):
        (root / f"note{i}.txt").write_text(f"Note number {i} about the budget.", encoding="utf-8")
    real = index_writer.insert_chunks

    def picky(cur, rows, ids, lib, vecs):
        if any("number 3" in r[4] for r in rows):
            raise RuntimeError("Unable to cast Python instance of type str to C++ type")
        real(cur, rows, ids, lib, vecs)

    monkeypatch.setattr(index_writer, "insert_chunks", picky)
    with stub_engine(tmp_path) as engine:
        lib = engine.libraries.add(root)
        result = engine.libraries.index(lib.name)
        assert (result.added, result.failed) == (4, 1), result
        assert result.errors == [("note3.txt", result.errors[0][1])] and "could not be stored" in result.errors[0][1]
        assert {d.path: d.status for d in engine.libraries.documents(lib.name)}["note3.txt"] == "error"


# --- 2. linear time and memory, budgets, cancel -------------------------------------------


def test_one_long_line_is_chunked_in_linear_work() -> None:
    words = " ".join(f"word{i % 997}x{i % 13}" for i in range(40_000))  # ~400 KB, no full stop

    def work(text: str) -> tuple[float, list]:
        stub = StubEmbedder()
        chunks = chunk_sections([Section(text, line_start=1)], stub.count_tokens, max_tokens=320, overlap=48)
        return stub.counted / len(text), chunks

    small, _ = work(words)
    big_text = (words + " ") * 8  # ~3 MB on one line
    big, chunks = work(big_text)
    # The old chunker counted the whole remaining line for every piece: ~1,000 times the
    # text for 3 MB. Linear work counts each character a small, fixed number of times.
    assert big <= 3.0 and big <= small * 1.25 + 0.1, (small, big)
    assert all(c.n_tokens <= 320 and len(c.text) <= 16 * 320 for c in chunks)
    assert chunks[0].line_start == chunks[-1].line_end == 1


def test_zero_token_sentences_cannot_make_one_endless_chunk() -> None:
    def count(texts):  # a tokenizer that reads the text as nothing at all
        return [1 for _ in texts]

    chunks = chunk_sections([Section("\u200b\n" * 200_000, line_start=1)], count, max_tokens=320)
    assert len(chunks) < 200 and max(len(c.text) for c in chunks) <= 16 * 320
    assert chunks[-1].line_end == 200_000


def test_long_runs_of_spaces_are_cleaned_in_linear_time() -> None:
    spaces = " " * 400_000  # ten times the 40,000 (3.1 s then; minutes at this size)
    t0 = time.perf_counter()
    assert clean_text("a" + spaces + "b\nc" + spaces + "\nd" + spaces) == "a" + spaces + "b\nc\nd"
    section = make_section("\n" * 100_000 + "x" + spaces, line_start=1)
    assert time.perf_counter() - t0 < 5.0
    assert section.text == "x" and section.line_start == 100_001


def test_a_markdown_file_of_many_short_lines_is_not_split_into_a_list(tmp_path: Path) -> None:
    text = "# Title\n\n" + "- item\n" * 300_000 + "## Later\n\nlast\n" + "#" + " " * 50_000 + "x\n"
    doc = parse_file(tmp_path / "a.md", data=text.encode())
    assert [s.heading for s in doc.sections] == ["Title", "Title > Later", "x"]  # a long-spaced ATX heading
    assert doc.sections[1].line_start == 300_003
    assert doc.title == "Title"


def test_a_file_over_its_time_budget_fails_with_the_reason_and_the_run_goes_on(tmp_path: Path, monkeypatch) -> None:
    from engine.ingest import parsers

    root = tmp_path / "docs"
    root.mkdir()
    (root / "fine.txt").write_text("A normal file about travel.", encoding="utf-8")
    (root / "slow.txt").write_text("This one never finishes parsing.", encoding="utf-8")
    real = parsers.parse_file

    def stuck(path, data=None):
        if Path(path).name == "slow.txt":
            while True:  # pure Python that reaches no checkpoint: the watchdog stops it
                pass
        return real(path, data=data)

    monkeypatch.setattr("engine.library.indexer.parse_file", stuck)
    monkeypatch.setattr(budget_mod, "FILE_SECONDS", 1.0)
    monkeypatch.setattr(budget_mod, "FILE_SECONDS_PER_MB", 0.0)
    with stub_engine(tmp_path) as engine:
        lib = engine.libraries.add(root)
        t0 = time.monotonic()
        result = engine.libraries.index(lib.name)
        assert time.monotonic() - t0 < 20
        assert (result.added, result.failed) == (1, 1), result
        assert result.errors[0][0] == "slow.txt" and "took too long" in result.errors[0][1]


def test_the_memory_guard_stops_a_file_that_grows_too_much() -> None:
    if rss_bytes() is None:
        pytest.skip("this system does not report resident memory")
    budget = FileBudget(0, memory=64 * 2**20)
    with file_budget(budget):
        hog = bytearray(256 * 2**20)  # touched, so resident
        for i in range(0, len(hog), 4096):
            hog[i] = 1
        time.sleep(0.06)  # the resident size is read at most every 50 ms
        with pytest.raises(FileBudgetExceeded, match="too much memory"):
            checkpoint()
    checkpoint()  # outside a budget: nothing to check


def test_cancel_stops_inside_one_large_file(tmp_path: Path) -> None:
    class SlowTokenizer(StubEmbedder):
        def count_tokens(self, texts):
            time.sleep(0.01)  # ~20 minutes for this file: only a check inside it can stop it
            return super().count_tokens(texts)

    root = tmp_path / "docs"
    root.mkdir()
    # one 4 MB line of distinct words (a repeated one would be skipped as no information)
    (root / "big.txt").write_text(" ".join(f"w{i}" for i in range(520_000)), encoding="utf-8")
    with stub_engine(tmp_path, SlowTokenizer()) as engine:
        lib = engine.libraries.add(root)
        cancel = CancelToken()
        started = threading.Event()
        out = {}

        def progress(p):
            if p.phase == "indexing":
                started.set()

        runner = threading.Thread(target=lambda: out.setdefault("r", engine.libraries.index(lib.name, progress, cancel)))
        runner.start()
        assert started.wait(30)
        time.sleep(1.0)  # well inside the file
        t0 = time.monotonic()
        cancel.cancel()
        runner.join(30)
        assert not runner.is_alive()
        assert time.monotonic() - t0 < 5  # within a second or so; generous for a busy machine
        assert out["r"].cancelled and out["r"].added == 0


def test_the_watchdog_stops_code_that_reaches_no_checkpoint() -> None:
    cancel = CancelToken()
    dog = Watchdog(interval=0.05)
    caught = {}

    def work():
        try:
            with file_budget(FileBudget(0, cancel), dog):
                while True:
                    pass
        except Cancelled as exc:
            caught["exc"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(0.2)
    cancel.cancel()
    thread.join(10)
    dog.close()
    assert not thread.is_alive() and isinstance(caught.get("exc"), Cancelled)


# --- 3. links out of the library, special files ------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="symbolic links and named pipes as on POSIX")
def test_links_leaving_the_library_are_skipped_with_the_reason(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "ssh").mkdir(parents=True)
    (outside / "ssh" / "id_rsa.txt").write_text("SECRETKEYMATERIAL", encoding="utf-8")
    (outside / "notes.md").write_text("SECRETNOTES", encoding="utf-8")
    root = tmp_path / "library"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "real.md").write_text("inside the library", encoding="utf-8")
    (root / "to-file.md").symlink_to(outside / "notes.md")
    (root / "to-folder").symlink_to(outside / "ssh", target_is_directory=True)
    (root / "environ.txt").symlink_to("/proc/self/environ")
    (root / "inside.md").symlink_to(root / "sub" / "real.md")
    os.mkfifo(root / "pipe.txt")

    found = {f.rel: f.skip for f in scan(root)}
    assert "outside the library folder" in found["to-file.md"]
    assert "outside the library folder" in found["to-folder/"]
    assert "outside the library folder" in found["environ.txt"]
    assert "named pipe" in found["pipe.txt"]
    assert found["inside.md"] is None and found["sub/real.md"] is None
    assert not any(rel.startswith("to-folder/") and rel != "to-folder/" for rel in found)

    with stub_engine(tmp_path) as engine:
        lib = engine.libraries.add(root)
        result = engine.libraries.index(lib.name)
        assert result.added == 2 and result.skipped == 4, result
        assert engine.search("SECRETKEYMATERIAL", mode="keyword") == []
        assert engine.search("SECRETNOTES", mode="keyword") == []
        reasons = {d.path: d.reason for d in engine.libraries.documents(lib.name, status="skipped")}
        assert set(reasons) == {"to-file.md", "to-folder/", "environ.txt", "pipe.txt"}

        with pytest.raises(Exception, match="system"):
            engine.libraries.add("/proc/self")


# --- 4. compression bombs and lying sheets ---------------------------------------------------


def _bomb_docx(gigabytes: float = 1.0) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            block = b"<w:p/>" * (1 << 18)
            for _ in range(int(gigabytes * 1024**3 // len(block))):
                f.write(block)
    return buf.getvalue()


def test_a_zip_bomb_docx_is_refused_without_inflating_it(tmp_path: Path) -> None:
    data = _bomb_docx(1.0)
    assert len(data) < 20 * 2**20
    with _PeakSampler() as sampler:
        base = sampler.peak
        with pytest.raises(ParseError, match="inflate to|compressed"):
            parse_file(tmp_path / "bomb.docx", data=data)
    if rss_bytes() is not None:
        assert sampler.peak - base < 200 * 2**20  # nothing near the 1 GB was made


def _patch_sizes(data: bytes, name: str, size: int) -> bytes:
    """Declare `size` as the uncompressed size of member `name`, in both headers."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    struct.pack_into("<I", out, info.header_offset + 22, size)
    pos = 0
    while True:
        pos = out.find(b"PK\x01\x02", pos)
        if pos < 0:
            break
        n = struct.unpack_from("<H", out, pos + 28)[0]
        if bytes(out[pos + 46:pos + 46 + n]).decode() == name:
            struct.pack_into("<I", out, pos + 24, size)
        pos += 4
    return bytes(out)


def test_a_member_that_inflates_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    import docx

    buf = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("hello")
    document.save(buf)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/media/image1.png", bytes(50 * 2**20))  # 50 MB of zeros, said to be 1 KB
    data = _patch_sizes(buf.getvalue(), "word/media/image1.png", 1000)
    with pytest.raises(ParseError, match="more than it declares|damaged"):
        parse_file(tmp_path / "liar.docx", data=data)


def test_a_sheet_declaring_a_huge_size_is_read_as_it_is(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["氏名", "部署"])
    ws.append(["髙橋", "総務"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = body.decode()
                text = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', text)
                # a lone cell at the far corner: the sheet really is that "big"
                text = text.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr">'
                                    "<is><t>end</t></is></c></row></sheetData>")
                body = text.encode()
            z.writestr(info, body)
    t0 = time.perf_counter()
    doc = parse_file(tmp_path / "huge.xlsx", data=out.getvalue())
    assert time.perf_counter() - t0 < 60  # 16,384 x 1,048,576 cells were never visited
    assert "氏名: 髙橋 | 部署: 総務" in doc.sections[0].text
    assert any("rows were read" in w for w in doc.warnings)


# --- 11. time left, failed and skipped ----------------------------------------------------


def test_time_left_waits_for_a_meaningful_rate() -> None:
    from engine.cli.commands import time_left
    from engine.library.indexer import ETA_AFTER_S, IndexRun
    from engine.types import IndexProgress

    run = IndexRun.__new__(IndexRun)
    run.bytes_total, run.bytes_done, run.bytes_partial, run.embed_started = 500_000_000, 10_000, 0.0, 100.0
    run.ocr_share = 0.0
    assert run._eta(100.0 + 1.0) is None  # one small file after a second: no "147:17:50"
    assert run._eta(100.0 + ETA_AFTER_S + 1) is None  # 10 kB of 500 MB says nothing yet
    run.bytes_done = 50_000_000
    assert run._eta(100.0 + 60.0) == pytest.approx(540.0)
    assert time_left(IndexProgress(library="lib", phase="indexing", eta_s=None)) == "estimating time left"
    assert time_left(IndexProgress(library="lib", phase="indexing", eta_s=3723.0)) == "1:02:03 left"


def test_failed_and_skipped_files_are_counted_and_labelled_apart(tmp_path: Path, capsys, monkeypatch) -> None:
    from engine.cli import main

    root = tmp_path / "docs"
    root.mkdir()
    (root / "good.md").write_text("# ok\nfine text", encoding="utf-8")
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (root / "drawing.svg").write_bytes(b"<svg/>")   # a type Bunko does not read (a .jpg is a picture now)
    real_open = Engine.open

    def open_with_stub(*args, **kwargs):
        return real_open(*args, embedder=StubEmbedder(), **kwargs)

    monkeypatch.setattr(Engine, "open", open_with_stub)
    assert main(["--db", str(tmp_path / "cli.duckdb"), "index", str(root), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["added"], result["failed"], result["skipped"]) == (1, 1, 1)
    assert [p for p, _ in result["errors"]] == ["broken.pdf"] and [p for p, _ in result["skips"]] == ["drawing.svg"]

    (root / "broken.docx").write_bytes(b"PK\x03\x04 not really")
    (root / "notes.xyz").write_bytes(b"?")
    assert main(["--db", str(tmp_path / "cli.duckdb"), "index", str(root)]) == 0
    out = capsys.readouterr().out
    assert "0 unchanged" not in out and "1 skipped, 1 failed" in out
    assert "  failed broken.docx: " in out and "  skipped notes.xyz: unsupported file type .xyz" in out
    assert "skipped broken.docx" not in out


def test_a_large_document_is_written_in_parts_and_a_partial_one_is_redone(tmp_path: Path, monkeypatch) -> None:
    from engine.library import writer as index_writer

    monkeypatch.setattr(index_writer, "PART_CHUNKS", 3)
    root = tmp_path / "docs"
    root.mkdir()
    (root / "long.txt").write_text("\n".join(f"Line {i} of a long report about budgets." * 8 for i in range(60)),
                                   encoding="utf-8")
    (root / "short.txt").write_text("A short note.", encoding="utf-8")
    with stub_engine(tmp_path) as engine:
        lib = engine.libraries.add(root)
        result = engine.libraries.index(lib.name)
        cur = engine._store.cursor()
        rows = dict(cur.execute("SELECT path, status || ':' || n_chunks FROM documents").fetchall())
        n = cur.execute("SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id "
                        "WHERE d.path = 'long.txt'").fetchone()[0]
        assert result.added == 2 and n > 6 and rows["long.txt"] == f"indexed:{n}", (result, rows)

        # A run killed between two parts leaves the document 'partial': the next run redoes it.
        cur.execute("UPDATE documents SET status = 'partial', n_chunks = 0 WHERE path = 'long.txt'")
        again = engine.libraries.index(lib.name)
        assert (again.updated, again.unchanged) == (1, 1), again
        assert cur.execute("SELECT count(*) FROM chunks").fetchone()[0] == n + 1  # nothing doubled

        # A part the database refuses: the parts already stored go again, the file is failed.
        from engine.library import rows as index_rows

        real = index_rows.insert_chunks
        calls = []

        def second_part_fails(c, chunk_rows, *rest):
            calls.append(len(chunk_rows))
            if len(calls) % 2 == 0:  # every second part, so the retry one at a time fails too
                raise RuntimeError("disk full")
            real(c, chunk_rows, *rest)

        monkeypatch.setattr(index_writer, "insert_chunks", second_part_fails)
        with open(root / "long.txt", "a", encoding="utf-8") as f:
            f.write("\nOne more line.")
        failed = engine.libraries.index(lib.name)
        assert failed.failed == 1 and "could not be stored" in failed.errors[0][1], failed
        assert cur.execute("SELECT count(*) FROM chunks").fetchone()[0] == 1  # only short.txt's
        assert cur.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 1


class TextLengthEmbedder(StubEmbedder):
    """A vector that says which chunk it belongs to: its text's length."""

    def embed_passages(self, texts: list[str], batch_size: int = 32, background: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        out[:, 0] = [len(t) for t in texts]
        return out


def test_a_large_document_lets_each_parts_vectors_go_and_caps_duckdb_while_written(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    """Memory while one huge file is stored: each part's vectors are let go once the part is
    stored (the whole file's vectors were held to the end), and DuckDB's cache is capped
    meanwhile (its stored blocks stayed cached up to 1 GB)."""
    from engine.library import writer as index_writer

    monkeypatch.setattr(index_writer, "PART_CHUNKS", 3)
    real = index_writer.insert_chunks
    seen = []

    def watching(cur, rows, ids, lib, vecs):
        work = works[0]
        part = rows[0][3] // 3  # the first chunk's ordinal: which part this is
        seen.append((part, [b is None for b in work.vectors.blocks[:part + 1]],
                     cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]))
        real(cur, rows, ids, lib, vecs)

    works = []
    real_commit = index_writer.Writer._commit_in_parts

    def remember(self, work, ids):
        works.append(work)
        return real_commit(self, work, ids)

    monkeypatch.setattr(index_writer, "insert_chunks", watching)
    monkeypatch.setattr(index_writer.Writer, "_commit_in_parts", remember)
    root = tmp_path / "docs"
    root.mkdir()
    (root / "long.txt").write_text("\n".join(f"Line {i} of a long report about budgets." * (i % 5 + 1)
                                             for i in range(200)), encoding="utf-8")
    with stub_engine(tmp_path, TextLengthEmbedder()) as engine:
        lib = engine.libraries.add(root)
        assert engine.libraries.index(lib.name).added == 1
        cur = engine._store.cursor()
        rows = cur.execute("SELECT c.text, e.vec FROM chunks c JOIN embeddings e ON e.chunk_id = c.id "
                           "ORDER BY c.ord").fetchall()
        after = cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert len(seen) > 3
    for part, released, limit in seen:
        assert released == [True] * part + [False], seen  # the earlier parts' vectors are gone
        assert limit == "122.0 MiB", limit  # LARGE_MEMORY, 128 MB, as DuckDB states it
    assert index_writer.LARGE_MEMORY == "128MB" and after == "488.2 MiB"  # the usual 512 MB again
    # every chunk kept its own vector through the blocks (a .txt has no title or heading)
    assert [np.frombuffer(vec, np.float32)[0] for _, vec in rows] == [len(text) for text, _ in rows]


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="VmHWM is Linux's")
def test_the_benchs_peak_includes_the_kernels_high_water_mark() -> None:
    """`bench index --hostile` takes the kernel's peak too (reset per file), so a spike shorter
    than the 10 ms sampling cannot escape it."""
    with _PeakSampler() as first:
        # fresh pages from the kernel, returned on close: in a long test process a plain bytes
        # object can reuse heap pages that are already resident and never raise the peak
        spike = mmap.mmap(-1, 160 * 2**20)
        block = b"x" * 2**20
        for _ in range(160):
            spike.write(block)
        spike.close()
    assert first.kernel_peak is not None and first.kernel_peak - (rss_bytes() or 0) > 150 * 2**20
    with _PeakSampler() as second:  # reset: the first file's spike is not counted again
        pass
    assert second.kernel_peak < first.kernel_peak - 100 * 2**20


def test_a_part_that_does_not_fit_the_lowered_cap_is_written_with_the_usual_limit(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    """The cap while a large document is written is for memory, never a reason to lose it:
    a part DuckDB refuses for memory is written again under the usual limit."""
    import duckdb

    from engine.library import writer as index_writer

    monkeypatch.setattr(index_writer, "PART_CHUNKS", 3)
    real = index_writer.insert_chunks
    refused = []

    def tight(cur, rows, *rest):
        if cur.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "122.0 MiB" and rows[0][3] == 3:
            refused.append(rows[0][3])
            raise duckdb.OutOfMemoryException("could not allocate block (in this test)")
        real(cur, rows, *rest)

    monkeypatch.setattr(index_writer, "insert_chunks", tight)
    root = tmp_path / "docs"
    root.mkdir()
    (root / "long.txt").write_text("\n".join(f"Line {i} of a long report about budgets." * 3 for i in range(200)),
                                   encoding="utf-8")
    with stub_engine(tmp_path) as engine:
        lib = engine.libraries.add(root)
        result = engine.libraries.index(lib.name)
        n = engine._store.cursor().execute("SELECT count(*) FROM chunks").fetchone()[0]
        status = engine._store.cursor().execute("SELECT status, n_chunks FROM documents").fetchall()
    assert refused == [3] and (result.added, result.failed) == (1, 0), result
    assert status == [("indexed", n)] and n > 6
