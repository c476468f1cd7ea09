"""The before/after comparison of a fine-tune: held-out questions (training ones if none)
answered by the base model alone and with the adapter."""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Callable

from ..types import BeforeAfter


def held_out_questions(job_dir: Path, n: int) -> list[tuple[str, str]]:
    """(last user question, expected answer) pairs of the job's held-out set."""
    pairs: list[tuple[str, str]] = []
    for name in ("eval.jsonl", "train.jsonl"):
        path = Path(job_dir) / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if len(pairs) >= n:
                return pairs
            if not line.strip():
                continue
            messages = json.loads(line)["messages"]
            users = [m["content"] for m in messages[:-1] if m["role"] == "user"]
            if users and messages[-1]["role"] == "assistant":
                pairs.append((users[-1], messages[-1]["content"]))
        if pairs:
            break
    return pairs


def before_after(job_dir: Path, n: int, before: Callable[[str], str],
                 after: Callable[[str], str]) -> list[BeforeAfter]:
    """Up to `n` held-out questions, each answered by `before` and `after`."""
    return [BeforeAfter(q, expected, before(q), after(q)) for q, expected in held_out_questions(job_dir, n)]
