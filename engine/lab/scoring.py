"""Scores for one answer against its references, each one simple enough to explain.

- match: the answer contains a reference, after NFKC folding, lower-casing and removing
  spaces and punctuation (全角 and 半角 digits, "Kaname" and "kaname" are the same). This
  is the lab's one fixed metric for accuracy.
- f1: token overlap with the best reference. Japanese has no spaces, so CJK text is cut
  into character bigrams; Latin text into lower-cased words.
- similarity: cosine of the embedder's vectors of answer and reference (0..1).
- grounded (RAG arms): a passage the answer cites contains a reference.
- judge (optional): a local model grades correctness 1–5 against the reference with a
  fixed rubric; the grade is the mean of the digits weighted by their probabilities.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

_DROP = re.compile(r"[\s\u3000、。，．,.!?！？「」『』（）()\[\]【】・:：;；\"'`]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]+|[^\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC, lower case, no spaces or punctuation: what `match` compares."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text or "").lower())


def match(answer: str, references: Sequence[str]) -> bool:
    folded = normalize(answer)
    return any(normalize(r) and normalize(r) in folded for r in references)


def tokens(text: str) -> list[str]:
    """Character bigrams for CJK runs (a single character alone), lower-cased words otherwise."""
    out: list[str] = []
    for run in _WORD.findall(unicodedata.normalize("NFKC", text or "").lower()):
        if _CJK.match(run):
            out.extend([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
        else:
            out.append(run)
    return out


def f1(answer: str, references: Sequence[str]) -> float:
    """Token-overlap F1 against the best-matching reference (0..1)."""
    got = Counter(tokens(answer))
    best = 0.0
    for ref in references:
        want = Counter(tokens(ref))
        common = sum((got & want).values())
        if common:
            p, r = common / sum(got.values()), common / sum(want.values())
            best = max(best, 2 * p * r / (p + r))
    return best


def similarity(answer_vec, reference_vecs) -> float:
    """Cosine (vectors are normalised by the embedder), clipped to 0..1, best reference."""
    import numpy as np

    if answer_vec is None or len(reference_vecs) == 0:
        return 0.0
    sims = np.asarray(reference_vecs) @ np.asarray(answer_vec)
    return float(max(0.0, min(1.0, sims.max())))


def grounded(cited_texts: Sequence[str], references: Sequence[str]) -> bool:
    """A cited passage contains a reference: the answer rests on a source that says it."""
    return any(match(text, references) for text in cited_texts)


# -- the judge ---------------------------------------------------------------------

JUDGE_SYSTEM = "You grade answers strictly. Reply with one digit only."
JUDGE_RUBRIC = (
    "Question: {question}\n"
    "Reference answer: {reference}\n"
    "Answer to grade: {answer}\n\n"
    "Does the answer give the same fact as the reference? Grade it:\n"
    "5 = correct and complete; 4 = correct with small omissions; 3 = partly correct;\n"
    "2 = mostly wrong; 1 = wrong, off-topic or no answer.\n"
    "Reply with the digit only.")
GRADES = ("1", "2", "3", "4", "5")
JUDGE_PASS = 0.5     # a judge score at or above this counts as correct


def judge_prompt(question: str, references: Sequence[str], answer: str) -> str:
    return JUDGE_RUBRIC.format(question=question, reference=" / ".join(references), answer=answer[:1500])


def judge_score(probs: Sequence[float]) -> float | None:
    """The grade 1..5 weighted by the judge's probabilities, mapped to 0..1; None when the
    judge puts almost no weight on any digit (it did not follow the rubric)."""
    total = sum(probs)
    if total < 1e-4:
        return None
    grade = sum((i + 1) * p for i, p in enumerate(probs)) / total
    return (grade - 1) / 4


def score(answer: str, references: Sequence[str], cited_texts: Sequence[str] | None,
          embed: Callable[[list[str]], Any] | None) -> dict:
    """Every score that needs no judge; `cited_texts` None for arms without documents."""
    out = {"match": match(answer, references), "f1": round(f1(answer, references), 4)}
    if embed is not None and answer.strip():
        vecs = embed([answer, *references])
        out["similarity"] = round(similarity(vecs[0], vecs[1:]), 4)
    elif embed is not None:
        out["similarity"] = 0.0
    if cited_texts is not None:
        out["grounded"] = grounded(cited_texts, references)
    return out
