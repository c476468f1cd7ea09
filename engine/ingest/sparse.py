"""Text that carries almost no information, and the cap on passages from one file.

A folder may hold a log or data dump of tens of megabytes on one line: embedding all
of it took hours while the rest of the library waited. Text that is one character
repeated, or base64 / hex dumps, is skipped with a reason (nobody searches it by
meaning); any other file gives at most `MAX_FILE_CHUNKS` passages, and the rest is
listed as "indexed in part".
"""

from __future__ import annotations

import re
import zlib
from dataclasses import replace

# ~2,000 passages of up to 320 tokens: about 3 MB of Japanese or 5 MB of English text,
# a few minutes of embedding on two cores.
MAX_FILE_CHUNKS = 2000
# Text written without line breaks (a log or data dump on one line) is machine output that
# nobody reads from start to end: a few hundred passages make it findable. 2,000 passages
# of such dense text took ~4 minutes to embed on two cores (`bunko bench index --hostile-folder`).
MAX_LINELESS_CHUNKS = 500
LONG_LINE_CHARS = 100_000
SAMPLE_CHARS = 200_000  # judged on samples from the start, middle and end
_MIN_CHARS = 4096  # short texts are never judged: a short list of codes is a document too
_REPEATS = 0.02  # compressed / raw bytes below this: a few characters repeated
_DUMP_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-]{200,}")  # base64 or hex without spaces
_HEX_WORD = re.compile(r"[0-9a-fA-F]{2,8}:?")  # xxd / od style columns
CHARS_PER_CHUNK = 2000  # more than any 320-token chunk holds: chunking stops past this many per cap
PARTIAL_PREFIX = "indexed in part"  # how the note on such a file begins (counted and shown apart)


def _sample(texts: list[str]) -> str:
    """The start of the text, and the middle and end of its longest part (a one-line dump)."""
    third = SAMPLE_CHARS // 3
    head, size = [], 0
    for t in texts:
        head.append(t[:third - size])
        size += len(head[-1])
        if size >= third:
            break
    longest = max(texts, key=len)
    mid = len(longest) // 2
    if sum(map(len, texts)) <= SAMPLE_CHARS:
        return "".join(texts)
    return "".join(head) + longest[mid:mid + third] + longest[-third:]


def low_information(texts: list[str]) -> str | None:
    """Why text made of `texts` is not worth embedding, or None. Bounded time: it reads samples."""
    if sum(map(len, texts)) < _MIN_CHARS:
        return None
    sample = _sample(texts)
    raw = sample.encode("utf-8", "surrogatepass")
    if len(zlib.compress(raw, 1)) < _REPEATS * len(raw):
        return "text with almost no information (the same few characters repeated); not indexed"
    dumped = sum(len(m.group(0)) for m in _DUMP_TOKEN.finditer(sample))
    if dumped > 0.8 * len(sample):
        return "encoded data (base64 or hex) rather than text; not indexed"
    words = sample.split()
    if len(words) >= 500 and sum(1 for w in words if _HEX_WORD.fullmatch(w)) > 0.7 * len(words):
        return "a hex dump rather than text; not indexed"
    return None


def chunk_limit(texts: list[str]) -> int:
    """The cap on passages for this text: lower when most of it sits on very long lines."""
    total = sum(map(len, texts))
    if total < 2 * LONG_LINE_CHARS:
        return MAX_FILE_CHUNKS
    on_long_lines = 0
    for text in texts:
        start = 0
        while start < len(text):
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            if end - start > LONG_LINE_CHARS:
                on_long_lines += end - start
            start = end + 1
    return MAX_LINELESS_CHUNKS if on_long_lines > total // 2 else MAX_FILE_CHUNKS


def head(sections: list, max_chars: int) -> tuple[list, float]:
    """The first sections up to about `max_chars` characters (the last one cut), and the
    share of the text they hold: chunking all of a 60 MB file only to keep its start
    would cost minutes of tokenising."""
    total = sum(len(s.text) for s in sections)
    if total <= max_chars:
        return sections, 1.0
    kept, size = [], 0
    for s in sections:
        if size + len(s.text) > max_chars:
            kept.append(replace(s, text=s.text[:max_chars - size]))
            break
        kept.append(s)
        size += len(s.text)
    return kept, max_chars / total


def capped(chunks: list, share: float = 1.0, limit: int = MAX_FILE_CHUNKS) -> tuple[list, str | None]:
    """At most `limit` chunks, and the note to list with the file when some text was left out
    (`share`: the part of the file's text the chunks came from)."""
    if len(chunks) > limit:
        share *= limit / len(chunks)
        chunks = chunks[:limit]
    elif share >= 1.0:
        return chunks, None
    return chunks, (f"{PARTIAL_PREFIX}: the first {len(chunks):,} passages, about {share:.0%} of the text "
                    f"(a file this large would hold the rest of the library back)")
