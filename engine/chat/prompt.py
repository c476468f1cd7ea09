"""Building the prompt for one turn: system text, earlier turns, numbered sources, question.

Earlier turns are written as plain question and answer, without the passages
they were sent with: those would fill the context within a few turns, and
when they then had to go, the prompt would no longer start like the one in
the KV cache and everything would be read again (measured: 43 s instead of 6 s
for the fifth turn on the embedded model). So a follow-up re-reads only the
previous question and answer plus its own sources. When it does not fit, the
oldest turns go first, then the lowest-ranked passages of this question. The
system text and the question always stay.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .. import resources
from ..resources import language_of
from ..errors import ContextOverflowError
from ..llm import template as _template
from ..llm.template import Message

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class PromptSource:
    number: int
    label: str     # "規程/出張.md — 日当", "manual.pdf p. 3"
    text: str


@dataclass(frozen=True)
class Turn:
    """An earlier exchange."""
    question: str
    answer: str


@dataclass
class Prompt:
    payload: list                        # what the model's generate() takes (see `encode` of each model)
    sources: list[PromptSource]          # the passages that made it in, in order
    turns_kept: int = 0
    dropped: list[str] = field(default_factory=list)  # what was cut to fit, for the log

    @property
    def tokens(self) -> list[int]:
        """The prompt's tokens (a model on this computer; a remote model takes chat messages)."""
        return self.payload


def user_text(question: str, sources: tuple[PromptSource, ...] | list[PromptSource], rag: bool) -> str:
    """A question as the model reads it: with RAG, inside the numbered-sources template."""
    if not rag:
        return question
    lang = language_of(question)
    if sources:
        block = "\n\n".join(resources.prompt("source").format(number=s.number, label=s.label, text=s.text.strip())
                            for s in sources)
    else:
        block = resources.prompt("no_sources", lang)
    return resources.prompt("rag", lang).format(sources=block, question=question.strip())


def default_system_prompt(question: str) -> str:
    return resources.prompt("system", language_of(question))


def prerender(state, system: str | None, turns: int, question: str) -> None:
    """Render `state`'s chat template (a loaded model's ModelState) for every shape `build` may try,
    before the model's lock is taken: see template.prerender."""
    has_system = bool(system if system is not None else default_system_prompt(question))
    _template.prerender(state.chat_template, dict(state.special_tokens), turns, has_system)


def build(model, template: str | None, system: str | None, history: list[Turn], question: str,
          sources: list[PromptSource], rag: bool, reserve: int) -> Prompt:
    """Fit everything into the model's context, leaving `reserve` tokens for the answer."""
    budget = model.n_ctx - max(16, min(reserve, model.n_ctx // 2))
    history = list(history)
    sources = list(sources)
    dropped: list[str] = []
    system = system if system is not None else default_system_prompt(question)
    while True:
        messages = [Message("system", system)] if system else []
        for turn in history:
            messages.append(Message("user", turn.question))
            messages.append(Message("assistant", turn.answer))
        messages.append(Message("user", user_text(question, sources, rag)))
        payload, n = model.encode(template, messages)  # tokens here; chat messages for a server
        if n <= budget:
            if dropped:
                log.info("prompt cut to fit %d tokens: %s", budget, ", ".join(dropped))
            return Prompt(payload, sources, len(history), dropped)
        if history:
            history.pop(0)
            dropped.append("oldest turn")
        elif sources:
            gone = sources.pop()
            dropped.append(f"source [{gone.number}]")
        else:
            raise ContextOverflowError(
                f"The question is too long for this model: it needs {n} tokens, and the "
                f"context holds {model.n_ctx} with {model.n_ctx - budget} kept for the answer. "
                "Shorten it, or load the model with a larger context.")
