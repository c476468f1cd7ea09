"""Files for the four-arm table on a BEIR-layout QA set (e.g. ../shared/data/jaquad-train):
a library folder (the gold passages of every question used, plus distractors), the *known*
question/answer pairs to train on (known.csv), the *new* ones kept out of training (new.csv, given to
`bunko finetune run --held-out` so their passages stay out of RAG-style prompts too), and the same
two as question sets for the comparison lab (known.jsonl, new.jsonl).

    python -m engine.bench.fourarm_data ../shared/data/jaquad-train OUT --known 100 --new 100

The split is by question order in queries.jsonl, the distractors by the seed; the same
arguments give the same files. See README (Fine-tuning) for the commands that follow.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from .compare_bench import _dataset


def write(src: Path, out: Path, known: int, new: int, distractors: int, seed: int = 3) -> dict:
    questions, info = _dataset(src, out / "docs", 2 * (known + new), distractors, seed)
    trained = questions[:known]
    # JaQuAD asks several questions of one passage: a new question's passage is no known one's
    seen = {q.source for q in trained}
    unseen = [q for q in questions[known:] if q.source not in seen][:new]
    for name, rows in (("known.csv", trained), ("new.csv", unseen)):
        with (out / name).open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["question", "answer"])
            for q in rows:
                w.writerow([q.text, q.references[0]])
    for name, rows in (("known.jsonl", trained), ("new.jsonl", unseen)):
        with (out / name).open("w", encoding="utf-8") as f:
            for q in rows:
                f.write(json.dumps({"question": q.text, "answers": list(q.references), "source": q.source},
                                   ensure_ascii=False) + "\n")
    return dict(info, known=len(trained), new=len(unseen), folder=str(out))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--known", type=int, default=100)
    p.add_argument("--new", type=int, default=100)
    p.add_argument("--distractors", type=int, default=400)
    p.add_argument("--seed", type=int, default=3)
    args = p.parse_args(argv)
    print(json.dumps(write(args.dataset, args.out, args.known, args.new, args.distractors, args.seed),
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
