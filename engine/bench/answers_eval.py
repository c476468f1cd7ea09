"""`bunko eval answers`: how often an answer from documents says the answer.

The dataset is a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) plus
`answers.jsonl` (`{"_id": query id, "answers": ["…", …]}`). The first N
questions with answers are asked with RAG, through the same `Chat.stream` the
app, the CLI and the API use. An answer counts as correct when, after NFKC
normalisation with all spaces removed, its first 150 characters (what a person
reads first) contain one of the reference answers.

The corpus indexed is every gold passage of the chosen questions plus a
deterministic sample of the other passages (`--docs` in all), so the run is
quick and repeatable; the size is printed. The built index (a Bunko database)
is kept under the data folder, keyed by a hash of the embedder and the texts,
so a second run only asks the questions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np

from .. import paths
from ..errors import BunkoError, DatasetError
from .retrieval_eval import Dataset, _Progress, build_store, embed_corpus, json_lines, load_dataset
from ..types import GenerationSettings

log = logging.getLogger(__name__)

READ_FIRST = 150          # characters of an answer a person reads first
DEFAULT_DOCS = 1000
DEFAULT_MAX_TOKENS = 96   # the metric reads 150 characters; longer answers only cost time
K = 4                     # passages given to the model, as in the app
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or ""))


def is_correct(answer: str, references: list[str]) -> bool:
    head = normalize(answer)[:READ_FIRST]
    return any(ref and ref in head for ref in (normalize(r) for r in references))


def load_answers(folder: Path) -> dict[str, list[str]]:
    path = Path(folder) / "answers.jsonl"
    out: dict[str, list[str]] = {}
    for n, obj in json_lines(path):
        refs = obj.get("answers") if isinstance(obj, dict) else None
        if not isinstance(obj, dict) or not isinstance(obj.get("_id"), (str, int)) or not isinstance(refs, list):
            raise DatasetError(f'{path}, line {n}: expected {{"_id": …, "answers": ["…"]}}.')
        refs = [r for r in refs if isinstance(r, str) and r.strip()]
        if refs:
            out[str(obj["_id"])] = refs
    return out


def select(folder: Path, max_questions: int, docs: int) -> tuple[Dataset, dict[str, list[str]]]:
    """The first `max_questions` questions with answers, their gold passages and a seeded
    sample of other passages, `docs` passages in all (at least the gold ones)."""
    answers = load_answers(folder)
    full = load_dataset(folder)
    qids = [q for q in full.queries if q in answers][:max_questions]
    if not qids:
        raise DatasetError(f"No question in {folder} has both a relevant passage and an answer in answers.jsonl.")
    gold = {d for q in qids for d, g in full.qrels[q].items() if g > 0}
    others = [i for i, d in enumerate(full.doc_ids) if d not in gold]
    rng = random.Random(11)
    picked = set(rng.sample(others, max(0, min(len(others), docs - len(gold)))))
    keep = [i for i, d in enumerate(full.doc_ids) if d in gold or i in picked]
    ds = Dataset(full.name, [full.doc_ids[i] for i in keep], [full.doc_texts[i] for i in keep],
                 {q: full.queries[q] for q in qids}, {q: full.qrels[q] for q in qids})
    return ds, {q: answers[q] for q in qids}


def _index(ds: Dataset, embedder, quiet: bool) -> tuple[Path, bool]:
    """A Bunko database holding the corpus, built once per embedder and texts; (path, reused)."""
    h = hashlib.sha256(embedder.model_id.encode("utf-8"))
    for did, text in zip(ds.doc_ids, ds.doc_texts):
        h.update(b"\0" + did.encode("utf-8") + b"\1" + text.encode("utf-8"))
    folder = paths.data_dir() / "eval-cache" / f"answers-{h.hexdigest()[:24]}"
    db = folder / "eval.duckdb"
    if db.is_file():
        return db, True
    from ..store import open_store

    n_tokens = embedder.count_tokens(ds.doc_texts)
    vecs, _rate = embed_corpus(embedder, ds, n_tokens, quiet)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=".build-")) / "eval.duckdb"
    store = open_store(tmp)
    try:
        build_store(store, embedder, ds, np.asarray(vecs, np.float32), n_tokens, str(folder))
    finally:
        store.close()
    os.replace(tmp, db)  # whole or not at all: a killed build is made again
    return db, False


def _resolve_model(registry, name: str | None):
    """A model for the eval database: None (the default), a built-in name, or a .gguf path."""
    from ..llm.registry import QWEN_NAME, SMOLLM2_NAME

    if name in (None, "", "default"):
        return registry.default()
    if name == SMOLLM2_NAME:
        return registry.tiny()
    if name == QWEN_NAME:
        return registry.install_qwen()
    path = Path(name).expanduser()
    if path.suffix.lower() == ".gguf" and path.is_file():
        found = [m for m in registry.list() if Path(m.path) == path.resolve()]
        return found[0] if found else registry.add(path)
    return registry.get(name)


def run(folder: Path, models: list[str | None], max_questions: int = 100, docs: int = DEFAULT_DOCS,
        max_tokens: int = DEFAULT_MAX_TOKENS, embedder_dir: Path | None = None, quiet: bool = True,
        details: Path | None = None, cancel=None) -> dict:
    from ..api import Engine
    from ..embed import load_embedder
    from ..store import open_store

    started = time.monotonic()
    ds, answers = select(Path(folder).expanduser(), max_questions, docs)
    embedder = load_embedder(embedder_dir)
    db, reused = _index(ds, embedder, quiet)
    index_seconds = time.monotonic() - started
    greedy = GenerationSettings(temperature=0.0, max_tokens=max_tokens, seed=0)
    results: dict[str, dict] = {}
    out = open(details, "w", encoding="utf-8") if details is not None else None  # noqa: SIM115
    with Engine(open_store(db), embedder_dir, embedder) as engine:  # the embedder already loaded
        for wanted in models:
            model = _resolve_model(engine.models, wanted)
            progress = _Progress(f"asking {model.name}", len(ds.queries), quiet)
            correct = quote_correct = gold_found = 0
            seconds = 0.0
            for i, (qid, question) in enumerate(ds.queries.items(), 1):
                t = time.perf_counter()
                answer = None
                for event in engine.chat.stream(question, rag=True, k=K, model=model.name, settings=greedy,
                                                cancel=cancel):
                    if event.kind == "done":
                        answer = event.answer
                seconds += time.perf_counter() - t
                gold = {d for d, g in ds.qrels[qid].items() if g > 0}
                quote = "".join(q["text"] for q in answer.stats.get("quotes", []))
                ok, quote_ok = is_correct(answer.text, answers[qid]), is_correct(quote, answers[qid])
                found = any(s.path in gold for s in answer.sources)
                correct += ok
                quote_correct += quote_ok
                gold_found += found
                row = {"model": model.name, "id": qid, "question": question, "answers": answers[qid],
                       "answer": answer.text, "quote": quote, "correct": ok, "quote_correct": quote_ok,
                       "gold_in_sources": found, "finish_reason": answer.stats.get("finish_reason"),
                       "notices": [n.get("kind") for n in answer.notices]}
                if out is not None:  # written as it goes: a long run stopped early still tells
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    out.flush()
                progress(i, i / len(ds.queries))
            progress(len(ds.queries), 1.0, final=True)
            n = len(ds.queries)
            results[model.name] = {"correct": round(correct / n, 4), "quote_only_correct": round(quote_correct / n, 4),
                                   "gold_in_sources": round(gold_found / n, 4),
                                   "seconds_per_question": round(seconds / n, 2),
                                   "languages": list(model.languages or ())}
    if out is not None:
        out.close()
    return {"dataset": ds.name, "questions": len(ds.queries), "corpus_passages": len(ds.doc_ids),
            "max_tokens": max_tokens, "k": K, "index_reused": reused,
            "index_seconds": round(index_seconds, 1), "results": results,
            "elapsed_seconds": round(time.monotonic() - started, 1)}


def format_report(r: dict) -> str:
    lines = [f"Dataset {r['dataset']}: {r['questions']} questions, corpus of {r['corpus_passages']} passages "
             f"(gold + sampled), {r['k']} passages per question, answers up to {r['max_tokens']} tokens",
             f"Index {'reused from the cache' if r['index_reused'] else 'built'} in {r['index_seconds']:.1f} s; "
             f"whole run {r['elapsed_seconds']:.1f} s", "",
             f"{'model':<24} {'correct':>8} {'quote alone':>12} {'gold in sources':>16} {'s/question':>11}"]
    for name, m in r["results"].items():
        lines.append(f"{name:<24} {m['correct']:>8.2f} {m['quote_only_correct']:>12.2f} "
                     f"{m['gold_in_sources']:>16.2f} {m['seconds_per_question']:>11.1f}")
    lines.append("")
    lines.append(f"correct: the reference answer within the first {READ_FIRST} characters of the answer "
                 "(NFKC, spaces removed); quote alone: the same for the quoted sentence only")
    return "\n".join(lines)


def run_answers_eval(args) -> int:
    for name in ("max_questions", "docs", "max_tokens"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise BunkoError(f"--{name.replace('_', '-')} must be at least 1.")
    report = run(args.dataset, args.model or [None], args.max_questions or 100, args.docs or DEFAULT_DOCS,
                 args.max_tokens or DEFAULT_MAX_TOKENS, args.embedder, quiet=bool(args.json), details=args.details)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(format_report(report))
    return 0


def add_parser(esub) -> None:
    e = esub.add_parser("answers", help="share of RAG answers that say the reference answer, per model",
                        description="Ask each question of a BEIR-layout dataset with answers.jsonl with RAG "
                                    "and report, per model, the share of correct answers, the share with the "
                                    "gold passage among the sources, and seconds per question.")
    e.add_argument("--dataset", type=Path, required=True,
                   help="folder with corpus.jsonl, queries.jsonl, qrels/test.tsv and answers.jsonl")
    e.add_argument("--model", action="append",
                   help="model name or .gguf path (repeatable; default: the default model)")
    e.add_argument("--max-questions", type=int, help="ask the first N questions (default 100)")
    e.add_argument("--docs", type=int, help=f"passages indexed: the gold ones plus a fixed sample (default {DEFAULT_DOCS})")
    e.add_argument("--max-tokens", type=int, help=f"longest answer in tokens (default {DEFAULT_MAX_TOKENS})")
    e.add_argument("--details", type=Path, help="write each question's answer to this JSONL file")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.set_defaults(func=lambda args: run_answers_eval(args))
