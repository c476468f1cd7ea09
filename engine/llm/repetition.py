"""Catching an answer that loops: the same phrase or sentence over and over.

Small models, and any model asked in a language it cannot write, fall into a
loop and repeat one sentence until the length limit (1,024 tokens of one
broken Japanese sentence was seen). The guard reads the answer as it streams
and says when it loops, so generation stops at once and the answer keeps one
copy of the repeated part.

Two signs, both cheap enough to check after every token:
- the end of the text is one unit repeated back to back: at least
  MIN_REPEATS copies and MIN_SPAN characters in all ("ですですですです…",
  or a whole sentence written again and again with nothing between);
- one sentence of at least MIN_SENTENCE characters written SENTENCE_REPEATS
  times anywhere in the answer, with other text between the copies.
"""

from __future__ import annotations

import re

MIN_REPEATS = 3
MIN_SPAN = 120
MAX_UNIT = 200          # longest repeated unit looked for back to back (characters)
MIN_SENTENCE = 8
SENTENCE_REPEATS = 3

_SENTENCE_END = re.compile(r"[。．！？!?\n]|\.(?=\s)")
_SPACES = re.compile(r"\s+")


class RepetitionGuard:
    """Feed the answer piece by piece; `feed` returns True once it loops."""

    def __init__(self) -> None:
        self.text = ""
        self.looping = False
        self._cut: int | None = None        # where the kept text ends once it loops
        self._scanned = 0                   # sentences before this offset are counted
        self._seen: dict[str, tuple[int, int]] = {}  # sentence -> (count, start of its 2nd copy)

    def feed(self, piece: str) -> bool:
        if self.looping or not piece:
            return self.looping
        self.text += piece
        self._check_tail()
        if not self.looping:
            self._check_sentences()
        return self.looping

    def kept(self) -> str:
        """The text with the loop cut down to its first copy."""
        return self.text if self._cut is None else self.text[:self._cut].rstrip()

    def _check_tail(self) -> None:
        text = self.text
        n = len(text)
        if n < MIN_SPAN:
            return
        for p in range(1, min(MAX_UNIT, n // MIN_REPEATS) + 1):
            unit = text[n - p:]
            if text[n - 2 * p:n - p] != unit:
                continue
            k = 2
            while (k + 1) * p <= n and text[n - (k + 1) * p:n - k * p] == unit:
                k += 1
            if k >= MIN_REPEATS and k * p >= MIN_SPAN:
                self.looping = True
                self._cut = n - (k - 1) * p
                return

    def _check_sentences(self) -> None:
        text = self.text
        for m in _SENTENCE_END.finditer(text, self._scanned):
            start, end = self._scanned, m.end()
            self._scanned = end
            sentence = _SPACES.sub(" ", text[start:end]).strip()
            if len(sentence) < MIN_SENTENCE:
                continue
            count, second = self._seen.get(sentence, (0, -1))
            count += 1
            if count == 2:
                second = start
            self._seen[sentence] = (count, second)
            if count >= SENTENCE_REPEATS:
                self.looping = True
                self._cut = second
                return
