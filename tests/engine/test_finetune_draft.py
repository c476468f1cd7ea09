"""Drafting question–answer pairs from a library with the real embedded model."""

from __future__ import annotations

from engine.api import CancelToken, Engine, LoadSettings
from engine.finetune.draft import parse


def test_parse_accepts_english_and_japanese_labels_and_refuses_other_shapes():
    assert parse("Q: How much is the allowance?\nA: 4,700 yen a day.") == ("How much is the allowance?",
                                                                            "4,700 yen a day.")
    assert parse("質問：日当はいくら?\n回答：4,700円です。") == ("日当はいくら?", "4,700円です。")
    assert parse("The allowance is 4,700 yen.") is None
    assert parse("Q: only a question") is None


def test_draft_from_a_library(tmp_path, embedder_dir):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "travel.md").write_text(
        "# Travel policy\n\n## Daily allowance\nEmployees on a business trip receive a daily allowance of "
        "4,700 yen per day. Overnight trips add a lodging allowance of 9,800 yen per night. Receipts are "
        "not needed for the daily allowance.\n", encoding="utf-8")
    (docs / "security.md").write_text(
        "# セキュリティ規程\n\n## パスワード\nパスワードは14文字以上とし、180日ごとに変更する。"
        "同じパスワードを他のサービスで使ってはならない。漏えいの疑いがあるときは直ちに情報システム部へ連絡する。\n",
        encoding="utf-8")
    with Engine.open(tmp_path / "b.duckdb", embedder_dir) as engine:
        engine.libraries.add(docs, "docs")
        engine.libraries.index("docs")
        engine.models.load(None, LoadSettings(n_ctx=2048, n_threads=2))
        seen = []
        ds = engine.jobs.draft_examples("docs", count=2, progress=lambda p: seen.append((p.done, p.total)))
        assert seen == [(1, 2), (2, 2)]
        assert len(ds.examples) + len(ds.problems) == 2   # each passage gives a pair or a stated problem
        for ex in ds.examples:
            user, assistant = ex["messages"]
            assert user["role"] == "user" and user["content"] and assistant["content"]
        stop = CancelToken()
        stop.cancel()
        assert engine.jobs.draft_examples("docs", count=2, cancel=stop).examples == []
