"""One huge file never holds a library back: text with no information is skipped with a
reason, a large file gives at most MAX_FILE_CHUNKS passages and is listed as indexed in
part, and small files are indexed first."""

from __future__ import annotations

import base64
import random

import pytest

from engine.ingest import sparse
from engine.ingest.document import Section

REAL = ("出張の日当は三千円です。宿泊費は実費精算とし、領収書を添えて経理部へ提出する。"
        "The travel allowance is reviewed every April by the finance department. ")


def real_text(chars: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    words = REAL.split("。") + REAL.split()
    out, size = [], 0
    while size < chars:
        w = rng.choice(words) + rng.choice(["。", " ", "、", f" {rng.randint(1, 99999)} "])
        out.append(w)
        size += len(w)
    return "".join(out)


@pytest.mark.parametrize("text, reason", [
    ("a" * 200_000, "almost no information"),
    ("ab" * 50_000 + "\n" + "=" * 100_000, "almost no information"),
    (base64.b64encode(random.Random(2).randbytes(90_000)).decode(), "base64"),
    (" ".join(random.Random(3).randbytes(40_000).hex(" ", 2).split()), "hex dump"),
])
def test_text_without_information_is_named(text, reason) -> None:
    assert reason in sparse.low_information([text])


def test_real_text_and_short_text_are_kept() -> None:
    assert sparse.low_information([real_text(300_000)]) is None
    assert sparse.low_information(["x" * 1000]) is None  # short: never judged
    assert sparse.low_information([real_text(50_000), "0" * 10]) is None


def test_head_and_cap_say_how_much_was_kept() -> None:
    sections = [Section(real_text(1000, seed=i)) for i in range(10)]
    kept, share = sparse.head(sections, 2500)
    assert sum(len(s.text) for s in kept) == 2500 and share == pytest.approx(0.25, abs=0.01)
    chunks, note = sparse.capped(list(range(50)), share, limit=20)
    assert chunks == list(range(20)) and "indexed in part" in note and "10%" in note
    assert sparse.capped(list(range(5)), 1.0, limit=20) == (list(range(5)), None)


def test_text_on_very_long_lines_gets_the_lower_cap() -> None:
    page = "\n".join(real_text(2000, seed=i) for i in range(150))
    assert sparse.chunk_limit([page]) == sparse.MAX_FILE_CHUNKS
    assert sparse.chunk_limit([page.replace("\n", " ")]) == sparse.MAX_LINELESS_CHUNKS
    # a short preface does not hide a one-line dump behind it; a dump quoted in a long text does not cap it
    assert sparse.chunk_limit(["序文\n" * 50, page.replace("\n", " ")]) == sparse.MAX_LINELESS_CHUNKS
    assert sparse.chunk_limit([page + page, "x" * 150_000]) == sparse.MAX_FILE_CHUNKS
    assert sparse.chunk_limit(["x" * 150_000]) == sparse.MAX_FILE_CHUNKS  # small: never judged


@pytest.mark.slow
def test_a_huge_file_is_capped_and_the_rest_comes_first(tmp_path, embedder, monkeypatch) -> None:
    from engine.api import Engine

    monkeypatch.setattr(sparse, "MAX_FILE_CHUNKS", 6)
    monkeypatch.setattr(sparse, "MAX_LINELESS_CHUNKS", 4)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a_huge.log").write_text(real_text(400_000, seed=9).replace("\n", " "), encoding="utf-8")
    (folder / "a_long.md").write_text("\n\n".join(real_text(4000, seed=i) for i in range(100)), encoding="utf-8")
    (folder / "b_repeat.log").write_text("-" * 300_000, encoding="utf-8")
    (folder / "c_dump.txt").write_text(base64.b64encode(random.Random(4).randbytes(60_000)).decode(), encoding="utf-8")
    for i in range(3):
        (folder / f"note{i}.md").write_text(f"# 規程 {i}\n\n出張の日当は{i + 2}千円です。\n", encoding="utf-8")
    with Engine(__import__("engine.store", fromlist=["open_store"]).open_store(tmp_path / "x.duckdb"),
                embedder=embedder) as engine:
        engine.libraries.add(folder, "docs")
        result = engine.libraries.index("docs")
        docs = {d.path: d for d in engine.libraries.documents("docs")}
        assert docs["a_huge.log"].status == "indexed" and docs["a_huge.log"].chunks == 4  # one line
        assert docs["a_long.md"].chunks == 6 and docs["a_long.md"].reason.startswith("indexed in part")
        assert docs["a_huge.log"].reason.startswith("indexed in part")
        assert docs["b_repeat.log"].status == "skipped" and "no information" in docs["b_repeat.log"].reason
        assert docs["c_dump.txt"].status == "skipped" and "base64" in docs["c_dump.txt"].reason
        assert all(docs[f"note{i}.md"].status == "indexed" for i in range(3))
        assert any("indexed in part" in reason for _, reason in result.skips)
        assert engine.search("日当", k=3, mode="dense")
        cur = engine._store.cursor()
        order = [row[0] for row in cur.execute("SELECT path FROM documents ORDER BY id").fetchall()]
        cur.close()
    # written in size order: the notes before the huge file, though it sorts first by name
    assert all(order.index(f"note{i}.md") < order.index("a_huge.log") for i in range(3)), order
