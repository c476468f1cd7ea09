"""The optional judge: a local model reads the rubric and we read the probabilities of its
first token over the grade digits, instead of trusting one sampled digit."""

from __future__ import annotations

from collections.abc import Callable

from ..chat import prompt
from . import scoring


def judge_probs(host) -> Callable[[str, str, list[str]], list[float]]:
    """(model, rubric prompt, grade texts) -> the probability of each grade as the next token."""
    def probs(model: str, text: str, grades: list[str]) -> list[float]:
        with host.use(model, None) as (llm, state):
            built = prompt.build(llm, state.chat_template, scoring.JUDGE_SYSTEM, [], text, [], False, reserve=4)
            candidates = [llm.tokenize(g)[0] for g in grades]
            return llm.next_token_probs(built.tokens, candidates)

    return probs
