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
from collections.abc import Callable, Iterator, Sequence

from .budget import checkpoint
from .document import Section

CountTokens = Callable[[list[str]], list[int]]

# A unit ends after Japanese/Chinese full stops, ASCII ones followed by space, or newlines.
_SENTENCE_END = re.compile(r"[。！？!?]+[」』）)]*|(?<=[.])\s+|\n+")
_SOFT_BREAK = re.compile(r"[、，,;；:：]\s*|\s+")
_NOT_SPACE = re.compile(r"\S")

# A chunk never holds more characters than this many per token of its limit:
# text the tokenizer reads as almost nothing (long runs of spaces or of
# zero-width characters) must not make one chunk of a whole file.
CHARS_PER_TOKEN = 16
_BATCH_UNITS = 256  # sentences counted in one tokenizer call ...
_BATCH_CHARS = 64_000  # ... or this many characters of them


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


def _units(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of sentences, including their trailing punctuation."""
    start = 0
    not_space = _NOT_SPACE.search
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if not_space(text, start, end):
            yield start, end
        start = end
    if not_space(text, start):
        yield start, len(text)


def _sized_units(text: str, limit: int, max_chars: int, count: CountTokens) -> Iterator[list[tuple[int, int, int]]]:
    """Lists of (start, end, tokens) of the sentences in order, over-long ones cut into pieces.

    Sentences are counted a batch at a time, and a sentence longer than
    `max_chars` is never counted whole (one 60 MB line would make one
    tokenizer call of 60 MB): it goes to the cutter at once.
    """
    batch: list[tuple[int, int]] = []
    chars = 0

    def counted() -> list[tuple[int, int, int]]:
        sized: list[tuple[int, int, int]] = []
        for (a, b), n in zip(batch, count([text[a:b] for a, b in batch])):
            if n > limit:
                sized.extend(_split_long(text, a, b, limit, max_chars, count))
            else:
                sized.append((a, b, n))
        batch.clear()
        return sized

    for a, b in _units(text):
        if b - a > max_chars:
            if batch:
                yield counted()
            chars = 0
            for piece in _split_long(text, a, b, limit, max_chars, count):
                yield [piece]
            continue
        batch.append((a, b))
        chars += b - a
        if len(batch) >= _BATCH_UNITS or chars >= _BATCH_CHARS:
            checkpoint()
            yield counted()
            chars = 0
    if batch:
        yield counted()


def _split_long(text: str, start: int, end: int, limit: int, max_chars: int,
                count: CountTokens) -> Iterator[tuple[int, int, int]]:
    """Cut one over-long sentence into pieces of at most `limit` tokens and `max_chars` characters.

    Each piece is found by counting a window about one piece long, its size
    guessed from the characters per token of the piece before, so the work
    grows with the length of the sentence, not with its square.
    """
    per_token = 4.0
    while start < end:
        checkpoint()
        size = min(end - start, max_chars, max(1, int(limit * per_token * 0.9)))
        grown = False
        while True:
            cut = start + size
            if cut < end:
                cut = _soft_cut(text, start, cut)
            n = count([text[start:cut]])[0]
            if n > limit:
                if cut - start <= 1:
                    break  # one character over the limit: nothing smaller to give
                size = max(1, min(cut - start - 1, int((cut - start) * limit / n * 0.9)))
                continue
            if not grown and cut < end and cut - start < max_chars and n < 0.8 * limit:
                grown = True  # the guess was short: one try at a piece closer to the limit
                bigger = min(end - start, max_chars, int((cut - start) * limit / max(n, 1) * 0.9))
                if bigger > cut - start:
                    size = bigger
                    continue
            break
        per_token = max(0.5, (cut - start) / max(n, 1))
        yield start, cut, n
        start = cut


def _soft_cut(text: str, start: int, cut: int) -> int:
    """The last comma or space in the second half of text[start:cut], else `cut`."""
    half = start + (cut - start) // 2
    soft = cut
    for match in _SOFT_BREAK.finditer(text, start, cut):
        if match.end() > half:
            soft = match.end()
    return soft


def chunk_sections(
    sections: Sequence[Section],
    count_tokens: CountTokens,
    max_tokens: int = 320,
    overlap: int = 48,
) -> list[Chunk]:
    """Chunks of at most `max_tokens` tokens (text only; the model's own extras excluded).

    Time and memory grow with the length of the text: sentences are read,
    counted and packed as a stream, and a chunk holds at most
    `CHARS_PER_TOKEN * max_tokens` characters whatever the tokenizer says.
    """
    extra = count_tokens([""])[0]  # specials and prefix that every text carries

    def count(texts: list[str]) -> list[int]:
        return [max(0, n - extra) for n in count_tokens(texts)]

    max_chars = CHARS_PER_TOKEN * max_tokens
    chunks: list[Chunk] = []
    for section in sections:
        chunks.extend(_section_chunks(section, count, max_tokens, overlap, max_chars))
    return chunks


def _section_chunks(section: Section, count: CountTokens, max_tokens: int, overlap: int,
                    max_chars: int) -> Iterator[Chunk]:
    text = section.text
    batches = _sized_units(text, max_tokens, max_chars, count)
    window: list[tuple[int, int, int]] = []  # the units from the next chunk's first one on
    line, line_pos = section.line_start, 0  # a line number and the offset it was counted to
    done = False
    while True:
        checkpoint()
        j, total = 0, 0
        first = window[0][0] if window else 0
        while True:
            if j == len(window):
                more = next(batches, None)
                if more is None:
                    done = True
                    break
                if not window:
                    first = more[0][0]
                window.extend(more)
            _, b, n = window[j]
            if j and (total + n > max_tokens or b - first > max_chars):
                break
            total += n
            j += 1
        if not j:
            return
        a, b = window[0][0], window[j - 1][1]
        raw = text[a:b]
        body = raw.strip()
        lead = len(raw) - len(raw.lstrip())
        line_start = line_end = None
        if line is not None:
            line += text.count("\n", line_pos, a + lead)  # chunks start further on each time
            line_pos = a + lead
            line_start, line_end = line, line + body.count("\n")
        yield Chunk(body, section.page, section.heading, line_start, line_end, total)
        if done and j == len(window):
            return
        # Step back over trailing sentences worth about `overlap` tokens (and as
        # large a share of the characters, or zero-token sentences would repeat).
        back, k = 0, j
        while (k - 1 > 0 and back + window[k - 1][2] <= overlap
               and (b - window[k - 1][0]) * max_tokens <= overlap * max_chars):
            k -= 1
            back += window[k][2]
        del window[:k]
