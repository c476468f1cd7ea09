"""The `bunko` command line. It translates arguments and errors; the work is in engine.api.

`bunko` with no command opens the desktop app; that choice is made in
desktop/launcher.py, since the engine never imports the GUI.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path

from ..errors import BunkoError
from ..timefmt import clock
from .common import open_engine, print_json

log = logging.getLogger("bunko")


class ProgressLine:
    """One self-overwriting line on stderr: files, chunks, rate and time left."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr  # looked up now: a default bound at import outlives a redirect
        self.tty = self.stream.isatty()
        self.last = 0.0

    def __call__(self, p) -> None:
        now = time.monotonic()
        if p.phase not in ("done", "finishing") and now - self.last < 0.5:
            return
        self.last = now
        width = 24
        frac = p.fraction if p.fraction is not None else (1.0 if p.phase == "done" else 0.0)
        bar = "#" * int(width * frac) + "-" * (width - int(width * frac))
        text = (f"{p.library}: {p.phase} [{bar}] {p.files_done}/{p.files_total} files, "
                f"{p.chunks_done} chunks, {p.chunks_per_s:.1f} chunks/s, {time_left(p)}"
                + (f"; {p.message}" if p.message else ""))
        if self.tty:
            self.stream.write("\r" + text[:150].ljust(150))
            if p.phase == "done":
                self.stream.write("\n")
        elif p.phase in ("done", "scanning") or now - getattr(self, "_plain", 0.0) > 10:
            self._plain = now
            self.stream.write(text + "\n")
        self.stream.flush()


def time_left(p) -> str:
    """'1:05 left', or 'estimating time left' until the run has a rate worth dividing by."""
    if p.phase in ("finishing", "done"):
        return "finishing" if p.phase == "finishing" else "done"
    return f"{clock(p.eta_s)} left" if p.eta_s is not None else "estimating time left"


def cmd_index(args) -> int:
    from ..api import CancelToken

    cancel = CancelToken()
    with open_engine(args) as engine:
        target = args.target
        if Path(target).expanduser().is_dir():
            lib = engine.libraries.add(target, args.name)
        else:
            lib = engine.libraries.get(target)
        if args.include_generated or args.skip_generated:  # kept with the library for later runs
            engine.libraries.set_include_generated(lib.name, bool(args.include_generated))
        progress = None if args.quiet or args.json else ProgressLine()
        rebuild = args.rebuild
        change = None if rebuild else engine.libraries.embedder_change(lib.name)
        if change:  # the vectors would change: ask before embedding everything again
            if not (args.yes or _confirm(f"{change}\nRe-index {lib.name!r} now? [y/N] ")):
                print(f"bunko: {change} Nothing was changed. Re-index with `bunko index {lib.name} --rebuild`, "
                      "or choose the embedder that made it (--embedder, --embed-graph).", file=sys.stderr)
                return 2
            rebuild = True
        try:
            if args.watch:
                engine.libraries.set_watch(lib.name, True)
                print(f"Watching {lib.root} (library {lib.name!r}); Ctrl-C to stop.", file=sys.stderr)

                def show(result):
                    if result.added or result.updated or result.removed or result.renamed or result.failed:
                        print(_summary(result), file=sys.stderr)

                engine.libraries.watch(lib.name, args.interval, progress, show, cancel)
                return 0
            if args.embed_host:
                from .embed_host import index_on_host

                result = index_on_host(engine, lib, args, progress, cancel, rebuild)
            else:
                result = engine.libraries.index(lib.name, progress, cancel, rebuild=rebuild)
        except KeyboardInterrupt:
            cancel.cancel()
            print("\nInterrupted. What was finished is saved; run the same command to continue.",
                  file=sys.stderr)
            return 130
        if args.json:
            print_json(asdict(result))
        else:
            print(_summary(result))
            listed = [("failed", *e) for e in result.errors] + [("skipped", *e) for e in result.skips]
            for label, path, reason in listed[:20]:
                label = "partly indexed" if reason.startswith("indexed in part") else label
                print(f"  {label} {path}: {reason}")
            if len(listed) > 20:
                print(f"  … and {len(listed) - 20} more (see `bunko libraries --files {lib.name}`)")
    return 0


def _confirm(question: str) -> bool:
    """Yes only from a person at a terminal; a script gets no for an answer."""
    if not sys.stdin.isatty():
        return False
    try:
        return input(question).strip().lower() in ("y", "yes", "はい")
    except EOFError:
        return False


def _summary(r) -> str:
    return (f"{r.library}: {r.added} added, {r.updated} updated, {r.renamed} renamed, {r.removed} removed, "
            f"{r.unchanged} unchanged, {r.skipped} skipped, {r.failed} failed; {r.chunks} chunks "
            f"in {r.seconds:.1f} s" + (" (cancelled)" if r.cancelled else ""))


def cmd_search(args) -> int:
    with open_engine(args) as engine:
        hits = engine.search(args.query, k=args.k, mode=args.mode, libraries=args.library or None,
                             path=args.path)
    if args.json:
        print_json({"query": args.query, "mode": args.mode,
                     "hits": [dict(asdict(h), location=h.location) for h in hits]})
        return 0
    if not hits:
        print("No passages found.")
        return 0
    for i, h in enumerate(hits, 1):
        where = f"{h.library}/{h.path}" + (f" ({h.location})" if h.location else "")
        print(f"[{i}] {where}  score {h.score:.4f}")
        text = " ".join(h.text.split())
        print("    " + (text[:300] + "…" if len(text) > 300 else text))
    return 0


def cmd_libraries(args) -> int:
    with open_engine(args) as engine:
        if args.remove:
            engine.libraries.remove(args.remove)
            print(f"Removed library {args.remove!r} (the folder itself is untouched).")
            return 0
        if args.ocr_on or args.ocr_off:
            name, on = (args.ocr_on, True) if args.ocr_on else (args.ocr_off, False)
            engine.libraries.set_ocr(name, on)
            print(f"OCR is {'on' if on else 'off'} for library {name!r}; it applies from the next `bunko index`.")
            return 0
        if args.files:
            docs = engine.libraries.documents(args.files, None if args.all else "attention")
            if args.json:
                print_json([asdict(d) for d in docs])
            else:
                for d in docs:
                    noted = "partial" if (d.reason or "").startswith("indexed in part") else "check"
                    label = {"error": "failed", "indexed": noted if d.reason else "indexed"}.get(d.status, d.status)
                    print(f"{label:8} {d.path}" + (f": {d.reason}" if d.reason else ""))
            return 0
        libs = engine.libraries.list()
    if args.json:
        print_json([asdict(lib) for lib in libs])
        return 0
    if not libs:
        print("No libraries yet. Add one with: bunko index FOLDER")
        return 0
    for lib in libs:
        print(f"{lib.name}: {lib.root}")
        print(f"    {lib.documents} documents, {lib.chunks} chunks, {lib.skipped} skipped, {lib.errors} failed; "
              f"model {lib.embedder_name}; indexed {lib.indexed_at or 'never'}"
              + ("; watched" if lib.watch else ""))
        if lib.partial:
            print(f"    {lib.partial} indexed in part (files too large to embed whole; see --files)")
        if lib.include_generated:
            print("    generated code and files ignored by .gitignore: included (--skip-generated to leave them out)")
        if lib.ocr_pages or not lib.ocr:
            low = f", {lib.ocr_low} with low confidence (see --files)" if lib.ocr_low else ""
            print(f"    OCR {'on' if lib.ocr else 'off'}: {lib.ocr_pages} pages read by OCR{low}")
    return 0


def cmd_remove(args) -> int:
    with open_engine(args) as engine:
        engine.libraries.remove(args.library)
    print(f"Removed library {args.library!r} (the folder itself is untouched).")
    return 0


def cmd_eval(args) -> int:
    from ..bench.retrieval_eval import run_retrieval_eval

    return run_retrieval_eval(args)


def cmd_bench(args) -> int:
    from ..bench import run_bench

    if args.what == "embed" and args.host:
        from ..bench.embed_host_bench import run_embed_host_bench
        from .finetune import parse_host, with_secrets

        return run_embed_host_bench(args, parse_host(args.host, args), with_secrets)

    if args.what == "finetune":
        from .finetune import parse_host, with_secrets

        return run_bench(args, host_spec=parse_host(args.host, args), with_secrets=with_secrets)
    return run_bench(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bunko", description="Bunko (文庫): chat with your documents, offline.")
    parser.add_argument("--db", type=Path, help="database file (default: in your user data folder)")
    parser.add_argument("--embedder", type=Path, help="an ONNX embedding model folder (default: multilingual-e5-small)")
    parser.add_argument("--embed-device", choices=["auto", "cpu", "cuda"],
                        help="where embedding runs (default auto: the GPU when onnxruntime-gpu finds one)")
    parser.add_argument("--embed-graph", choices=["auto", "exact", "fast"],
                        help="embedding graph (default auto: what the libraries were made with; "
                             "fast on a CPU for new ones)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", help="add a folder as a library and index it, or re-index a library")
    p.add_argument("target", help="a folder, or the name of a library")
    p.add_argument("--name", help="library name (default: the folder's name)")
    p.add_argument("--watch", action="store_true", help="keep following the folder until Ctrl-C")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between checks with --watch")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything (e.g. after changing the model)")
    p.add_argument("--yes", action="store_true", help="do not ask: re-index when the embedder changed, and "
                   "send the text to --embed-host")
    generated = p.add_mutually_exclusive_group()
    generated.add_argument("--include-generated", action="store_true",
                           help="also index generated code (node_modules, lock files, minified bundles) and files "
                                "that .gitignore leaves out; kept with the library")
    generated.add_argument("--skip-generated", action="store_true",
                           help="leave generated code and .gitignore'd files out again (the default)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    from .embed_host import add_embed_host_arguments

    add_embed_host_arguments(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="find the passages that answer a question")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument("--mode", choices=["hybrid", "dense", "keyword"], default="hybrid")
    p.add_argument("--library", action="append", help="search only this library (repeatable)")
    p.add_argument("--path", help="only files whose path inside the library matches this glob")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("libraries", help="list libraries with counts and errors")
    p.add_argument("--files", metavar="LIBRARY",
                   help="list the skipped and failed files of a library, those indexed in part, and those to check "
                        "(OCR: low confidence)")
    p.add_argument("--all", action="store_true", help="with --files: list every file")
    p.add_argument("--ocr-on", metavar="LIBRARY", help="read scanned pages and pictures of a library by OCR (default)")
    p.add_argument("--ocr-off", metavar="LIBRARY", help="do not OCR a library's scanned pages and pictures")
    p.add_argument("--remove", metavar="LIBRARY", help="remove a library from Bunko")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_libraries)

    p = sub.add_parser("remove", help="remove a library (its folder is not touched)")
    p.add_argument("library")
    p.set_defaults(func=cmd_remove)

    from .chat import add_chat_parsers
    from .models import add_models_parser

    add_chat_parsers(sub)
    add_models_parser(sub)
    from .finetune import add_finetune_parser

    add_finetune_parser(sub)
    from .compare import add_compare_parser

    add_compare_parser(sub)
    try:
        from .serve import add_serve_parser

        add_serve_parser(sub)
    except ImportError:  # pragma: no cover - while the server module is being written
        pass
    from .mcp import add_mcp_parser

    add_mcp_parser(sub)

    p = sub.add_parser("doctor", help="this computer, llama.cpp and its probe, GPU and versions: "
                       "one block of text for a bug report")
    p.add_argument("--probe", action="store_true", help="run the llama.cpp probe again now (the default model)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("eval", help="measure quality")
    esub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    e = esub.add_parser("retrieval", help="nDCG@10 and recall@10 on a BEIR-layout dataset")
    e.add_argument("--dataset", type=Path, required=True, help="folder with corpus.jsonl, queries.jsonl, qrels/test.tsv")
    e.add_argument("--modes", default="dense,keyword,hybrid")
    e.add_argument("--max-queries", type=int, help="use only the first N queries with judgements")
    e.add_argument("--max-docs", type=int, help="use only N documents (all judged ones kept)")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_eval)
    from ..bench.answers_eval import add_parser as add_answers_eval

    add_answers_eval(esub)

    p = sub.add_parser("bench", help="measure speed")
    bsub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    b = bsub.add_parser("index", help="end-to-end indexing against the embedder alone")
    b.add_argument("--folder", type=Path, help="documents to index (default: generated Japanese/English files)")
    b.add_argument("--files", type=int, default=60, help="generated files when no folder is given")
    b.add_argument("--hostile", action="store_true",
                   help="instead: one-line text files of 1 MB up to --max-mb, time per MB and peak memory")
    b.add_argument("--max-mb", type=int, default=64, help="largest one-line file of --hostile (default 64)")
    b.add_argument("--hostile-folder", action="store_true",
                   help="instead: a folder of ordinary files beside hostile ones (a one-line log of --big-mb, "
                        "dumps, node_modules), indexed with the real embedder: time, peak memory, files found")
    b.add_argument("--big-mb", type=int, default=60, help="size of --hostile-folder's one-line log (default 60)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    b = bsub.add_parser("embed", help="embedding speed of the new path against the old one, same run")
    b.add_argument("--rounds", type=int, default=3, help="turns each path takes; ratios per round (default 3)")
    b.add_argument("--texts", type=int, help="texts per set (default 256 Japanese, 48 English)")
    b.add_argument("--ja", type=Path, help="a BEIR corpus.jsonl for the Japanese set (default: generated)")
    b.add_argument("--en", type=Path, help="a BEIR corpus.jsonl for the English set (default: generated)")
    b.add_argument("--json", action="store_true")
    from .embed_host import add_ssh_arguments

    b.add_argument("--host", help="instead: the embedder on this SSH host against this computer's, same run "
                   "(generated texts only are sent)")
    add_ssh_arguments(b)
    b.set_defaults(func=cmd_bench)
    b = bsub.add_parser("search", help="search latency, memory and incremental adds at scale")
    b.add_argument("--sizes", default="100000,1000000", help="library sizes in chunks")
    b.add_argument("--queries", type=int, default=50)
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    b = bsub.add_parser("chat", help="generation speed against llama.cpp, follow-up latency, memory")
    b.add_argument("--model", help="model name (default: the embedded one); one on a server is measured "
                   "against the server's own timings")
    b.add_argument("--threads", type=int, help="CPU threads (default: the physical cores)")
    b.add_argument("--tokens", type=int, default=128, help="tokens generated per run (default 128)")
    b.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is kept")
    b.add_argument("--llama-bench", type=Path, help="llama.cpp's llama-bench binary (default: on PATH, or "
                   "in Bunko's tools folder; see packaging/build_llama_bench.sh)")
    b.add_argument("--gpu-layers", type=int, help="layers to offload (default: as many as fit)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    b = bsub.add_parser("contention", help="an answer's speed while a library indexes, against each alone")
    b.add_argument("--model", help="model name (default: the embedded one)")
    b.add_argument("--threads", type=int, help="CPU threads for the model (default: the physical cores)")
    b.add_argument("--tokens", type=int, default=96, help="tokens per answer (default 96)")
    b.add_argument("--runs", type=int, default=3, help="answers per measurement; the median is kept")
    b.add_argument("--files", type=int, default=60, help="generated files to index (default 60)")
    b.add_argument("--modes", default="pause,full", help="CPU budget modes to try (pause, slow, full)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    b = bsub.add_parser("finetune", help="LoRA training speed: Bunko's trainer against a plain PEFT loop, the time estimate's "
                                      "error, Unsloth against PEFT")
    b.add_argument("--base", help="the model to train (default: the default model)")
    b.add_argument("--steps", type=int, default=20, help="training steps per backend (default 20)")
    b.add_argument("--seq-len", type=int, default=512)
    b.add_argument("--batch", type=int, default=4)
    b.add_argument("--rank", type=int, default=16)
    b.add_argument("--backends", default="unsloth,peft", help="which to run (default unsloth,peft)")
    b.add_argument("--no-4bit", action="store_true", help="Unsloth in 16 bits too")
    b.add_argument("--no-reference", action="store_true", help="skip the plain PEFT loop run after Bunko's trainer")
    b.add_argument("--no-estimate", action="store_true", help="skip timing the first steps before each job")
    b.add_argument("--threads", type=int, default=0, help="CPU threads for the trainer (default: one fewer than the cores)")
    from .finetune import _host_options

    _host_options(b)
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    b = bsub.add_parser("compare", help="the comparison lab's run time against the sum of its generations")
    b.add_argument("--questions", type=int, default=8, help="questions (default 8)")
    b.add_argument("--dataset", type=Path, help="a BEIR-layout folder with answers.jsonl (default: generated facts)")
    b.add_argument("--distractors", type=int, default=200, help="other passages indexed beside the gold ones")
    b.add_argument("--model", help="model name (default: the default model)")
    b.add_argument("--arms", help="arms, comma-separated (default base,rag)")
    b.add_argument("--max-tokens", type=int, default=48, help="answer length limit (default 48)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    from ..bench.ocr_bench import add_parsers as add_ocr_parsers

    add_ocr_parsers(bsub, esub, cmd_bench)
    b = bsub.add_parser("download", help="model download throughput against a plain HTTP read (loopback server)")
    b.add_argument("--size-mb", type=float, default=256, help="size of the generated model file (default 256)")
    b.add_argument("--runs", type=int, default=3, help="runs of each; the best is kept (default 3)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    b = bsub.add_parser("mcp", help="a search through `bunko mcp` over stdio against the engine directly")
    b.add_argument("--queries", type=int, default=100, help="timed queries (default 100)")
    b.add_argument("--files", type=int, default=60, help="generated files in the library (default 60)")
    b.add_argument("-k", type=int, default=5, help="passages per search (default 5)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    b = bsub.add_parser("serve", help="/v1/embeddings over HTTP against the embedder directly")
    b.add_argument("--texts", type=int, default=256, help="texts of about 100 tokens (default 256)")
    b.add_argument("--batch", type=int, default=32, help="texts per request (default 32)")
    b.add_argument("--runs", type=int, default=2, help="rounds over all texts (default 2)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    return parser


def cmd_doctor(args) -> int:
    with open_engine(args) as engine:
        report = engine.doctor(probe=args.probe)
    if args.json:
        print_json({**report.facts, "text": report.text})
    else:
        print(report.text)
    return 0


# Bunko's own child processes, started as `bunko --llm-worker` (llm/supervised.py) and
# `bunko --ocr-worker` (ingest/ocr/client.py) where there is no Python to run them with.
CHILD_PROCESSES = {"--llm-worker": "engine.llm.worker", "--ocr-worker": "engine.ingest.ocr.worker"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in CHILD_PROCESSES:   # a packaged build has no `python -m`
        import importlib

        return importlib.import_module(CHILD_PROCESSES[argv[0]]).main() or 0
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return 0
    try:
        from ..embed.device import set_defaults

        set_defaults(args.embed_device, args.embed_graph)
        return args.func(args)
    except BunkoError as exc:
        print(f"bunko: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
