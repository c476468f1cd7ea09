"""`bunko bench compare`: what the comparison lab adds on top of its generations.

A run answers every question in every arm; the lab scores each answer (reference match,
F1, the embedder's similarity), stores it, and at the end builds the table and the HTML
report. Goal: the run's wall time (with summary and export) at most 1.1 × the sum of the
answers' own times (retrieval, prompt and generation inside Chat.stream), measured in the
same run. The model is loaded before the clock starts.

Without --dataset the questions are made-up facts in generated documents (one fact per
document); with --dataset a BEIR-layout folder with answers.jsonl (e.g. JaQuAD): the gold
passages of the first N questions plus sampled distractors are indexed as the library.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path

from ..api import Engine
from ..lab.questions import make
from ..lab.report import jsonable
from . import common

GOAL_RATIO = 1.1
_WORDS = ["amber", "birch", "cobalt", "dune", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
          "kestrel", "lotus", "meadow", "nectar", "onyx", "pepper", "quartz", "raven", "saffron", "tundra"]


def _generated(folder: Path, n: int, seed: int = 5) -> list:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    questions = []
    for i in range(n):
        code = f"{rng.choice(_WORDS)}-{rng.randint(100, 999)}"
        (folder / f"project{i:03d}.md").write_text(
            f"# Project {i}\n\nThe code word of project {i} is {code}. The project started in "
            f"{2000 + i % 20} and is run by team {i % 7}.\n", encoding="utf-8")
        questions.append(make(f"What is the code word of project {i}?", [code], f"project{i:03d}.md"))
    return questions


def _dataset(src: Path, folder: Path, n: int, distractors: int, seed: int = 3) -> tuple[list, dict]:
    """Questions with answers, and a library of their gold passages plus random others."""
    answers = {r["_id"]: r["answers"] for r in map(json.loads, (src / "answers.jsonl").read_text(encoding="utf-8").splitlines())}
    texts = {r["_id"]: r["text"] for r in map(json.loads, (src / "queries.jsonl").read_text(encoding="utf-8").splitlines())}
    gold: dict[str, str] = {}
    for line in (src / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        qid, did, _ = line.split("\t")
        gold.setdefault(qid, did)
    qids = [q for q in texts if q in answers and q in gold][:n]
    corpus = {r["_id"]: r for r in map(json.loads, (src / "corpus.jsonl").read_text(encoding="utf-8").splitlines())}
    wanted = {gold[q] for q in qids}
    others = sorted(set(corpus) - wanted)
    random.Random(seed).shuffle(others)
    chosen = sorted(wanted) + others[:distractors]
    folder.mkdir(parents=True)
    for did in chosen:
        doc = corpus[did]
        (folder / f"{did}.md").write_text(f"# {doc.get('title') or did}\n\n{doc['text']}\n", encoding="utf-8")
    questions = [make(texts[q], answers[q], f"{gold[q]}.md", key=q) for q in qids]
    return questions, {"gold_passages": len(wanted), "distractors": len(chosen) - len(wanted), "documents": len(chosen)}


def run_compare_bench(args) -> int:
    n = getattr(args, "questions", 8) or 8
    result: dict = {"bench": "compare", "machine": common.machine()}
    with tempfile.TemporaryDirectory(prefix="bunko-bench-compare-") as tmp_name:
        tmp = Path(tmp_name)
        docs = tmp / "docs"
        if getattr(args, "dataset", None):
            questions, corpus = _dataset(Path(args.dataset).expanduser(), docs, n, args.distractors)
            result["corpus"] = {"dataset": str(args.dataset), **corpus}
        else:
            questions = _generated(docs, n)
            result["corpus"] = {"dataset": "(generated facts)", "documents": n}
        with Engine.open(tmp / "bench.duckdb", getattr(args, "embedder", None)) as engine:
            common.say(f"bench compare: indexing {result['corpus']['documents']} documents")
            t0 = time.perf_counter()
            indexed = engine.libraries.index(engine.libraries.add(docs, "bench").name)
            result["corpus"].update({"index_seconds": round(time.perf_counter() - t0, 2), "chunks": indexed.chunks})
            state = engine.models.load(getattr(args, "model", None))
            engine.searcher.embed_query("warm up")
            run = engine.lab.create(questions, base_model=state.model, libraries=["bench"],
                                        arms=(args.arms.split(",") if getattr(args, "arms", None) else ["base", "rag"]),
                                        max_tokens=args.max_tokens, name="bench")
            common.say(f"bench compare: {len(questions)} questions x {len(run.arms)} arms with {state.model}")

            def show(p):
                if int(p.done) % 10 == 0 or p.done == p.total:
                    common.say(f"  {p.phase}: {int(p.done)}/{int(p.total)}, {p.rate or 0:.2f} answers/s")

            t0 = time.perf_counter()
            engine.lab.run(run.id, show)
            run_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            summary = engine.lab.summary(run.id)
            engine.lab.export(run.id, tmp / "report.html")
            engine.lab.export(run.id, tmp / "answers.csv")
            report_s = time.perf_counter() - t1
            _q, answers = engine.lab.answers(run.id)
    answer_s = sum(a.seconds for a in answers)
    wall = run_s + report_s
    ratio = common.ratio(wall, answer_s)
    result.update({
        "model": state.model, "questions": len(questions), "arms": [a["arm"] for a in summary["arms"]],
        "max_tokens": args.max_tokens,
        "seconds": {"answers_sum": round(answer_s, 2), "run_wall": round(run_s, 2), "summary_and_export": round(report_s, 3),
                    "overhead": round(wall - answer_s, 2)},
        "table": [{k: a[k] for k in ("arm", "answered", "accuracy", "ci", "f1", "similarity", "grounded", "ttft_s",
                                     "tokens_per_s", "prompt_tokens", "seconds")} for a in summary["arms"]],
        "pairs": summary["pairs"], "recommendation": summary["recommendation"],
        "goals": {"wall_vs_answers": {"goal": GOAL_RATIO, "value": ratio, "pass": ratio is not None and ratio <= GOAL_RATIO}},
    })
    result["pass"] = all(g["pass"] for g in result["goals"].values())
    common.emit(jsonable(result), getattr(args, "json", False), _report(result))
    return 0


def _report(r: dict) -> str:
    s, g = r["seconds"], r["goals"]["wall_vs_answers"]
    rows = [[a["arm"], a["answered"], f"{a['accuracy']:.0%} [{a['ci'][0]:.0%}-{a['ci'][1]:.0%}]",
             a["f1"], a["similarity"], a["grounded"], a["ttft_s"], a["tokens_per_s"], a["prompt_tokens"], a["seconds"]]
            for a in r["table"]]
    c = r["corpus"]
    lines = [f"bunko bench compare: {r['questions']} questions, model {r['model']}, max {r['max_tokens']} tokens; "
             f"library {c['documents']} documents ({c.get('gold_passages', c['documents'])} with answers), "
             f"{c['chunks']} chunks, indexed in {c['index_seconds']} s", "",
             common.table(["arm", "n", "accuracy [95% CI]", "F1", "similarity", "grounded", "TTFT s", "tok/s",
                           "prompt tok", "s/answer"], rows), ""]
    for p in r["pairs"]:
        lines.append(f"{p['b']} - {p['a']}: {p['diff']:+.0%} [{p['ci'][0]:+.0%}, {p['ci'][1]:+.0%}], "
                     f"exact McNemar p={p['p']:.3g} ({p['a_only']} vs {p['b_only']} discordant): {p['verdict']}")
    lines += [r["recommendation"], "",
              common.table(["measure", "seconds", "ratio", "goal", "result"],
                           [["sum of the answers (Chat.stream)", s["answers_sum"], None, None, None],
                            ["run wall + summary + export", round(s["run_wall"] + s["summary_and_export"], 2),
                             g["value"], f"<= {GOAL_RATIO:g}", g["pass"]]])]
    return "\n".join(lines)
