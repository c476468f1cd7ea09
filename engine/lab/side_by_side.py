"""One question, two ways of answering it (model, adapter, with or without libraries), shown
side by side; the person marks the better answer and the marked pairs become a question set
the comparison lab runs (its reference answer: the better one).

Only one local model is held in memory at a time (engine/llm/host.py), so the two answers
are generated one after the other, each streamed as it comes; switching models between them
costs a load, which the first-token time of the second answer includes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Callable, Iterator

from ..cancel import CancelToken
from ..errors import BunkoError
from .questions import make as make_question, question_key
from ..paths import data_dir
from ..types import Answer, GenerationSettings, Side, SideEvent

log = logging.getLogger(__name__)

PREFERENCES_FILE = "side_by_side.jsonl"
_WRITE = threading.Lock()   # one writer of the file at a time, whichever SideBySide writes


def preferences_path() -> Path:
    """Where marked pairs go unless the caller names a file: the comparison lab's folder."""
    return data_dir() / "lab" / PREFERENCES_FILE


class SideBySide:
    def __init__(self, stream: Callable[..., Iterator]) -> None:
        self._stream = stream   # Chat.stream

    def stream(self, question: str, sides: tuple[Side, Side] | list[Side],
               settings: GenerationSettings | None = None,
               cancel: CancelToken | None = None) -> Iterator[SideEvent]:
        """Events of side 0, then of side 1: start, sources, token…, notice, done (or error; the
        other side still answers). Times are measured from each side's start."""
        sides = list(sides)
        if len(sides) != 2:
            raise BunkoError("Side by side compares exactly two choices.")
        if not question or not question.strip():
            raise BunkoError("Write a question first.")
        for i, side in enumerate(sides):
            if cancel is not None and cancel.cancelled:
                return
            began = time.perf_counter()
            first = None
            yield SideEvent(i, "start")
            try:
                for event in self._stream(
                        question, rag=bool(side.libraries), libraries=tuple(side.libraries) or None,
                        model=side.model, adapter=side.adapter, adapter_scale=side.adapter_scale,
                        settings=settings, cancel=cancel):
                    elapsed = time.perf_counter() - began
                    if event.kind == "token" and first is None and event.text.strip():
                        first = elapsed
                    yield SideEvent(i, event.kind, text=event.text, sources=event.sources, answer=event.answer,
                                    notice=event.notice, first_token_s=first, elapsed_s=elapsed)
            except BunkoError as exc:
                log.info("side %d could not answer: %s", i, exc)
                yield SideEvent(i, "error", error=str(exc), elapsed_s=time.perf_counter() - began)

    def save(self, question: str, answers: tuple[Answer, Answer] | list[Answer], better: int,
             sides: tuple[Side, Side] | list[Side] | None = None, path: str | Path | None = None) -> Path:
        """Append the pair to a JSONL question set (question, answer = the better one, source =
        the file it cites first, plus what lost and how each side answered). The comparison lab
        reads it as it is (`bunko compare run --questions FILE`); a question already in the file
        is replaced by the newer mark."""
        if better not in (0, 1):
            raise BunkoError("Mark answer A or B as the better one before saving.")
        answers = list(answers)
        if len(answers) != 2 or any(a is None for a in answers):
            raise BunkoError("Both answers must have finished before the pair can be saved.")
        win, lose = answers[better], answers[1 - better]
        if not win.text.strip():
            raise BunkoError("The better answer is empty; there is nothing to learn from it.")
        make_question(question, win.text)   # the lab's own check: DatasetError says what is wrong
        cited = win.cited or win.sources
        row = {"question": question.strip(), "answer": win.text.strip(),
               "source": cited[0].path if cited else None, "rejected": lose.text.strip(),
               "better": "AB"[better], "marked_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "sides": [_describe(a, s) for a, s in zip(answers, sides or (None, None))]}
        target = Path(path).expanduser() if path else preferences_path()
        key = question_key(question)
        with _WRITE:
            target.parent.mkdir(parents=True, exist_ok=True)
            kept = []
            if target.is_file():
                for line in target.read_text(encoding="utf-8").splitlines():
                    try:
                        if question_key(json.loads(line).get("question", "")) == key:
                            continue
                    except (ValueError, AttributeError):
                        pass   # someone's hand edit: kept as it is, the lab reports it by line
                    kept.append(line)
            kept.append(json.dumps(row, ensure_ascii=False))
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_text("\n".join(kept) + "\n", encoding="utf-8")
            tmp.replace(target)
        log.info("saved a marked pair to %s", target)
        return target


def _describe(answer: Answer, side: Side | None) -> dict:
    stats = answer.stats or {}
    return {"model": answer.model, "adapter": answer.adapter,
            "libraries": list(side.libraries) if side else [s.library for s in answer.sources][:1],
            "tokens_per_second": stats.get("tokens_per_second"),
            "time_to_first_token": stats.get("time_to_first_token"), "status": answer.status}
