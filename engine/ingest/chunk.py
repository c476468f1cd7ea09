"""Cutting sections into chunks that fit the embedder, at sentence boundaries.

Sizes are counted with the embedder's own tokenizer, so a chunk never gets
silently truncated by the model. Sentences end at 。！？ (and their ASCII
forms followed by a space) or at a line break; a sentence longer than a chunk
is cut at the nearest comma (、，,) or, failing that, at a character position.
Consecutive chunks of a section share about `overlap` tokens of sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from .document import Section

CountTokens = Callable[[list[str]], list[int]]

# A unit ends after Japanese/Chinese full stops, ASCII ones followed by space, or newlines.
_SENTENCE_END = re.compile(r"[。！？!?]+[」』）)]*|(?<=[.])\s+|\n+")
_SOFT_BREAK = re.compile(r"[、，,;；:：]\s*|\s+")


@dataclass(frozen=True)
class Chunk:
    text: str  # as shown to the person
    page: int | None
    heading: str | None
    line_start: int | None
    line_end: int | None
    n_tokens: int

    def embed_text(self, title: str | None = None) -> str:
        """What the embedder sees: the heading path gives a passage its context."""
        context = " > ".join(part for part in (title, self.heading) if part)
        return f"{context}\n{self.text}" if context else self.text


def _units(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of sentences, including their trailing punctuation."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def _split_long(text: str, start: int, end: int, limit: int, count: CountTokens) -> list[tuple[int, int]]:
    """Cut one over-long sentence into pieces of at most `limit` tokens."""
    pieces = []
    while start < end:
        n = count([text[start:end]])[0]
        if n <= limit:
            pieces.append((start, end))
            break
        # Guess a cut by the share of characters, then back off to a soft break.
        cut = start + max(1, int((end - start) * limit / n * 0.9))
        soft = [m.end() for m in _SOFT_BREAK.finditer(text, start, cut) if m.end() > start + (cut - start) // 2]
        if soft:
            cut = soft[-1]
        while cut > start + 1 and count([text[start:cut]])[0] > limit:
            cut = start + (cut - start) * 3 // 4
        pieces.append((start, cut))
        start = cut
    return pieces


def chunk_sections(
    sections: Sequence[Section],
    count_tokens: CountTokens,
    max_tokens: int = 320,
    overlap: int = 48,
) -> list[Chunk]:
    """Chunks of at most `max_tokens` tokens (text only; the model's own extras excluded)."""
    extra = count_tokens([""])[0]  # specials and prefix that every text carries

    def count(texts: list[str]) -> list[int]:
        return [max(0, n - extra) for n in count_tokens(texts)]

    chunks: list[Chunk] = []
    for section in sections:
        text = section.text
        units: list[tuple[int, int]] = []
        spans = _units(text)
        sizes = count([text[a:b] for a, b in spans]) if spans else []
        for (a, b), n in zip(spans, sizes):
            if n > max_tokens:
                units.extend(_split_long(text, a, b, max_tokens, count))
            else:
                units.append((a, b))
        sizes = count([text[a:b] for a, b in units]) if units else []
        i = 0
        while i < len(units):
            j, total = i, 0
            while j < len(units) and (j == i or total + sizes[j] <= max_tokens):
                total += sizes[j]
                j += 1
            a, b = units[i][0], units[j - 1][1]
            raw = text[a:b]
            body = raw.strip()
            lead = len(raw) - len(raw.lstrip())
            line_start = line_end = None
            if section.line_start is not None:
                line_start = section.line_start + text.count("\n", 0, a + lead)
                line_end = line_start + body.count("\n")
            chunks.append(
                Chunk(body, section.page, section.heading, line_start, line_end, total)
            )
            if j >= len(units):
                break
            # Step back over trailing sentences worth about `overlap` tokens.
            back, k = 0, j
            while k - 1 > i and back + sizes[k - 1] <= overlap:
                k -= 1
                back += sizes[k]
            i = k
    return chunks
