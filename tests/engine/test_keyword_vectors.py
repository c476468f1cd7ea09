"""Keyword tokenisation and index maintenance; the dense index's exact and binary paths."""

from __future__ import annotations

import numpy as np

from engine.search import keyword
from engine.store import open_store
from engine.search.vectors import VectorIndex


def test_japanese_is_segmented_and_one_kanji_queries_match() -> None:
    terms = keyword.tokenize("出張の日当は３，０００円。The Per-Diem ｶﾀｶﾅ")
    assert "日当" in terms and "出張" in terms and "税" not in terms
    assert "日" in terms  # single kanji, for one-character queries
    assert "per" in terms and "diem" in terms and "the" not in terms
    assert "カタ" in terms  # half-width katakana normalised
    assert keyword.tokenize("税") == ["税"]


def test_keyword_search_ranks_and_survives_compaction(tmp_path) -> None:
    store = open_store(tmp_path / "kw.duckdb")
    texts = {
        1: "出張の日当は3,000円とする。",
        2: "宿泊費は実費とする。",
        3: "日当と宿泊費の精算は翌月に行う。",
        4: "Per diem is paid for meals.",
    }
    with store.transaction() as cur:
        cur.execute("INSERT INTO chunks (id, document_id, library_id, ord, text) "
                    "SELECT i, i, 1, 0, 'x' FROM range(1, 5) t(i)")
        keyword.add_postings(cur, keyword.postings_for([(c, 1, t) for c, t in texts.items()], 20))
    cur = store.cursor()
    before = keyword.search(cur, "日当はいくら", 3)
    assert before[0][0] == 1 and {c for c, _ in before} == {1, 3}
    assert keyword.search(cur, "per diem", 3)[0][0] == 4
    assert keyword.search(cur, "日当", 3, library_ids=[2]) == []
    with store.transaction() as tx:
        keyword.compact(tx)
    assert keyword.tail_rows(cur)[1] == 0
    assert keyword.search(cur, "日当はいくら", 3) == before
    store.close()


def clustered(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, dim)) + 2.0  # a shared offset, like real embeddings
    x = centres[rng.integers(0, 50, n)] + 0.4 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_binary_search_agrees_with_exact_search() -> None:
    x = clustered(20_000)
    exact = VectorIndex(64, exact_limit=10**9)
    binary = VectorIndex(64, exact_limit=1_000)
    for index in (exact, binary):
        index.add(np.arange(len(x)), np.zeros(len(x), np.int32), x)
    rng = np.random.default_rng(1)
    recall = []
    for q in x[rng.integers(0, len(x), 20)] + 0.05 * rng.standard_normal((20, 64)).astype(np.float32):
        q = q / np.linalg.norm(q)
        truth = {i for i, _ in exact.search(q, 10)}
        recall.append(len(truth & {i for i, _ in binary.search(q, 10)}) / 10)
    assert np.mean(recall) >= 0.9


def test_vector_filters_removal_and_appends() -> None:
    x = clustered(3_000)
    index = VectorIndex(64, exact_limit=1_000)
    index.add(np.arange(3_000), np.repeat(np.array([1, 2, 3], np.int32), 1_000), x)
    q = x[10]
    assert index.search(q, 1)[0][0] == 10
    assert all(1_000 <= i < 2_000 for i, _ in index.search(q, 5, library_ids=[2]))
    assert [i for i, _ in index.search(q, 3, allowed_ids=np.array([5, 6, 7]))] != []
    index.remove(np.array([10]))
    assert 10 not in {i for i, _ in index.search(q, 5)}
    index.add(np.array([99_999]), np.array([1], np.int32), x[10:11])
    assert index.search(q, 1)[0][0] == 99_999
    index.remove_library(1)
    assert all(i >= 1_000 for i, _ in index.search(q, 10)) and len(index) == 2_000


def test_duckdb_extensions_load_from_their_packages_offline(tmp_path) -> None:
    store = open_store(tmp_path / "ext.duckdb")
    for name in ("vss", "fts"):
        store.load_extension(name)
    loaded = {row[0] for row in store.con.execute(
        "SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
    assert {"vss", "fts"} <= loaded
    assert store.con.execute("SELECT stem('running', 'english')").fetchone()[0] == "run"
    store.close()


def test_keyword_scores_match_a_plain_bm25(tmp_path, monkeypatch) -> None:
    import math
    import random

    rng = random.Random(3)
    words = ["出張", "日当", "宿泊費", "休暇", "申請", "承認", "社員", "会社", "規程", "支給", "travel", "leave"]
    texts = {i: "".join(rng.choice(words) + rng.choice(["は", "の", "を", "、"]) for _ in range(rng.randint(3, 30)))
             for i in range(1, 301)}
    store = open_store(tmp_path / "bm25.duckdb")
    with store.transaction() as cur:
        cur.executemany("INSERT INTO chunks (id, document_id, library_id, ord, text) VALUES (?, ?, 1, 0, ?)",
                        [(c, c, t) for c, t in texts.items()])
        cur.execute("INSERT INTO meta VALUES ('kw_avgdl', '40')")
        keyword.add_postings(cur, keyword.postings_for([(c, 1, t) for c, t in texts.items()], 40))
        keyword.compact(cur)

    def reference(query: str, k: int) -> list[int]:
        postings = {c: dict(zip(*keyword.weights(t, 40)[:2])) for c, t in texts.items()}
        terms = {keyword.term_hash(t) for t in keyword.tokenize(query)}
        df = {t: sum(t in p for p in postings.values()) for t in terms}
        idf = {t: math.log(1 + (300 - d + 0.5) / (d + 0.5)) for t, d in df.items() if d}
        scores = {c: sum(idf[t] * p[t] for t in idf if t in p) for c, p in postings.items()}
        return sorted((c for c in scores if scores[c] > 0), key=lambda c: (-scores[c], c))[:k]

    cur = store.cursor()
    for query in ("出張の日当", "休暇申請の承認", "travel 規程"):
        assert [c for c, _ in keyword.search(cur, query, 10)] == reference(query, 10)
        # Common terms read only their best-weighted postings; candidates are re-scored exactly.
        monkeypatch.setattr(keyword, "EXACT_POSTINGS", 0)
        monkeypatch.setattr(keyword, "PER_TERM", 60)
        monkeypatch.setattr(keyword, "CANDIDATES", 60)
        assert [c for c, _ in keyword.search(cur, query, 10)] == reference(query, 10)
        monkeypatch.undo()
    store.close()


def test_a_version_1_database_is_migrated(tmp_path) -> None:
    import duckdb

    from engine.store.schema import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(path))
    for statement in MIGRATIONS[0]:
        con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO kw_main VALUES (7, 1, 1, 1.0), (7, 2, 1, 0.5), (9, 2, 1, 1.0)")
    con.close()
    store = open_store(path)
    assert store.schema_version() == SCHEMA_VERSION
    assert sorted(store.con.execute("SELECT term, df FROM kw_df").fetchall()) == [(7, 2), (9, 1)]
    store.close()


def test_adding_appends_into_spare_room_instead_of_rebuilding() -> None:
    """The first search after an add writes the new rows in place: no copy of the index."""
    x = clustered(6_000, seed=3)
    index = VectorIndex(64, exact_limit=1_000)
    index.add(np.arange(5_000), np.zeros(5_000, np.int32), x[:5_000])
    index.search(x[0], 5)  # int8 rows and sign codes exist now
    vecs, codes, copies = index._vecs, index._codes[0], index.copies
    assert index.capacity > 5_000
    index.add(np.arange(5_000, 5_500), np.zeros(500, np.int32), x[5_000:5_500])
    top = index.search(x[5_200], 3)
    assert top[0][0] == 5_200  # a new row is found at once, through the codes
    assert index._vecs is vecs and index._codes[0] is codes and index.copies == copies
    assert len(index) == 5_500


def test_removed_rows_are_shed_and_the_rest_still_found() -> None:
    x = clustered(4_000, seed=4)
    index = VectorIndex(64, exact_limit=1_000)
    index.add(np.arange(4_000), np.zeros(4_000, np.int32), x)
    index.search(x[0], 3)
    index.remove(np.arange(0, 2_000))
    assert len(index) == 2_000 and index.search(x[10], 1)[0][0] != 10
    index.add(np.array([9_999]), np.zeros(1, np.int32), x[10:11])  # the next add sheds the dead half
    assert len(index) == 2_001 and index._n == 2_001
    assert index.search(x[10], 1)[0][0] == 9_999
    assert index.search(x[3_000], 1)[0][0] == 3_000


def test_loaded_index_has_room_to_grow(tmp_path) -> None:
    store = open_store(tmp_path / "v.duckdb")
    x = clustered(3_000, seed=5)
    with store.transaction() as cur:
        cur.register("v", {"chunk_id": np.arange(1, 3_001), "library_id": np.ones(3_000, np.int32),
                           "vec": np.array([r.tobytes().hex() for r in x], dtype=str)})
        cur.execute("INSERT INTO embeddings SELECT chunk_id, library_id, unhex(vec) FROM v")
    index = VectorIndex(64, exact_limit=1_000)
    index.load(store.cursor(), [1])
    index.search(x[0], 3)
    copies = index.copies
    index.add(np.array([5_000]), np.ones(1, np.int32), x[7:8])
    assert {c for c, _ in index.search(x[7], 2)} == {8, 5_000} and index.copies == copies
    store.close()
