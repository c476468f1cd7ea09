"""`bunko compare`: run the comparison lab (base | rag | finetuned | both) on a question set,
list and show runs, export them. The work is in engine.lab; this file translates."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..cancel import CancelToken
from ..errors import BunkoError
from ..timefmt import clock, size as size_text
from ..lab.questions import make as make_question
from ..lab.report import jsonable
from .common import open_engine, print_json, print_table


class _Progress:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last = 0.0

    def __call__(self, p) -> None:
        now = time.monotonic()
        if self.quiet or (now - self.last < 0.5 and p.done != p.total):
            return
        self.last = now
        mark = ""
        if p.item is not None and hasattr(p.item, "scores"):
            mark = "right" if p.item.scores.get("match") else "wrong"
        print(f"{p.phase}: {int(p.done)}/{int(p.total or 0)} answers, {clock(p.eta_s)} left  {mark}",
              file=sys.stderr, flush=True)


def _pct(x) -> str:
    return "-" if x is None or x != x else f"{x:.0%}"


def _num(x, fmt="{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def _size(key: str, value) -> str:
    return size_text(value) if "bytes" in key and isinstance(value, (int, float)) else str(value)


def print_summary(s: dict) -> None:
    run = s["run"]
    print(f"Run {run['id']} {run['name']!r} ({run['status']}): {run['questions']} questions, base {run['base_model']}, "
          f"libraries {', '.join(run['libraries']) or '-'}, adapter {run['adapter'] or '-'}")
    rows = []
    for a in s["arms"]:
        rows.append((a["arm"], str(a["answered"]), f"{_pct(a['accuracy'])} [{_pct(a['ci'][0])}-{_pct(a['ci'][1])}]",
                     _pct(a["known"]["accuracy"]) if a.get("known") else "-",
                     _pct(a["new"]["accuracy"]) if a.get("new") else "-", _num(a["f1"]), _num(a["similarity"]),
                     _pct(a["grounded"]), _num(a.get("judge")), _num(a["ttft_s"]), _num(a["tokens_per_s"], "{:.1f}"),
                     _num(a["prompt_tokens"], "{:.0f}")))
    print_table(("arm", "n", "accuracy [95% CI]", "known", "new", "F1", "similarity", "grounded", "judge",
                 "TTFT s", "tok/s", "prompt tok"), rows)
    for p in s["pairs"]:
        print(f"{p['b']} - {p['a']}: {p['diff']:+.0%} [{p['ci'][0]:+.0%}, {p['ci'][1]:+.0%}], "
              f"p={p['p']:.3g}: {p['verdict']}")
    for what, cost in (s.get("prep") or {}).items():
        print(f"preparation, {what}: " + ", ".join(f"{k} {_size(k, v)}" for k, v in cost.items() if v is not None))
    for f in s["freshness"]:
        print_freshness(s, f)
    print(s["recommendation"])


def cmd_run(args) -> int:
    cancel = CancelToken()
    with open_engine(args) as engine:
        if args.resume is not None:
            run = engine.lab.get(args.resume)
        else:
            if args.questions:
                qs = engine.lab.questions(path=args.questions)
            elif args.job:
                qs = engine.lab.questions(job=args.job)
            elif args.draft_from:
                qs = engine.lab.questions(library=args.draft_from, count=args.count)
            else:
                raise BunkoError("Give --questions FILE, --job JOB or --draft-from LIBRARY.")
            for problem in qs.problems:
                print(f"skipped line {problem.line}: {problem.reason}", file=sys.stderr)
            questions = qs.questions[: args.limit] if args.limit else qs.questions
            run = engine.lab.create(questions, base_model=args.base, libraries=args.library or (),
                                        adapter=(args.adapter or [None])[0], more_adapters=(args.adapter or [])[1:],
                                        job=args.job, other_models=args.model or (),
                                        arms=args.arms.split(",") if args.arms else None,
                                        max_tokens=args.max_tokens, k=args.k, judge=args.judge, name=args.name,
                                        question_source=qs.source)
            print(f"Run {run.id} ({run.name}): {run.questions} questions x {len(run.arms)} arms "
                  f"({', '.join(a.name for a in run.arms)})", file=sys.stderr)
            if args.reuse is not None:
                print(f"{engine.lab.reuse(run.id, args.reuse)} answers reused from run {args.reuse}", file=sys.stderr)
        try:
            run = engine.lab.run(run.id, _Progress(args.json), cancel)
        except KeyboardInterrupt:
            cancel.cancel()
            print(f"\nInterrupted. Finished answers are kept; continue with: bunko compare run --resume {run.id}",
                  file=sys.stderr)
            return 130
        summary = engine.lab.summary(run.id)
    if args.json:
        print_json(jsonable(summary))
    else:
        print_summary(summary)
    return 0


def print_freshness(s: dict, f: dict) -> None:
    """One freshness round: what re-indexing took, each arm on the changed questions, the retraining estimate."""
    libs = ", ".join(s["run"]["libraries"]) or "-"
    print(f"Freshness round {f['round']}: {f['questions']} question(s) asked again; libraries {libs} re-indexed "
          f"in {f['reindex_s']:.2f} s ({f['changed_files']} changed file(s)).")
    rows = []
    adapter_only = {a["arm"] for a in s["arms"] if a.get("adapter") and not a.get("rag")}
    for arm, after in f["arms"].items():
        right = bool(after["n"]) and after["accuracy"] > 0.5
        verdict = "follows the change" if right else ("does not follow until retrained" if arm in adapter_only
                                                      else "does not follow")
        rows.append((arm, f"{_pct(after['accuracy'])} of {after['n']}", verdict))
    print_table(("arm", "right after the change", ""), rows)
    if f.get("retrain_estimate"):
        print(f"Retraining the adapter with the change (the fine-tune wizard's estimate): {f['retrain_estimate']}")


def cmd_freshness(args) -> int:
    """Freshness: the documents changed (or --write changes one); re-index and ask again."""
    with open_engine(args) as engine:
        if args.questions:
            qs = engine.lab.questions(path=args.questions)
            for problem in qs.problems:
                print(f"skipped line {problem.line}: {problem.reason}", file=sys.stderr)
            changed = list(qs.questions)
        else:
            if not args.question or not args.answer:
                raise BunkoError("Give the changed questions: --questions FILE, or --question TEXT with --answer NEW.")
            changed = [make_question(args.question, args.answer, args.source)]
        documents = None
        if args.write:
            if args.text is None:
                raise BunkoError("--write needs --text: the document's new content (the new fact).")
            documents = {str(args.write): args.text}
        cancel = CancelToken()
        try:
            fresh = engine.lab.refresh(args.run, changed, _Progress(args.json), cancel, documents=documents)
        except KeyboardInterrupt:
            cancel.cancel()
            print("\nInterrupted; the answers made so far are kept.", file=sys.stderr)
            return 130
        summary = engine.lab.summary(args.run)
    this = next(f for f in summary["freshness"] if f["round"] == fresh["round"])
    if args.json:
        print_json(jsonable(this))
    else:
        print_freshness(summary, this)
    return 0


def cmd_list(args) -> int:
    with open_engine(args) as engine:
        runs = engine.lab.list()
    if args.json:
        print_json([{"id": r.id, "name": r.name, "status": r.status, "questions": r.questions, "answers": r.answers,
                     "arms": [a.name for a in r.arms], "created_at": r.created_at} for r in runs])
        return 0
    if not runs:
        print("No comparison runs yet: bunko compare run --questions FILE ...")
        return 0
    print_table(("id", "name", "status", "questions", "answers", "arms", "created"),
                [(str(r.id), r.name, r.status, str(r.questions), f"{r.answers}/{r.questions * len(r.arms)}",
                  ",".join(a.name for a in r.arms), str(r.created_at)[:16]) for r in runs])
    return 0


def cmd_show(args) -> int:
    with open_engine(args) as engine:
        summary = engine.lab.summary(args.run)
        questions, answers = engine.lab.answers(args.run) if args.answers else ([], [])
    if args.json:
        print_json(jsonable(summary))
        return 0
    print_summary(summary)
    by: dict = {}
    for a in answers:
        by.setdefault(a.key, []).append(a)
    for q in questions:
        print(f"\nQ: {q.text}  (reference: {' | '.join(q.references)})")
        for a in by.get(q.key, []):
            print(f"  [{a.arm}] {'right' if a.scores.get('match') else 'wrong'}: {a.text[:200]}")
    return 0


def cmd_export(args) -> int:
    with open_engine(args) as engine:
        path = engine.lab.export(args.run, args.output)
    print(f"Wrote {path}")
    return 0


def add_compare_parser(sub) -> None:
    p = sub.add_parser("compare", help="RAG, fine-tuning or both, measured on your own questions")
    csub = p.add_subparsers(dest="compare_command", metavar="ACTION", required=True)

    r = csub.add_parser("run", help="answer a question set in every arm and print the table")
    r.add_argument("--questions", type=Path, help="JSONL/CSV: question, answer(s), optional source")
    r.add_argument("--job", help="a fine-tune job: its held-out questions, its adapter and base model")
    r.add_argument("--draft-from", metavar="LIBRARY", help="draft questions from a library with the local model")
    r.add_argument("--count", type=int, default=20, help="questions to draft (with --draft-from)")
    r.add_argument("--limit", type=int, help="use only the first N questions")
    r.add_argument("--base", help="base model (default: the job's, else the default model)")
    r.add_argument("--library", action="append", help="library for the RAG arms (repeatable)")
    r.add_argument("--reuse", metavar="RUN", help="copy the answers an earlier run gave in identical arms "
                   "(same model, adapter, libraries, -k, --max-tokens) instead of asking again")
    r.add_argument("--adapter", action="append", help="LoRA adapter for the fine-tuned arms; repeat it for "
                   "more adapters of the same base, each an arm NAME and NAME+rag")
    r.add_argument("--model", action="append",
                   help="another registered model as an extra arm: local, an endpoint or on a GPU server (repeatable)")
    r.add_argument("--arms", help="only these arms, comma-separated (base,rag,finetuned,both)")
    r.add_argument("--judge", help="a local model that grades each answer against the reference")
    r.add_argument("--max-tokens", type=int, default=64, help="answer length limit (default 64)")
    r.add_argument("-k", type=int, default=4, help="passages for the RAG arms (default 4)")
    r.add_argument("--name", help="a name for the run")
    r.add_argument("--resume", metavar="RUN", help="continue a stopped or crashed run")
    r.add_argument("--json", action="store_true", help="print the summary as JSON")
    r.set_defaults(func=cmd_run)

    s = csub.add_parser("freshness", help="after a document changed: re-index, ask the changed questions again; "
                                          "RAG follows, the adapter not until retrained")
    s.add_argument("run")
    s.add_argument("--questions", type=Path, help="JSONL/CSV of the changed questions with their new answers")
    s.add_argument("--question", help="one changed question (with --answer)")
    s.add_argument("--answer", action="append", help="its new reference answer (repeatable)")
    s.add_argument("--source", help="the document that holds the new answer")
    s.add_argument("--write", type=Path, metavar="DOCUMENT",
                   help="first write --text into this document of the run's library (relative: in its folder)")
    s.add_argument("--text", help="the document's new content, with the new fact (with --write)")
    s.add_argument("--json", action="store_true", help="print the round as JSON")
    s.set_defaults(func=cmd_freshness)

    s = csub.add_parser("list", help="comparison runs with their state")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)

    s = csub.add_parser("show", help="the table of a run: accuracy, intervals, speed, tests, recommendation")
    s.add_argument("run")
    s.add_argument("--answers", action="store_true", help="also every question with each arm's answer")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    s = csub.add_parser("export", help="write a run as a self-contained HTML report, its tables in Markdown or a CSV")
    s.add_argument("run")
    s.add_argument("-o", "--output", type=Path, required=True, help="report.html, table.md or answers.csv")
    s.set_defaults(func=cmd_export)

