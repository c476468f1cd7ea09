"""Training data import: every accepted form, and every bad row reported with its line."""

from __future__ import annotations

import json

import pytest

from engine.errors import DatasetError
from engine.finetune import dataset


def write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_forms_and_bad_rows(tmp_path):
    good = [
        {"messages": [{"role": "system", "content": "丁寧に答える"}, {"role": "user", "content": "出張の日当は?"},
                      {"role": "assistant", "content": "4,700円です。"}]},
        {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]},
        {"instruction": "Translate", "input": "猫", "output": "cat"},
        {"prompt": "2+2?", "completion": "4"},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "parts"}]},
                      {"role": "assistant", "content": "ok"}]},
    ]
    lines = [json.dumps(g, ensure_ascii=False) for g in good] + [
        '{"messages": [{"role": "user", "content": "broken"}',                                   # 6
        json.dumps({"messages": [{"content": "no role"}, {"role": "assistant", "content": "x"}]}),  # 7
        json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "  "}]}),  # 8
        json.dumps({"messages": [{"role": "user", "content": "only a question"}]}),             # 9
        json.dumps({"messages": [{"role": "robot", "content": "q"}, {"role": "assistant", "content": "a"}]}),  # 10
        "",
        json.dumps({"text": "unknown form"}),                                                  # 12
        json.dumps([1, 2]),                                                                     # 13
    ]
    ds = dataset.read_file(write(tmp_path / "d.jsonl", lines))
    assert len(ds.examples) == 5
    assert ds.examples[0]["messages"][0] == {"role": "system", "content": "丁寧に答える"}
    assert ds.examples[1]["messages"][1] == {"role": "assistant", "content": "Hello!"}
    assert ds.examples[2]["messages"][0]["content"] == "Translate\n\n猫"
    reasons = {p.line: p.reason for p in ds.problems}
    assert set(reasons) == {6, 7, 8, 9, 10, 12, 13}
    assert "not valid JSON" in reasons[6]
    assert "no role" in reasons[7]
    assert "empty" in reasons[8]
    assert "last message must be the assistant" in reasons[9]
    assert "robot" in reasons[10]


def test_csv_japanese_headers_in_shift_jis(tmp_path):
    text = "質問,回答\n出張の日当は?,4700円\nパスワードの長さは?,14文字以上\n空の答え,\n"
    path = tmp_path / "qa.csv"
    path.write_bytes(text.encode("cp932"))
    ds = dataset.read_file(path)
    assert [e["messages"][1]["content"] for e in ds.examples] == ["4700円", "14文字以上"]
    assert [(p.line, "empty" in p.reason) for p in ds.problems] == [(4, True)]
    with pytest.raises(DatasetError, match="question and an answer column"):
        dataset.read_csv("a,b\n1,2\n", "x.csv")


def test_split_is_stable_and_lengths_are_checked(tmp_path):
    rows = [json.dumps({"prompt": f"question {i}", "completion": f"answer {i} " + "word " * i}) for i in range(40)]
    ds = dataset.read_file(write(tmp_path / "d.jsonl", rows))
    train, held = ds.split(0.1)
    assert len(held) == 4 and len(train) == 36
    again = dataset.read_file(write(tmp_path / "e.jsonl", list(reversed(rows))))
    assert sorted(dataset._flat(e) for e in again.split(0.1)[1]) == sorted(dataset._flat(e) for e in held)
    words = lambda text: len(text.split())  # noqa: E731 - a stand-in tokenizer
    long_ones = ds.check_lengths(words, 30)
    assert long_ones and all("longer than the sequence length 30" in p.reason for p in long_ones)
    assert ds.summary(words)["tokens_max"] == max(ds.token_lengths(words))
    out = tmp_path / "train.jsonl"
    assert dataset.write_jsonl(train, out) == 36
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert set(first) == {"messages"}


def test_from_the_apps_conversations(tmp_path):
    from engine.chat.conversations import Conversations
    from engine.store import open_store

    store = open_store(tmp_path / "b.duckdb")
    convs = Conversations(store)
    c = convs.create("t")
    convs.add_message(c.id, "user", "日当は?")
    convs.add_message(c.id, "assistant", "4,700円です。")
    convs.add_message(c.id, "user", "宿泊は?")
    convs.add_message(c.id, "assistant", "途中で", status="stopped")
    ds = dataset.from_conversations([convs.messages(c.id)])
    assert [m["content"] for m in ds.examples[0]["messages"]] == ["日当は?", "4,700円です。"]
    store.close()


def test_unreadable_inputs(tmp_path):
    with pytest.raises(DatasetError, match="no file"):
        dataset.read_file(tmp_path / "missing.jsonl")
    (tmp_path / "x.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(DatasetError, match=".jsonl"):
        dataset.read_file(tmp_path / "x.txt")
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00\x81\x00")
    with pytest.raises(DatasetError, match="neither UTF-8 nor Shift_JIS"):
        dataset.read_file(tmp_path / "bin.jsonl")
