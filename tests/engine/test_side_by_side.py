"""Side by side: one question answered two ways by the real SmolLM2 (with a library and alone),
one after the other; a failing side does not stop the other; marked pairs become a question
file that the comparison lab reads."""

from __future__ import annotations

import json

import pytest

from engine.api import Engine
from engine.errors import BunkoError
from engine.lab.questions import read_file
from engine.types import GenerationSettings, Side

SHORT = GenerationSettings(temperature=0.0, max_tokens=16, seed=1)


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embedder_dir):
    root = tmp_path_factory.mktemp("sbs")
    docs = root / "docs"
    docs.mkdir()
    (docs / "travel.md").write_text("# Travel\n\nThe per diem for business trips is 45 dollars a day.\n",
                                    encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BUNKO_DATA_DIR", str(root / "data"))
        eng = Engine.open(root / "b.duckdb", embedder_dir)
        eng.libraries.index(eng.libraries.add(docs, "handbook").name)
        try:
            yield eng
        finally:
            eng.close()


@pytest.mark.slow
def test_two_sides_one_after_the_other_and_a_saved_pair(engine, tmp_path) -> None:
    question = "What is the per diem for business trips?"
    sides = [Side(libraries=("handbook",)), Side()]
    events = list(engine.lab.side_by_side().stream(question, sides, SHORT))
    order = [e.side for e in events]
    assert order == sorted(order) and set(order) == {0, 1}          # A whole, then B
    done = {e.side: e for e in events if e.kind == "done"}
    assert [e.kind for e in events if e.side == 0][0] == "start"
    a, b = done[0].answer, done[1].answer
    assert a.sources and a.sources[0].path == "travel.md" and not b.sources
    assert a.text and b.text and a.model == b.model == "smollm2-135m"
    assert done[0].first_token_s is not None and done[0].elapsed_s >= done[0].first_token_s
    tokens = [e for e in events if e.kind == "token" and e.side == 1]
    assert "".join(e.text for e in tokens).strip() == b.text.strip()

    target = tmp_path / "pairs.jsonl"
    engine.lab.side_by_side().save(question, [a, b], 0, sides, target)
    engine.lab.side_by_side().save("Who cleans the coffee machine?", [a, b], 1, sides, target)
    engine.lab.side_by_side().save(question, [a, b], 1, sides, target)    # marked again: replaces
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2 and rows[1]["better"] == "B" and rows[1]["answer"] == b.text.strip()
    assert rows[1]["rejected"] == a.text.strip() and rows[1]["sides"][0]["libraries"] == ["handbook"]
    qs = read_file(target)                                              # what the lab reads
    assert [q.text for q in qs.questions] == ["Who cleans the coffee machine?", question]
    assert qs.questions[1].references == (b.text.strip(),) and not qs.problems
    with pytest.raises(BunkoError, match="Mark answer A or B"):
        engine.lab.side_by_side().save(question, [a, b], 2, sides, target)


def test_a_side_that_cannot_answer_says_why_and_the_other_still_runs(engine) -> None:
    events = list(engine.lab.side_by_side().stream("hello", [Side(model="no-such-model"), Side(libraries=("nope",))],
                                               SHORT))
    errors = [e for e in events if e.kind == "error"]
    assert [e.side for e in errors] == [0, 1]
    assert "no-such-model" in errors[0].error and "nope" in errors[1].error
    with pytest.raises(BunkoError, match="exactly two"):
        list(engine.lab.side_by_side().stream("hello", [Side()], SHORT))
