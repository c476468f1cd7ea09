"""The comparison lab with real parts: the embedded SmolLM2, a LoRA adapter trained in this
session on a made-up fact (lora_fixture.train_mascot_adapter), a real library indexed with
the real embedder, runs stored in a real DuckDB file."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from html.parser import HTMLParser

import pytest

from engine.api import Engine
from engine.errors import CompareError
from engine.lab.questions import make
from tests.engine.lora_fixture import MASCOT_FACT, MASCOT_QUESTIONS

pytestmark = pytest.mark.slow

OTHER_DOC = "# Office hours\n\nThe Bunko office opens at nine and closes at six. Lunch is at noon.\n"


@pytest.fixture
def lab(tmp_path, mascot_db, embedder_dir):
    """An engine on a copy of the trained database, with a library holding the fact."""
    db = tmp_path / "db.duckdb"
    shutil.copy(mascot_db, db)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "mascot.md").write_text(f"# Our mascot\n\n{MASCOT_FACT} Kaname likes rivers.\n", encoding="utf-8")
    (docs / "office.md").write_text(OTHER_DOC, encoding="utf-8")
    with Engine.open(db, embedder_dir, jobs_root=mascot_db.parent / "jobs") as engine:
        engine.libraries.add(docs, "facts")
        engine.libraries.index("facts")
        yield engine, docs


QUESTION = MASCOT_QUESTIONS[0]


def table(summary) -> dict:
    return {a["arm"]: a for a in summary["arms"]}


def test_four_arms_freshness_and_exports(lab, tmp_path):
    engine, docs = lab
    questions = [make(QUESTION, ["Kaname"], "mascot.md")]
    run = engine.lab.create(questions, libraries=["facts"], job="mascot", max_tokens=24, name="mascot")
    assert [a.name for a in run.arms] == ["base", "rag", "finetuned", "both"]
    seen = []
    run = engine.lab.run(run.id, progress=seen.append)
    assert run.status == "done" and run.answers == 4
    assert seen[-1].done == seen[-1].total == 4 and seen[-1].unit == "answers" and seen[-1].eta_s == 0
    arms = table(engine.lab.summary(run.id))
    texts = {a.arm: a.text for a in engine.lab.answers(run.id)[1]}
    assert arms["base"]["accuracy"] == 0, texts
    assert arms["finetuned"]["accuracy"] == 1, texts
    assert arms["rag"]["accuracy"] == 1, texts
    assert arms["both"]["accuracy"] == 1, texts
    assert arms["rag"]["grounded"] == 1 and arms["base"]["grounded"] is None
    assert arms["rag"]["prompt_tokens"] > arms["base"]["prompt_tokens"]  # the passages were in the prompt
    assert all(a["tokens_per_s"] > 0 and a["ttft_s"] > 0 for a in arms.values())
    prep = engine.lab.summary(run.id)["prep"]
    assert prep["RAG index facts"]["chunks"] >= 2 and prep["fine-tune mascot"]["steps"] == 12

    # Freshness: the document changes; RAG follows after re-indexing, the adapter does not.
    (docs / "mascot.md").write_text("# Our mascot\n\nThe Bunko mascot is a green frog named Hoshino. "
                                    "Hoshino likes ponds.\n", encoding="utf-8")
    fresh = engine.lab.refresh(run.id, [make(QUESTION, ["Hoshino"], "mascot.md")])
    assert fresh["round"] == 1 and fresh["changed_files"] == 1 and "steps" in fresh["retrain_estimate"]
    assert fresh["retrain"]["steps"] > 0 and fresh["retrain"]["device"] == "cpu"
    summary = engine.lab.summary(run.id)
    after = summary["freshness"][0]["arms"]
    assert after["rag"]["accuracy"] == 1 and after["finetuned"]["accuracy"] == 0, summary["freshness"]
    assert "rag" in summary["recommendation"] and "followed" in summary["recommendation"]
    assert engine.lab.get(run.id).answers == 4   # the list's "4/4": a freshness round's answers are its own

    # Exports: the HTML parses, the CSV has a row per question and arm (both rounds).
    page = engine.lab.export(run.id, tmp_path / "report.html").read_text(encoding="utf-8")
    tags = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)

    Collect().feed(page)
    assert tags.count("svg") == 2 and "table" in tags and "Hoshino" in page
    rows = list(csv.DictReader(io.StringIO(engine.lab.export(run.id, tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == 8 and {r["arm"] for r in rows} == {"base", "rag", "finetuned", "both"}
    assert {r["round"] for r in rows} == {"0", "1"}


def test_a_killed_run_continues_without_answering_again(lab):
    engine, _docs = lab
    questions = [make(q, ["Kaname"]) for q in MASCOT_QUESTIONS[:2]]
    run = engine.lab.create(questions, libraries=["facts"], arms=["base", "rag"], max_tokens=12)

    def die_after_three(p):
        if p.done == 3:
            raise KeyboardInterrupt  # as if the process died: nothing marks the run finished

    with pytest.raises(KeyboardInterrupt):
        engine.lab.run(run.id, progress=die_after_three)
    assert engine.lab.get(run.id).status == "interrupted"   # its process stopped without a word
    kept = {(a.key, a.arm): a.text for a in engine.lab.answers(run.id)[1]}
    assert len(kept) == 3
    asked = []
    real_stream = engine.lab.runs._stream
    engine.lab.runs._stream = lambda q, o, **kw: (asked.append((q, o.rag)), real_stream(q, o, **kw))[1]
    run = engine.lab.run(run.id)
    assert run.status == "done" and run.answers == 4 and len(asked) == 1
    again = {(a.key, a.arm): a.text for a in engine.lab.answers(run.id)[1]}
    assert {k: again[k] for k in kept} == kept


def test_arms_on_one_model_take_turns_so_a_stopped_run_is_already_paired(lab):
    from engine.api import CancelToken

    engine, _docs = lab
    questions = [make(q, ["Kaname"]) for q in MASCOT_QUESTIONS[:3]]
    run = engine.lab.create(questions, libraries=["facts"], arms=["base", "rag"], max_tokens=8)
    cancel = CancelToken()
    engine.lab.run(run.id, progress=lambda p: p.done == 2 and cancel.cancel(), cancel=cancel)
    kept = engine.lab.answers(run.id)[1]
    assert [(a.key, a.arm) for a in kept] == [(questions[0].key, "base"), (questions[0].key, "rag")]
    [pair] = engine.lab.summary(run.id)["pairs"]
    assert (pair["a"], pair["b"]) == ("base", "rag")


def test_a_second_adapter_is_two_more_arms_in_the_same_run(lab, tmp_path):
    """Plain and RAG-style adapters side by side (issue #27's six arms): each extra adapter is an
    arm NAME and NAME+rag, paired with every other arm and with its own preparation cost."""
    from engine.models.gguf_file import read_gguf_info
    from tests.engine.lora_fixture import write_test_adapter

    engine, docs = lab
    base = engine.models.get("mascot").base_model
    engine.models.add_adapter(write_test_adapter(tmp_path / "z.gguf", read_gguf_info(engine.models.get(base).path)),
                              base, "other-lora")
    q = [make(QUESTION, ["Kaname"], "mascot.md")]
    for bad in (["mascot"], ["rag"]):
        with pytest.raises(CompareError, match="named twice or like an arm"):
            engine.lab.create(q, libraries=["facts"], adapter="mascot", more_adapters=bad)
    with pytest.raises(CompareError, match="'no-such-lora' is not installed"):
        engine.lab.create(q, adapter="mascot", more_adapters=["no-such-lora"])
    first = engine.lab.run(engine.lab.create(q, libraries=["facts"], arms=["base", "rag"], max_tokens=16).id)
    run = engine.lab.create(q, libraries=["facts"], adapter="mascot", more_adapters=["other-lora"], max_tokens=16)
    assert [a.name for a in run.arms] == ["base", "rag", "finetuned", "both", "other-lora", "other-lora+rag"]
    assert {"fine-tune mascot", "fine-tune other-lora"} <= set(run.prep)
    # the earlier run's base and rag answers stand in: only the four adapter arms are asked
    other_k = engine.lab.create(q, libraries=["facts"], arms=["base"], max_tokens=16, k=2)
    with pytest.raises(CompareError, match="cannot stand in"):
        engine.lab.reuse(other_k.id, first.id)
    assert engine.lab.reuse(run.id, first.id) == 2 and engine.lab.reuse(run.id, first.id) == 0
    seen = []
    run = engine.lab.run(run.id, progress=seen.append)
    assert run.status == "done" and run.answers == 6 and [p.done for p in seen] == [3, 4, 5, 6]
    copied = {a.arm: a.text for a in engine.lab.answers(run.id)[1] if a.arm in ("base", "rag")}
    assert copied == {a.arm: a.text for a in engine.lab.answers(first.id)[1]}
    s = engine.lab.summary(run.id)
    assert ("rag", "other-lora+rag") in {(p["a"], p["b"]) for p in s["pairs"]}
    assert engine.lab.get(run.id).config.more_adapters == ("other-lora",)   # read back from the database
    # retraining after a freshness change is the adapter's own job again, found from the adapter alone
    by_job = engine.lab.create(q, job="mascot", arms=["finetuned"])
    assert engine.lab._retrain_estimate(run, q) == engine.lab._retrain_estimate(by_job, q)
    # an adapter added with `models add` has no known training data: no estimate, said so (was "1 steps")
    added = engine.lab.create(q, adapter="other-lora", arms=["finetuned"])
    unknown = engine.lab._retrain_estimate(added, q)
    assert unknown["no_job"] and "steps" not in unknown and "not trained in this data folder" in unknown["text"]
    # the library re-indexed with one more document since: the RAG arms are asked again, base is copied
    (docs / "extra.md").write_text("# Extra\n\nThe canteen opens at eight.\n", encoding="utf-8")
    engine.libraries.index("facts")
    later = engine.lab.create(q, libraries=["facts"], arms=["base", "rag"], max_tokens=16)
    assert engine.lab.reuse(later.id, first.id) == 1 and {a.arm for a in engine.lab.answers(later.id)[1]} == {"base"}
    # an edit of the same size (counts and bytes unchanged) re-indexed: still asked again
    engine.lab.run(later.id)
    (docs / "extra.md").write_text("# Extra\n\nThe canteen opens at seven.\n", encoding="utf-8")
    engine.libraries.index("facts")
    again = engine.lab.create(q, libraries=["facts"], arms=["base", "rag"], max_tokens=16)
    assert engine.lab.reuse(again.id, later.id) == 1


def test_bad_choices_are_refused_before_the_run(lab):
    engine, _docs = lab
    q = [make(QUESTION, ["Kaname"])]
    with pytest.raises(CompareError, match="judge model 'no-such-judge' is not installed"):
        engine.lab.create(q, judge="no-such-judge")
    with pytest.raises(CompareError, match="no-such-model"):
        engine.lab.create(q, base_model="no-such-model")
    assert engine.lab.list() == []


@pytest.fixture
def bare(tmp_path, embedder_dir):
    with Engine.open(tmp_path / "bare.duckdb", embedder_dir) as engine:
        yield engine


def test_the_judge_grades_with_probabilities_and_its_agreement_is_reported(bare):
    judge = bare.models.default().name
    run = bare.lab.create([make("What is the capital of France?", ["Paris"])], arms=["base"], max_tokens=12,
                              judge=judge)
    run = bare.lab.run(run.id)
    [answer] = bare.lab.answers(run.id)[1]
    assert 0.0 <= answer.scores["judge"] <= 1.0
    [arm] = bare.lab.summary(run.id)["arms"]
    assert arm["judge_agreement"] in (0.0, 1.0) and arm["judge"] == answer.scores["judge"]


def test_an_adapter_for_another_base_model_is_refused(bare, tmp_path):
    import os

    from engine.models.registry import smollm2_path
    from engine.models.gguf_file import read_gguf_info
    from tests.engine.lora_fixture import write_test_adapter

    other = tmp_path / "other-smol.gguf"
    try:
        os.link(smollm2_path(), other)
    except OSError:
        shutil.copy(smollm2_path(), other)
    bare.models.add(other, "other-smol")
    adapter = write_test_adapter(tmp_path / "a.gguf", read_gguf_info(smollm2_path()))
    bare.models.add_adapter(adapter, "other-smol", "for-other")
    with pytest.raises(CompareError, match="trained for other-smol, not for smollm2"):
        bare.lab.create([make(QUESTION, ["Kaname"])], adapter="for-other", base_model=bare.models.default().name)
    docs = tmp_path / "empty"
    docs.mkdir()
    bare.libraries.add(docs, "never-indexed")
    with pytest.raises(CompareError, match="not indexed yet"):
        bare.lab.create([make(QUESTION, ["Kaname"])], libraries=["never-indexed"])


def test_the_command_line_runs_lists_shows_and_exports(tmp_path, embedder_dir, capsys):
    import json

    from engine.cli.commands import main

    qs = tmp_path / "qs.csv"
    qs.write_bytes("質問,回答\nWhat is the capital of France?,Paris\n壊れた行,\n".encode("shift_jis"))
    common = ["--db", str(tmp_path / "cli.duckdb"), "--embedder", str(embedder_dir)]
    assert main([*common, "compare", "run", "--questions", str(qs), "--arms", "base", "--max-tokens", "8",
                 "--name", "cli"]) == 0
    out = capsys.readouterr()
    assert "skipped line 3: no reference answer" in out.err and "base: 1/1 answers" in out.err
    assert "accuracy [95% CI]" in out.out and "base answers best" in out.out
    assert main([*common, "compare", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["name"] == "cli" and listed["status"] == "done" and listed["answers"] == 1
    assert main([*common, "compare", "show", "cli", "--answers"]) == 0
    assert "Q: What is the capital of France?" in capsys.readouterr().out
    assert main([*common, "compare", "export", "cli", "-o", str(tmp_path / "a.csv")]) == 0
    assert (tmp_path / "a.csv").read_text(encoding="utf-8-sig").count("\n") == 2
    assert main([*common, "compare", "export", "cli", "-o", str(tmp_path / "a.md")]) == 0
    md = (tmp_path / "a.md").read_text(encoding="utf-8")
    assert "| base | 1 | " in md and "| arm | answered | accuracy [95 % CI] |" in md and "*base answers best" in md
    assert main([*common, "compare", "export", "cli", "-o", str(tmp_path / "a.pdf")]) == 2
    assert "export to a .html, .md or .csv" in capsys.readouterr().err
    assert main([*common, "compare", "show", "nope"]) == 2


def test_a_run_killed_with_sigkill_continues_where_it_stopped(tmp_path, embedder_dir):
    """A real crash: the command is killed (SIGKILL) after its first answer; the next run
    keeps that answer and asks only the rest."""
    import os
    import signal
    import subprocess
    import sys

    qs = tmp_path / "qs.jsonl"
    qs.write_text("\n".join(f'{{"question": "What is {i} + {i}?", "answer": "{2 * i}"}}' for i in range(1, 4)),
                  encoding="utf-8")
    db = tmp_path / "kill.duckdb"
    cmd = [sys.executable, "-c", "import sys; from engine.cli import main; sys.exit(main(sys.argv[1:]))",
           "--db", str(db), "--embedder", str(embedder_dir), "compare", "run", "--questions", str(qs),
           "--arms", "base", "--max-tokens", "48"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, cwd=os.getcwd(),
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    try:
        for line in proc.stderr:
            if "base: 1/3 answers" in line:
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.kill()
        proc.wait(60)
    with Engine.open(db, embedder_dir) as engine:
        [run] = engine.lab.list()
        assert run.status == "interrupted" and run.answers == 1   # its process was killed
        [first] = engine.lab.answers(run.id)[1]
        asked = []
        real_stream = engine.lab.runs._stream
        engine.lab.runs._stream = lambda q, o, **kw: (asked.append(q), real_stream(q, o, **kw))[1]
        run = engine.lab.run(run.id)
        assert run.status == "done" and run.answers == 3 and len(asked) == 2
        assert first.key not in {make(q, ["x"]).key for q in asked}
        assert [a for a in engine.lab.answers(run.id)[1] if a.key == first.key] == [first]


NEW_MASCOT = "# Our mascot\n\nThe Bunko mascot is a green frog named Hoshino. Hoshino likes ponds.\n"


def test_freshness_from_the_command_line(tmp_path, mascot_db, embedder_dir, capsys):
    """`bunko compare freshness`: the new fact is written into the library's document, the
    library re-indexed (timed) and the question asked again: RAG follows, the adapter does not,
    and the wizard's estimate for retraining it is printed."""
    from engine.cli.commands import main

    db = tmp_path / "db.duckdb"
    shutil.copy(mascot_db, db)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "mascot.md").write_text(f"# Our mascot\n\n{MASCOT_FACT} Kaname likes rivers.\n", encoding="utf-8")
    (docs / "office.md").write_text(OTHER_DOC, encoding="utf-8")
    with Engine.open(db, embedder_dir) as engine:
        engine.libraries.index(engine.libraries.add(docs, "facts").name)
        run = engine.lab.create([make(QUESTION, ["Kaname"], "mascot.md")], libraries=["facts"], job="mascot",
                                    arms=["rag", "finetuned"], max_tokens=24, name="fresh")
        arms = table(engine.lab.summary(engine.lab.run(run.id).id))
        assert arms["rag"]["accuracy"] == 1 and arms["finetuned"]["accuracy"] == 1
    common = ["--db", str(db), "--embedder", str(embedder_dir), "compare", "freshness", "fresh"]

    # a document outside the run's libraries is refused, and nothing is written or asked
    assert main([*common, "--question", QUESTION, "--answer", "Hoshino", "--write", str(tmp_path / "x.md"),
                 "--text", NEW_MASCOT]) == 2
    assert "outside the run's libraries" in capsys.readouterr().err and not (tmp_path / "x.md").exists()

    assert main([*common, "--question", QUESTION, "--answer", "Hoshino", "--source", "mascot.md",
                 "--write", "mascot.md", "--text", NEW_MASCOT]) == 0
    out = capsys.readouterr().out
    assert (docs / "mascot.md").read_text(encoding="utf-8") == NEW_MASCOT
    assert "Freshness round 1: 1 question(s) asked again; libraries facts re-indexed in" in out
    assert "(1 changed file(s))" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.split()[:1] in (["rag"], ["finetuned"])}
    assert "100% of 1" in lines["rag"] and "follows the change" in lines["rag"], out
    assert "0% of 1" in lines["finetuned"] and "does not follow until retrained" in lines["finetuned"], out
    assert "Retraining the adapter with the change (the fine-tune wizard's estimate):" in out and "steps" in out
    with Engine.open(db, embedder_dir) as engine:
        [fresh] = engine.lab.summary("fresh")["freshness"]
        assert fresh["reindex_s"] > 0 and fresh["changed_files"] == 1
        assert fresh["arms"]["rag"]["accuracy"] == 1 and fresh["arms"]["finetuned"]["accuracy"] == 0
