"""Intervals and paired tests, so that "RAG beats fine-tuning" is said only when it holds.

Accuracy gets a percentile bootstrap 95 % interval (seeded: the same answers give the same
interval). Two arms answered the same questions, so they are compared pair by pair: the
exact McNemar test on the questions where exactly one arm was right, and a paired
bootstrap interval for the difference in accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

BOOTSTRAP = 2000
ALPHA = 0.05


def bootstrap_ci(values: Sequence[float], n: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float]:
    """95 % percentile interval of the mean; (nan, nan) for no values."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n, x.size))].mean(axis=1)
    return (float(np.quantile(means, ALPHA / 2)), float(np.quantile(means, 1 - ALPHA / 2)))


def mcnemar_exact(a: Sequence[bool], b: Sequence[bool]) -> dict:
    """Two-sided exact McNemar test: only a right (`a_only`), only b right (`b_only`), p."""
    a_only = sum(1 for x, y in zip(a, b) if x and not y)
    b_only = sum(1 for x, y in zip(a, b) if y and not x)
    n = a_only + b_only
    if n == 0:
        return {"a_only": 0, "b_only": 0, "p": 1.0}
    k = min(a_only, b_only)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return {"a_only": a_only, "b_only": b_only, "p": min(1.0, 2 * tail)}


def paired_bootstrap(a: Sequence[float], b: Sequence[float], n: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float]:
    """95 % interval of mean(b - a) over resampled questions."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    return bootstrap_ci(d, n, seed)


def compare(name_a: str, a: Sequence[bool], name_b: str, b: Sequence[bool]) -> dict:
    """The difference b − a in accuracy, its interval, the p value, the arm the test says is
    better (`winner`, None when it does not tell) and that verdict in words."""
    test = mcnemar_exact(a, b)
    lo, hi = paired_bootstrap([float(x) for x in a], [float(x) for x in b])
    diff = (sum(b) - sum(a)) / len(a) if len(a) else math.nan
    winner = (name_b if diff > 0 else name_a if diff < 0 else None) if test["p"] < ALPHA else None
    loser = name_a if winner == name_b else name_b
    verdict = f"{winner} better than {loser}" if winner else "no clear difference"
    return {"a": name_a, "b": name_b, "diff": diff, "ci": (lo, hi), **test, "verdict": verdict, "winner": winner}


def accuracy(values: Sequence[bool]) -> dict:
    """n, accuracy and its interval."""
    n = len(values)
    acc = sum(values) / n if n else math.nan
    lo, hi = bootstrap_ci([float(v) for v in values])
    return {"n": n, "accuracy": acc, "ci": (lo, hi)}
