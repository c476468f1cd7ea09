"""Finding the sources of an answer that cites none.

Small models (the embedded 135M one among them) answer from the sources but
rarely write [1]. Then the sources whose words the answer repeats are taken as
its citations, marked as inferred so that the app can say so.
"""

from __future__ import annotations

from ..search.keyword import tokenize

MIN_SHARE = 0.4     # of the answer's terms found in the best source
NEAR_BEST = 0.75    # other sources must come this close to the best
MAX_SOURCES = 2


def attribute(answer: str, sources: list[tuple[int, str]]) -> list[int]:
    """Numbers of the sources that `answer` draws on, best first; [] when unclear."""
    terms = set(tokenize(answer))
    if not terms or not sources:
        return []
    shares = []
    for number, text in sources:
        found = terms & set(tokenize(text))
        shares.append((len(found) / len(terms), number))
    shares.sort(key=lambda s: (-s[0], s[1]))
    best = shares[0][0]
    if best < MIN_SHARE:
        return []
    return [n for share, n in shares[:MAX_SOURCES] if share >= best * NEAR_BEST]
