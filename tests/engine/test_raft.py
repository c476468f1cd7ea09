"""RAG-style (RAFT) training examples on a real library: real DuckDB, the real e5 embedder,
the chat's own retrieval and prompt code."""

from __future__ import annotations

import pytest

from engine.api import Engine, RaftOptions
from engine.chat import prompt as chat_prompt
from engine.errors import DatasetError
from engine.finetune import raft
from engine.finetune.dataset import Dataset

OFFICES = [  # (place, city, year, manager): one document each, one fact per question
    ("Aomori", "Hirosaki", 1998, "Ms. Tanabe"), ("Baltic", "Riga", 2004, "Mr. Ozols"),
    ("Cascade", "Bend", 2011, "Ms. Harlow"), ("Danube", "Linz", 1995, "Mr. Gruber"),
    ("Everest", "Pokhara", 2016, "Ms. Gurung"), ("Fjord", "Bergen", 2001, "Mr. Haugen"),
    ("Gobi", "Dalanzadgad", 2019, "Ms. Bold"), ("Hokuriku", "Kanazawa", 2008, "Mr. Mori"),
    ("Iberia", "Zaragoza", 1999, "Ms. Lozano"), ("Jura", "Besancon", 2013, "Mr. Faivre"),
    ("Kyushu", "Kumamoto", 2006, "Ms. Ogata"), ("Lapland", "Rovaniemi", 2017, "Mr. Niemi"),
]


def _pairs() -> list[dict]:
    out = []
    for place, city, year, _manager in OFFICES:
        for q, a in ((f"In which city is the {place} office of Kestrel Tools?", city),
                     (f"In what year did Kestrel Tools open its {place} office?", str(year))):
            out.append({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
                        "_line": len(out) + 1})
    return out


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder_dir):
    root = tmp_path_factory.mktemp("raft")
    docs = root / "docs"
    docs.mkdir()
    for place, city, year, manager in OFFICES:
        (docs / f"{place.lower()}.md").write_text(
            f"# The {place} office\n\nKestrel Tools opened its {place} office in {year}. The {place} office is in "
            f"the city of {city}, close to the central station. {manager} manages the {place} office and "
            f"answers questions about its opening hours.\n", encoding="utf-8")
    (docs / "security.md").write_text(
        "# セキュリティ規程\n\nパスワードは14文字以上とし、180日ごとに変更する。同じパスワードを他のサービスで"
        "使ってはならない。漏えいの疑いがあるときは直ちに情報システム部へ連絡する。\n", encoding="utf-8")
    engine = Engine.open(root / "b.duckdb", embedder_dir)
    engine.libraries.add(docs, "offices")
    engine.libraries.index("offices")
    yield engine
    engine.close()


class _Recorder:
    """What prompt.build hands a model: the chat messages (a remote model takes them as they are)."""
    n_ctx = 32768

    def encode(self, template, messages):
        return [(m.role, m.content) for m in messages], 100


def test_options_are_checked():
    for bad in (RaftOptions(format="mixed"), RaftOptions(k=0), RaftOptions(gold_share=1.5),
                RaftOptions(when_absent="guess")):
        with pytest.raises(DatasetError):
            bad.check()


def test_supporting_sentence_holds_the_answer_in_english_and_japanese():
    text = "# Office\n\nIt opened in 1998. The office is in the city of Hirosaki, near the station. It is small."
    assert raft.supporting_sentence(text, "Hirosaki") == "The office is in the city of Hirosaki, near the station."
    ja = "パスワードは14文字以上とする。180日ごとに変更する。"
    assert raft.supporting_sentence(ja, "１８０日") == "180日ごとに変更する。"   # width does not matter


@pytest.mark.slow   # indexes a library with the real embedder (once per module)
def test_gold_share_citation_and_quote(library):
    pairs = _pairs()
    ds = library.jobs.raft_examples("offices", pairs, RaftOptions(gold_share=0.75, seed=3))
    assert ds.problems == []
    assert len(ds.examples) == len(pairs) and all(e["_kind"] == "raft" for e in ds.examples)
    with_gold = [e for e in ds.examples if e["_raft"]["gold_number"]]
    assert len(with_gold) == round(0.75 * len(pairs))
    for e, pair in zip(ds.examples, pairs):
        system, user, assistant = e["messages"]
        answer = pair["messages"][1]["content"]
        info = e["_raft"]
        assert len(info["chunks"]) == 4 and system["role"] == "system"
        n = info["gold_number"]
        if n:   # cited as the chat cites, the sentence quoted as the chat quotes
            assert info["chunks"][n - 1] == info["gold_chunk"]
            assert assistant["content"].startswith(f"{answer} [{n}]")
            quoted = assistant["content"].split("\n\n", 1)[1]
            assert quoted.startswith("> “") and answer in quoted and quoted.endswith(f"” [{n}]")
            assert f"[{n}] " in user["content"]
        else:   # only distractors: none of them holds the answer, and the answer cites nothing
            assert info["gold_chunk"] not in info["chunks"]
            assert assistant["content"] == answer
            sources = user["content"].split("Question:")[0]
            assert f"city of {answer}" not in sources and f"in {answer}." not in sources


@pytest.mark.slow   # indexes a library with the real embedder (once per module)
def test_the_prompt_is_the_chats_own(library):
    pairs = _pairs()
    ds = library.jobs.raft_examples("offices", pairs, RaftOptions(gold_share=1.0))
    checked = 0
    for e, pair in zip(ds.examples, pairs):
        question = pair["messages"][0]["content"]
        sources = library.chat.retrieve(question, ["offices"], k=4)
        if [s.chunk_id for s in sources] != e["_raft"]["chunks"]:
            continue   # the gold passage was not in the chat's top 4: it was put in by the builder
        built = chat_prompt.build(_Recorder(), None, None, [], question,
                                  [chat_prompt.PromptSource(s.number, s.label, s.text) for s in sources], True, 256)
        assert built.payload == [(m["role"], m["content"]) for m in e["messages"][:2]]
        checked += 1
    assert checked >= len(pairs) // 2


@pytest.mark.slow   # indexes a library with the real embedder (once per module)
def test_held_out_passages_stay_out_of_training(library):
    train, held = Dataset(_pairs()).split(0.25)
    assert held
    ds = library.jobs.raft_examples("offices", train, RaftOptions(gold_share=1.0, k=6), held_out=held)
    held_gold = {raft.find_gold(h["messages"][1]["content"],
                                library.search(h["messages"][0]["content"], k=10, libraries=["offices"])).chunk_id
                 for h in held}
    used = {c for e in ds.examples for c in e["_raft"]["chunks"]}
    assert held_gold and not used & held_gold
    held_questions = {h["messages"][0]["content"] for h in held}
    assert not any(e["messages"][1]["content"].endswith(q) for e in ds.examples for q in held_questions)
    # a training question about the same office as a held-out one loses its example, and says why
    assert len(ds.examples) + len(ds.problems) == len(train)
    assert all("held-out" in p.reason for p in ds.problems)


@pytest.mark.slow   # indexes a library with the real embedder (once per module)
def test_same_seed_same_examples_and_both_keeps_the_plain_pairs(library):
    pairs = _pairs()
    a = library.jobs.raft_examples("offices", pairs, RaftOptions(seed=7))
    b = library.jobs.raft_examples("offices", pairs, RaftOptions(seed=7))
    c = library.jobs.raft_examples("offices", pairs, RaftOptions(seed=8))
    assert [e["messages"] for e in a.examples] == [e["messages"] for e in b.examples]
    def gold(ds):
        return [bool(e["_raft"]["gold_number"]) for e in ds.examples]

    assert gold(a) != gold(c)
    both = library.jobs.raft_examples("offices", pairs, RaftOptions(format="both"))
    assert [e["_kind"] for e in both.examples] == ["plain"] * len(pairs) + ["raft"] * len(pairs)
    assert library.jobs.raft_examples("offices", pairs, RaftOptions(format="plain")).examples == \
        [dict(p, _kind="plain") for p in pairs]


@pytest.mark.slow   # indexes a library with the real embedder (once per module)
def test_declines_without_gold_and_drafted_chunk_is_the_gold(library):
    pairs = _pairs()[:4]
    ds = library.jobs.raft_examples("offices", pairs, RaftOptions(gold_share=0.0, when_absent="decline"))
    assert all(e["messages"][2]["content"] == raft.NOT_IN_SOURCES["en"] for e in ds.examples)
    # a pair drafted from the security passage: its chunk is the gold one, though the answer is not verbatim
    chunk = library.search("パスワード 180日", k=1, libraries=["offices"])[0].chunk_id
    drafted = [{"messages": [{"role": "user", "content": "パスワードはいつ変更しますか？"},
                             {"role": "assistant", "content": "半年ごとに変更します。"}], "_chunk": chunk}]
    [e] = library.jobs.raft_examples("offices", drafted, RaftOptions(gold_share=1.0)).examples
    assert e["_raft"]["gold_chunk"] == chunk and e["_raft"]["gold_number"]
    assert "資料:" in e["messages"][1]["content"] and "「" in e["messages"][2]["content"]
    # a question nobody's passage answers is reported, not made up
    lost = [{"messages": [{"role": "user", "content": "What colour is the logo?"},
                          {"role": "assistant", "content": "Vermilion"}], "_line": 9}]
    ds = library.jobs.raft_examples("offices", lost)
    assert ds.examples == [] and ds.problems[0].line == 9 and "contains the answer" in ds.problems[0].reason


@pytest.mark.slow   # indexes a small library of its own
def test_cli_prepare_builds_the_examples_and_keeps_held_out_pairs_beside(tmp_path, embedder_dir, capsys):
    import csv
    import json

    from engine.cli.commands import main

    docs = tmp_path / "docs"
    docs.mkdir()
    for place, city, year, _ in OFFICES:
        (docs / f"{place.lower()}.md").write_text(f"The {place} office of Kestrel Tools is in {city}; it opened "
                                                  f"in {year}.\n", encoding="utf-8")
    pairs = tmp_path / "pairs.csv"
    with pairs.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["question", "answer"])
        for p in _pairs():
            w.writerow([m["content"] for m in p["messages"]])
    db = ["--db", str(tmp_path / "c.duckdb"), "--embedder", str(embedder_dir)]
    assert main([*db, "index", str(docs), "--name", "offices"]) == 0
    capsys.readouterr()
    out = tmp_path / "train.jsonl"
    extra = tmp_path / "new.csv"   # kept out besides the split, as the four-arm table's new questions are
    extra.write_text("question,answer\nWhere is the head office of Kestrel Tools?,Sapporo\n", encoding="utf-8")
    assert main([*db, "finetune", "prepare", str(pairs), "--format", "both", "--library", "offices",
                 "--eval-share", "0.25", "--held-out", str(extra), "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["held_out"] == 7 and report["raft"]["plain_examples"] == 18
    assert report["raft"]["raft_examples"] + len(report["raft_problems"]) == 18
    assert report["preview"][0][0]["role"] == "user"      # plain pairs come first in "both"
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == report["training_examples"] and all(set(r) == {"messages"} for r in rows)
    held = [json.loads(line) for line in (tmp_path / "train.held-out.jsonl").read_text(encoding="utf-8").splitlines()]
    held_questions = {h["messages"][0]["content"] for h in held}
    assert len(held) == 7 and not any(r["messages"][-2]["content"].endswith(q) or r["messages"][0]["content"] == q
                                      for r in rows for q in held_questions)
    assert main([*db, "finetune", "prepare", str(pairs), "--format", "raft"]) != 0   # no --library: said so
    assert "--library" in capsys.readouterr().err
