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

The same command also takes a folder of real documents and a questions file
(`--folder DIR --questions FILE`, one JSON object a line: `{"question", "answers":
[…], "gold_file": path in the folder, "kind": optional}`): the folder is indexed as
the app indexes it, each question is asked the same way, and the table adds a row
per kind of question (factoid, rule, how-to, …). Both forms count the answers that
refuse ("not in the sources") while their quote comes from the gold passage.
"""

from __future__ import annotations

from typing import Any
import hashlib
import json
import logging
import os
import random
import re
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import paths
from ..errors import BunkoError, DatasetError
from .retrieval_eval import Dataset, _Progress, build_store, embed_corpus, json_lines, load_dataset
from ..chat import checks
from ..types import GenerationSettings

log = logging.getLogger(__name__)

READ_FIRST = 150          # characters of an answer a person reads first
DEFAULT_DOCS = 1000
DEFAULT_MAX_TOKENS = 96   # the metric reads 150 characters; longer answers only cost time
K = 4                     # passages given to the model, as in the app
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or ""))


def is_correct(answer: str, references: list[str], read_first: int = READ_FIRST) -> bool:
    head = normalize(answer)[:read_first]
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
    from ..models.registry import QWEN_NAME, SMOLLM2_NAME

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


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answers: list[str]
    gold: frozenset[str]      # source paths that count as the gold passage or file
    kind: str = ""


def _ask(engine, model, items: list[Item], settings, read_first: int, quiet: bool, out, cancel) -> dict:
    """Ask every item with RAG through Chat.stream; the shares for one model."""
    progress = _Progress(f"asking {model.name}", len(items), quiet)
    totals = {"correct": 0, "quote_only_correct": 0, "gold_in_sources": 0, "refused_under_gold_quote": 0}
    kinds: dict[str, list[int]] = {}
    seconds = 0.0
    for i, item in enumerate(items, 1):
        t = time.perf_counter()
        answer = None
        for event in engine.chat.stream(item.question, rag=True, k=K, model=model.name, settings=settings,
                                        cancel=cancel):
            if event.kind == "done":
                answer = event.answer
        seconds += time.perf_counter() - t
        assert answer is not None   # a stream ends with its answer
        quotes = answer.stats.get("quotes", [])
        quote = "".join(q["text"] for q in quotes)
        by_number = {s.number: s for s in answer.sources}
        quote_gold = any(by_number.get(q["number"]) is not None and by_number[q["number"]].path in item.gold
                         for q in quotes)
        ok, quote_ok = is_correct(answer.text, item.answers, read_first), is_correct(quote, item.answers, read_first)
        found = any(s.path in item.gold for s in answer.sources)
        refused = quote_gold and checks.refuses(answer.text)
        for key, value in (("correct", ok), ("quote_only_correct", quote_ok), ("gold_in_sources", found),
                           ("refused_under_gold_quote", refused)):
            totals[key] += value
        if item.kind:
            kinds.setdefault(item.kind, [0, 0])
            kinds[item.kind][0] += 1
            kinds[item.kind][1] += ok
        row = {"model": model.name, "id": item.id, "kind": item.kind, "question": item.question,
               "answers": item.answers, "answer": answer.text, "quote": quote, "correct": ok,
               "quote_correct": quote_ok, "gold_in_sources": found, "quote_from_gold": quote_gold,
               "finish_reason": answer.stats.get("finish_reason"),
               "notices": [n.get("reason") or n.get("kind") for n in answer.notices]}
        if out is not None:  # written as it goes: a long run stopped early still tells
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
        progress(i, i / len(items))
    progress(len(items), 1.0, final=True)
    n = len(items)
    result: dict[str, Any] = {k: round(v / n, 4) for k, v in totals.items()}
    result.update(seconds_per_question=round(seconds / n, 2), languages=list(model.languages or ()))
    if kinds:
        result["kinds"] = {k: {"questions": q, "correct": round(c / q, 4)} for k, (q, c) in sorted(kinds.items())}
    return result


def run(folder: Path, models: list[str | None], max_questions: int = 100, docs: int = DEFAULT_DOCS,
        max_tokens: int = DEFAULT_MAX_TOKENS, embedder_dir: Path | None = None, quiet: bool = True,
        details: Path | None = None, cancel=None, read_first: int = READ_FIRST) -> dict:
    from ..api import Engine
    from ..embed import load_embedder
    from ..store import open_store

    started = time.monotonic()
    ds, answers = select(Path(folder).expanduser(), max_questions, docs)
    embedder = load_embedder(embedder_dir)
    db, reused = _index(ds, embedder, quiet)
    index_seconds = time.monotonic() - started
    items = [Item(qid, question, answers[qid], frozenset(d for d, g in ds.qrels[qid].items() if g > 0))
             for qid, question in ds.queries.items()]
    with Engine(open_store(db), embedder_dir, embedder) as engine:  # the embedder already loaded
        results = _ask_models(engine, models, items, max_tokens, read_first, quiet, details, cancel)
    return {"dataset": ds.name, "questions": len(items), "corpus_passages": len(ds.doc_ids), "corpus": "gold + sampled",
            "max_tokens": max_tokens, "k": K, "read_first": read_first, "index_reused": reused,
            "index_seconds": round(index_seconds, 1), "results": results,
            "elapsed_seconds": round(time.monotonic() - started, 1)}


def _ask_models(engine, models: list[str | None], items: list[Item], max_tokens: int, read_first: int,
                quiet: bool, details: Path | None, cancel) -> dict[str, dict]:
    """Each model answers every item greedily; `details` gets a JSON line per answer."""
    greedy = GenerationSettings(temperature=0.0, max_tokens=max_tokens, seed=0)
    results: dict[str, dict] = {}
    out = open(details, "w", encoding="utf-8") if details is not None else None  # noqa: SIM115
    try:
        for wanted in models:
            model = _resolve_model(engine.models, wanted)
            results[model.name] = _ask(engine, model, items, greedy, read_first, quiet, out, cancel)
    finally:
        if out is not None:
            out.close()
    return results


def load_questions(path: Path) -> list[Item]:
    """A questions file: `{"question", "answers": […], "gold_file", "kind"}` a line."""
    items = []
    for n, obj in json_lines(Path(path)):
        refs = obj.get("answers") if isinstance(obj, dict) else None
        if (not isinstance(obj, dict) or not isinstance(obj.get("question"), str) or not isinstance(refs, list)
                or not isinstance(obj.get("gold_file"), str)):
            raise DatasetError(f'{path}, line {n}: expected {{"question": "…", "answers": ["…"], '
                               f'"gold_file": "path in the folder", "kind": "…"}}.')
        refs = [r for r in refs if isinstance(r, str) and r.strip()]
        if refs:
            gold = obj["gold_file"].replace("\\", "/").strip("/")
            items.append(Item(str(obj.get("id", n)), obj["question"], refs, frozenset([gold]), str(obj.get("kind") or "")))
    if not items:
        raise DatasetError(f"{path} holds no question with an answer.")
    return items


def run_folder(folder: Path, questions: Path, models: list[str | None], max_questions: int = 100,
               max_tokens: int = DEFAULT_MAX_TOKENS, embedder_dir: Path | None = None, quiet: bool = True,
               details: Path | None = None, cancel=None, read_first: int = READ_FIRST) -> dict:
    """Index `folder` as the app does (in a fresh database) and ask the questions of `questions`."""
    from ..api import Engine

    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise BunkoError(f"Not a folder: {folder}")
    items = load_questions(questions)[:max_questions]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bunko-eval-") as tmp:
        with Engine.open(Path(tmp) / "eval.duckdb", embedder_dir) as engine:
            engine.libraries.add(folder, "eval")
            indexed = engine.libraries.index("eval")
            index_seconds = time.monotonic() - started
            results = _ask_models(engine, models, items, max_tokens, read_first, quiet, details, cancel)
    return {"dataset": f"{folder.name} ({Path(questions).name})", "questions": len(items),
            "corpus_passages": indexed.chunks, "corpus": "the folder, as chunks",
            "max_tokens": max_tokens, "k": K, "read_first": read_first, "index_reused": False,
            "index_seconds": round(index_seconds, 1), "results": results,
            "elapsed_seconds": round(time.monotonic() - started, 1)}


def format_report(r: dict) -> str:
    corpus = f"({r.get('corpus', 'gold + sampled')})"
    lines = [f"Dataset {r['dataset']}: {r['questions']} questions, corpus of {r['corpus_passages']} passages "
             f"{corpus}, {r['k']} passages per question, answers up to {r['max_tokens']} tokens",
             f"Index {'reused from the cache' if r['index_reused'] else 'built'} in {r['index_seconds']:.1f} s; "
             f"whole run {r['elapsed_seconds']:.1f} s", "",
             f"{'model':<24} {'correct':>8} {'quote alone':>12} {'gold in sources':>16} "
             f"{'refused, gold quote':>20} {'s/question':>11}"]
    for name, m in r["results"].items():
        lines.append(f"{name:<24} {m['correct']:>8.2f} {m['quote_only_correct']:>12.2f} "
                     f"{m['gold_in_sources']:>16.2f} {m['refused_under_gold_quote']:>20.2f} "
                     f"{m['seconds_per_question']:>11.1f}")
        for kind, k in (m.get("kinds") or {}).items():
            lines.append(f"  {kind + ' (' + str(k['questions']) + ')':<22} {k['correct']:>8.2f}")
    lines.append("")
    lines.append(f"correct: the reference answer within the first {r.get('read_first', READ_FIRST)} characters "
                 "of the answer (NFKC, spaces removed); quote alone: the same for the quoted sentence only; "
                 "refused, gold quote: answers saying the sources hold no answer under a quote from the gold passage")
    return "\n".join(lines)


def run_answers_eval(args) -> int:
    for name in ("max_questions", "docs", "max_tokens", "read_first"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise BunkoError(f"--{name.replace('_', '-')} must be at least 1.")
    common = dict(max_tokens=args.max_tokens or DEFAULT_MAX_TOKENS, embedder_dir=args.embedder,
                  quiet=bool(args.json), details=args.details, read_first=args.read_first or READ_FIRST)
    if args.folder is not None or args.questions is not None:
        if args.folder is None or args.questions is None or args.dataset is not None:
            raise BunkoError("Give --folder DIR with --questions FILE, or --dataset DIR (a BEIR folder).")
        report = run_folder(args.folder, args.questions, args.model or [None], args.max_questions or 100, **common)
    elif args.dataset is None:
        raise BunkoError("Give --dataset DIR (a BEIR folder with answers.jsonl), or --folder DIR with --questions FILE.")
    else:
        report = run(args.dataset, args.model or [None], args.max_questions or 100, args.docs or DEFAULT_DOCS,
                     **common)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(format_report(report))
    return 0


def add_parser(esub) -> None:
    e = esub.add_parser("answers", help="share of RAG answers that say the reference answer, per model",
                        description="Ask each question of a BEIR-layout dataset with answers.jsonl (or of a "
                                    "questions file about a folder of documents) with RAG and report, per model "
                                    "and per kind of question, the share of correct answers, the share with the "
                                    "gold passage among the sources, refusals under a gold quote, and seconds "
                                    "per question.")
    e.add_argument("--dataset", type=Path,
                   help="folder with corpus.jsonl, queries.jsonl, qrels/test.tsv and answers.jsonl")
    e.add_argument("--folder", type=Path, help="instead: a folder of documents, indexed as the app does")
    e.add_argument("--questions", type=Path,
                   help='with --folder: JSONL of {"question", "answers": [...], "gold_file", "kind"}')
    e.add_argument("--read-first", type=int,
                   help=f"characters of the answer the reference must appear in (default {READ_FIRST})")
    e.add_argument("--model", action="append",
                   help="model name or .gguf path (repeatable; default: the default model)")
    e.add_argument("--max-questions", type=int, help="ask the first N questions (default 100)")
    e.add_argument("--docs", type=int, help=f"passages indexed: the gold ones plus a fixed sample (default {DEFAULT_DOCS})")
    e.add_argument("--max-tokens", type=int, help=f"longest answer in tokens (default {DEFAULT_MAX_TOKENS})")
    e.add_argument("--details", type=Path, help="write each question's answer to this JSONL file")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.set_defaults(func=lambda args: run_answers_eval(args))
