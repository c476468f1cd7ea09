"""The training data's format on the command line: plain pairs, RAG-style (RAFT) examples, or both
(`bunko finetune prepare` and `run` share these options)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import FinetuneError


def _raft_options(args, seq_len: int | None):
    from ..finetune.raft import RaftOptions

    return RaftOptions(format=args.format, k=args.passages, gold_share=args.gold_share, seed=args.seed,
                       when_absent=args.when_absent, max_tokens=seq_len)


def training_set(engine, args, train: list[dict], held: list[dict], seq_len: int | None):
    """The training examples in the chosen format: plain pairs as they are, or RAG-style ones
    built from the training split only (the held-out passages kept out), with a progress line."""
    if args.format == "plain":
        from ..finetune.dataset import Dataset

        return Dataset(list(train))
    if not args.library:
        raise FinetuneError(f"--format {args.format} gives each question passages of a library: name it with "
                            "--library.")

    def progress(p) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r\033[Kfinding passages: {p.done}/{p.total} questions")
            sys.stderr.flush()

    built = engine.jobs.raft_examples(args.library, train, _raft_options(args, seq_len), held_out=held,
                                 progress=progress)
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    return built


def preview(examples: list[dict], n: int) -> None:
    for e in examples[:n]:
        print(f"--- example ({e.get('_kind', 'plain')})")
        for m in e["messages"]:
            print(f"[{m['role']}]\n{m['content']}")
    if n and examples:
        print("---")


def write_held(output: Path, held: list[dict]) -> Path:
    from ..finetune.dataset import write_jsonl

    path = output.with_name(output.stem + ".held-out.jsonl")
    write_jsonl(held, path)
    return path


def format_options(p) -> None:
    p.add_argument("--format", choices=("plain", "raft", "both"), default="plain",
                   help="plain question→answer pairs, RAG-style examples (RAFT: the chat's prompt with passages "
                        "of --library), or both (plain)")
    p.add_argument("--library", help="the library whose passages RAG-style examples are given")
    p.add_argument("--passages", type=int, default=4, help="passages per RAG-style example, as the chat (4)")
    p.add_argument("--gold-share", type=float, default=0.8,
                   help="share of RAG-style examples that hold the passage with the answer (0.8)")
    p.add_argument("--when-absent", choices=("answer", "decline"), default="answer",
                   help="without that passage, learn the answer anyway (RAFT) or the chat's 'not in the sources'")
    p.add_argument("--seed", type=int, default=0, help="chooses which examples hold the passage (0)")
    p.add_argument("--held-out", type=Path, metavar="FILE",
                   help="question/answer pairs kept out of training besides the split (their passages too)")


def held_out_extra(args, held: list[dict]) -> list[dict]:
    """The split's held-out pairs plus those of --held-out FILE."""
    if not getattr(args, "held_out", None):
        return held
    from ..finetune.dataset import read_file

    return held + read_file(args.held_out).examples
