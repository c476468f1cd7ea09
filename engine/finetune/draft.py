"""Draft question–answer pairs from a library with the local model, for the user to review.

Passages are taken evenly across the library; for each, the model is asked for one
question the passage answers and its answer ("Q: … / A: …"). A reply in another shape
is listed as a problem, not guessed at. Small models draft poorly: the wizard shows
every pair for editing before anything is trained.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from ..resources import language_of, prompt
from ..cancel import CancelToken
from ..types import GenerationSettings, Progress
from .dataset import Dataset, RowProblem

log = logging.getLogger(__name__)

MIN_CHARS = 80   # Japanese says in 80 characters what English says in 200
MAX_CHARS = 1500
_Q = re.compile(r"^\s*(?:Q|質問|問)\s*[:：]\s*(.+)$", re.M)
_A = re.compile(r"^\s*(?:A|答え|回答|答)\s*[:：]\s*(.+)", re.M | re.S)


def parse(reply: str) -> tuple[str, str] | None:
    q, a = _Q.search(reply), _A.search(reply)
    if not q or not a:
        return None
    question, answer = q.group(1).strip(), a.group(1).strip()
    return (question, answer) if question and answer else None


SETTINGS = GenerationSettings(temperature=0.3, max_tokens=200, seed=0)


def draft(library: str, passages: list[tuple[int, str, str]], answer: Callable[[str], str],
          progress: Callable[[Progress], None] | None = None, cancel: CancelToken | None = None) -> Dataset:
    """Examples drafted from `passages` (chunk id, file, text) of `library`; `answer(prompt)` is the
    local model. After each passage `progress` gets a Progress whose `item` is the example or None."""
    ds = Dataset([], source=f"drafted from {library}")
    for n, (chunk_id, path, text) in enumerate(passages, 1):
        if cancel is not None and cancel.cancelled:
            break
        pair = parse(answer(prompt("draft", language_of(text)).format(path=path, text=text[:MAX_CHARS])))
        example = None
        if pair is None:
            ds.problems.append(RowProblem(n, f"{path}: the model's draft was not a question and an answer"))
        else:
            example = {"messages": [{"role": "user", "content": pair[0]},
                                    {"role": "assistant", "content": pair[1]}], "_line": n,
                       "_chunk": chunk_id}   # its gold passage, for RAG-style examples (raft.py)
            ds.examples.append(example)
        if progress:
            progress(Progress(done=n, total=len(passages), unit="examples", item=example))
    log.info("drafted %d pairs from %s (%d replies unusable)", len(ds.examples), library, len(ds.problems))
    return ds
