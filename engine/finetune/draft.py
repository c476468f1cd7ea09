"""Draft question–answer pairs from a library with the local model, for the user to review.

Passages are taken evenly across the library; for each, the model is asked for one
question the passage answers and its answer ("Q: … / A: …"). A reply in another shape
is listed as a problem, not guessed at. Small models draft poorly: the wizard shows
every pair for editing before anything is trained.
"""

from __future__ import annotations

import logging
import re
from typing import Callable

from ..resources import language_of, prompt
from ..types import GenerationSettings
from .dataset import Dataset, RowProblem

log = logging.getLogger(__name__)

MIN_CHARS = 80   # Japanese says in 80 characters what English says in 200
MAX_CHARS = 1500
_Q = re.compile(r"^\s*(?:Q|質問|問)\s*[:：]\s*(.+)$", re.M)
_A = re.compile(r"^\s*(?:A|答え|回答|答)\s*[:：]\s*(.+)", re.M | re.S)


def passages(store, library_id: int, count: int) -> list[tuple[int, str, str]]:
    """`count` passages (chunk id, file, text) spread evenly over the library."""
    rows = store.cursor().execute(
        "SELECT c.id, d.path, c.text FROM chunks c JOIN documents d ON d.id = c.document_id "
        "WHERE c.library_id = ? AND length(c.text) >= ? ORDER BY c.id", [library_id, MIN_CHARS]).fetchall()
    if len(rows) <= count:
        return [(r[0], r[1], r[2]) for r in rows]
    stride = len(rows) / count
    return [(rows[int(i * stride)][0], rows[int(i * stride)][1], rows[int(i * stride)][2]) for i in range(count)]


def parse(reply: str) -> tuple[str, str] | None:
    q, a = _Q.search(reply), _A.search(reply)
    if not q or not a:
        return None
    question, answer = q.group(1).strip(), a.group(1).strip()
    return (question, answer) if question and answer else None


def draft(engine, library: str, count: int = 20, model: str | None = None,
          on_item: Callable[[int, int, dict | None], None] | None = None, cancel=None) -> Dataset:
    """Examples drafted from `library`; `on_item(done, total, example or None)` after each passage.
    `cancel` is a CancelToken: it also stops the answer being written."""
    lib = engine.library(library)
    chosen = passages(engine.store, lib.id, count)
    ds = Dataset([], source=f"drafted from {lib.name}")
    settings = GenerationSettings(temperature=0.3, max_tokens=200, seed=0)
    for n, (chunk_id, path, text) in enumerate(chosen, 1):
        if cancel is not None and cancel.cancelled:
            break
        ask = prompt("draft", language_of(text)).format(path=path, text=text[:MAX_CHARS])
        reply = "".join(e.text for e in engine.chat.stream(ask, model=model, settings=settings, cancel=cancel)
                        if e.kind == "token")
        pair = parse(reply)
        example = None
        if pair is None:
            ds.problems.append(RowProblem(n, f"{path}: the model's draft was not a question and an answer"))
        else:
            example = {"messages": [{"role": "user", "content": pair[0]},
                                    {"role": "assistant", "content": pair[1]}], "_line": n}
            ds.examples.append(example)
        if on_item:
            on_item(n, len(chosen), example)
    log.info("drafted %d pairs from %s (%d replies unusable)", len(ds.examples), lib.name, len(ds.problems))
    return ds
