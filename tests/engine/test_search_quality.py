"""Retrieval quality parts: stemming and stop words, the fusion rules, and a keyword
index built by an older Bunko (searched by its own rules, then rebuilt with progress)."""

from __future__ import annotations

import pytest

from engine.cancel import CancelToken
from engine.errors import Cancelled
from engine.library.records import LibraryRecords
from engine.search import keyword, retrieve
from engine.store import open_store
from engine.store.schema import SCHEMA_VERSION


def test_latin_words_are_stemmed_and_function_words_dropped() -> None:
    terms = keyword.tokenize("Which policies would apply when travelling? The travel policy!")
    assert terms.count("polici") == 2 and terms.count("travel") == 2
    assert not {"which", "would", "when", "the"} & set(terms)
    assert keyword.tokenize("not after 3000 v2 USB") == ["not", "after", "3000", "v2", "usb"]
    # Japanese is untouched: bigrams plus single kanji, as before.
    assert keyword.tokenize("出張旅費") == keyword.tokenize("出張旅費", version=1)


def test_version_one_rules_are_kept_for_old_indexes() -> None:
    assert keyword.tokenize("Which policies apply", version=1) == ["which", "policies", "apply"]


def test_stemmed_query_finds_other_word_forms(tmp_path) -> None:
    store = open_store(tmp_path / "kw.duckdb")
    texts = {1: "Employees may claim travelling expenses.", 2: "The office opens at nine."}
    _fill(store, texts, keyword.KW_VERSION)
    cur = store.cursor()
    assert [c for c, _ in keyword.search(cur, "travel expense", 2)] == [1]
    store.close()


def _fill(store, texts: dict[int, str], version: int) -> None:
    with store.transaction() as cur:
        for cid, text in texts.items():
            cur.execute("INSERT INTO chunks (id, document_id, library_id, ord, text) VALUES (?, ?, 1, 0, ?)",
                        [cid, cid, text])
        keyword.add_postings(cur, keyword.postings_for([(c, 1, f"\n{t}") for c, t in texts.items()], 20, version))
        keyword.compact(cur)


def _old_database(path) -> None:
    """A database from before the keyword rules were recorded (schema 7), its postings written by
    the version-1 rules."""
    store = open_store(path)
    _fill(store, {1: "Our travel policies for employees.", 2: "出張の日当は3,000円とする。"}, version=1)
    with store.transaction() as cur:
        cur.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
        cur.execute("DELETE FROM meta WHERE key = 'kw_version'")
    store.close()


def test_an_old_keyword_index_keeps_working_then_is_rebuilt(tmp_path) -> None:
    db = tmp_path / "old.duckdb"
    _old_database(db)
    store = open_store(db)  # migrates on from schema 7: the postings are marked version 1
    cur = store.cursor()
    assert store.schema_version() == SCHEMA_VERSION and keyword.index_version(cur) == 1
    assert [c for c, _ in keyword.search(cur, "policies", 2)] == [1]  # the old rules still match
    assert [c for c, _ in keyword.search(cur, "日当", 2)] == [2]
    seen = []
    assert LibraryRecords(store).upgrade_keywords("lib", seen.append, None) is True
    assert keyword.index_version(cur) == keyword.KW_VERSION
    assert seen and seen[-1].phase == "keywords" and seen[-1].done == seen[-1].total == 2
    assert [c for c, _ in keyword.search(cur, "policy", 2)] == [1]  # stemmed now
    assert [c for c, _ in keyword.search(cur, "日当", 2)] == [2]
    assert LibraryRecords(store).upgrade_keywords("lib", None, None) is False  # once only
    store.close()


def test_a_cancelled_rebuild_leaves_the_old_index(tmp_path) -> None:
    db = tmp_path / "old.duckdb"
    _old_database(db)
    store = open_store(db)
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        keyword.rebuild(store, None, cancel)
    cur = store.cursor()
    assert keyword.index_version(cur) == 1
    assert [c for c, _ in keyword.search(cur, "policies", 2)] == [1]
    store.close()


def test_a_new_database_uses_the_current_rules(tmp_path) -> None:
    store = open_store(tmp_path / "new.duckdb")
    assert keyword.index_version(store.cursor()) == keyword.KW_VERSION
    store.close()


def test_fusion_rules() -> None:
    dense = [(1, 0.9), (2, 0.8), (3, 0.1)]
    kw = [(3, 12.0), (2, 11.0), (4, 1.0)]
    # min-max: 2 is high in both lists; the keyword weight moves 3 above 1 or below it.
    assert [r.chunk_id for r in retrieve.fuse_minmax(dense, kw, 2, 0.5)][0] == 2
    assert [r.chunk_id for r in retrieve.fuse_minmax(dense, kw, 4, 0.8)] == [2, 3, 1, 4]
    assert [r.chunk_id for r in retrieve.fuse_minmax(dense, kw, 4, 0.2)] == [2, 1, 3, 4]
    rrf = retrieve.fuse_rrf(dense, kw, 4, 10)
    scores = {r.chunk_id: r.score for r in rrf}
    assert scores[2] == pytest.approx(2 / 12) and scores[3] == pytest.approx(1 / 13 + 1 / 11)
    assert [r.chunk_id for r in rrf] == [3, 2, 1, 4] and rrf[1].dense_rank == rrf[1].keyword_rank == 2
    assert retrieve.fuse(dense, [], 2)[0].chunk_id == 1  # one list empty: the other decides


def test_query_drops_hiragana_only_bigrams_while_other_terms_remain() -> None:
    terms = keyword.query_terms("大戦が終わったのは何年ですか")
    assert "です" not in terms and "のは" not in terms and "大戦" in terms and "何年" in terms
    assert keyword.query_terms("これはですか") == keyword.tokenize("これはですか")  # nothing else left
    assert "です" in keyword.tokenize("大戦です")  # passages keep every term


def test_japanese_queries_weigh_the_keyword_list_more() -> None:
    dense = [(1, 0.9), (2, 0.5)]
    kw = [(2, 10.0), (1, 7.0)]  # scaled: 2 → 1.0, 1 → 0.0; dense: 1 → 1.0, 2 → 0.0
    assert retrieve.keyword_weight("出張の日当") > retrieve.keyword_weight("per diem") == 0.5
    assert retrieve.fuse(dense, kw, 2, "日当")[0].chunk_id == 2
    assert retrieve.fuse(dense, kw, 2, "per diem")[0].chunk_id == 1  # a tie at 0.5: the lower id
