"""What RAG cost to prepare, in the comparison lab's table: each library's indexing time (summed
over the indexing runs that wrote something, kept in the database since schema 11) and the
size of its index. Real embedder, real DuckDB file; no chat model is loaded."""

from __future__ import annotations

import duckdb

from engine.api import Engine
from engine.cli.commands import main
from engine.lab.questions import make
from engine.store.schema import SCHEMA_VERSION


def _docs(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Travel\n\nThe per diem is 45 dollars a day.\n", encoding="utf-8")
    (docs / "b.md").write_text("# Parking\n\nStaff park in the north lot.\n", encoding="utf-8")
    return docs


def test_indexing_time_is_recorded_and_shown_as_preparation_cost(tmp_path, embedder_dir, capsys):
    docs = _docs(tmp_path)
    db = tmp_path / "db.duckdb"
    with Engine.open(db, embedder_dir) as engine:
        lib = engine.libraries.add(docs, "rules")
        assert lib.index_seconds is None  # nothing built yet
        first = engine.libraries.index("rules")
        lib = engine.libraries.get("rules")
        assert 0 < lib.index_seconds <= first.seconds + 1e-6
        engine.libraries.index("rules")  # nothing changed: a pass that builds nothing costs nothing
        assert engine.libraries.get("rules").index_seconds == lib.index_seconds
        (docs / "c.md").write_text("# Lunch\n\nLunch is at noon.\n", encoding="utf-8")
        third = engine.libraries.index("rules")
        total = engine.libraries.get("rules").index_seconds
        assert abs(total - (lib.index_seconds + third.seconds)) < 0.01

        run = engine.lab.create([make("What is the per diem?", ["45 dollars"])], libraries=["rules"],
                                    arms=["rag"], name="prep")
        prep = engine.lab.summary(run.id)["prep"]["RAG index rules"]
        assert prep["index seconds"] == round(total, 2)
        # text + one 384-float vector per chunk + keyword postings
        assert prep["index bytes"] > prep["chunks"] * 384 * 4
    assert main(["--db", str(db), "--embedder", str(embedder_dir), "compare", "show", str(run.id)]) == 0
    out = capsys.readouterr().out
    assert f"preparation, RAG index rules: documents 3, chunks {prep['chunks']}" in out
    assert f"index seconds {round(total, 2)}" in out and "index bytes " in out


def test_a_schema_10_database_gains_the_columns_and_says_not_recorded(tmp_path, embedder_dir):
    docs = _docs(tmp_path)
    db = tmp_path / "old.duckdb"
    with Engine.open(db, embedder_dir) as engine:
        engine.libraries.index(engine.libraries.add(docs, "rules").name)
    con = duckdb.connect(str(db))  # as Bunko with schema 10 left it
    con.execute("ALTER TABLE libraries DROP COLUMN index_seconds")
    con.execute("ALTER TABLE libraries DROP COLUMN last_index_seconds")
    con.execute("UPDATE meta SET value = '10' WHERE key = 'schema_version'")
    con.execute("CHECKPOINT")
    con.close()
    with Engine.open(db, embedder_dir) as engine:
        assert engine._store.schema_version() == SCHEMA_VERSION >= 11
        lib = engine.libraries.get("rules")
        assert lib.index_seconds is None and lib.chunks == 2
        run = engine.lab.create([make("Where do staff park?", ["north lot"])], libraries=["rules"], arms=["rag"])
        assert engine.lab.summary(run.id)["prep"]["RAG index rules"]["index seconds"] == "not recorded"
        (docs / "b.md").write_text("# Parking\n\nStaff park in the east lot.\n", encoding="utf-8")
        engine.libraries.index("rules")
        assert engine.libraries.get("rules").index_seconds > 0
