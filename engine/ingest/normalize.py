"""Text clean-up for display, and the normalised form used for searching.

Two different jobs, kept apart on purpose: `clean_text` makes parser output
tidy without changing what a person reads (no NFKC, so "①" and half-width
katakana stay as written), while `normalize_for_search` folds variants
together so "ＡＢＣ" finds "abc" and "ﾃｽﾄ" finds "テスト".
"""

from __future__ import annotations

import re
import unicodedata

from engine.ingest.budget import checkpoint
from engine.ingest.document import Section

# C0/C1 controls except \t and \n (\r is turned into \n first), DEL, and stray
# byte-order marks that concatenated files carry in the middle of the text.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]")
# Lone surrogates (a damaged UTF-16 file, a PDF's broken text) cannot be stored.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Only where a run of spaces starts: "[ ]+$" alone retries the whole rest of a run
# from each of its spaces, quadratic in a long run that does not end a line.
_TRAILING_SPACE = re.compile("(?<![ \t\u3000])[ \t\u3000]+$", re.MULTILINE)
_MANY_BLANK_LINES = re.compile(r"\n{4,}")
_WHITESPACE = re.compile(r"\s+")
# Blank lines at the start of a text, each up to and including its line break.
_LEADING_BLANK_LINES = re.compile(r"(?:[^\S\n]*\n)*")
_NOT_SPACE = re.compile(r"\S")


def clean_text(text: str, *, keep_blank_lines: bool = False) -> str:
    """Tidy text for display: drop control characters, unify line breaks,
    trim trailing spaces on each line, and collapse 3+ blank lines to 2.

    Pass keep_blank_lines=True where line numbers matter (text, Markdown,
    code, CSV): then blank lines are kept so the n-th line stays the n-th line.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    checkpoint()
    text = _CONTROL.sub("", text)
    text = valid_text(text)
    checkpoint()
    text = _TRAILING_SPACE.sub("", text)
    checkpoint()
    if not keep_blank_lines:
        text = _MANY_BLANK_LINES.sub("\n\n\n", text)
    return text


def valid_text(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD, so it can be encoded and stored.

    A file name that is not UTF-8 reaches Python with one surrogate per bad byte.
    """
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


def normalize_for_search(text: str) -> str:
    """NFKC, lower-case, whitespace runs collapsed to one space.

    Only for keyword search and matching; never show this form to a person.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    return _WHITESPACE.sub(" ", text).strip()


def make_section(
    text: str,
    *,
    page: int | None = None,
    heading: str | None = None,
    line_start: int | None = None,
) -> Section | None:
    """Clean `text` and wrap it in a Section, or return None when it is empty.

    Leading blank lines are dropped and `line_start` moved down by as many, so
    it keeps pointing at the line of the first character. Where `line_start`
    is set, blank lines inside are kept so the chunker's line counting holds.
    """
    text = clean_text(text, keep_blank_lines=line_start is not None)
    # No split into lines: a file of millions of short lines would hold millions of strings.
    leading = _LEADING_BLANK_LINES.match(text)   # matches, if only the empty string
    blank = leading.end() if leading else 0
    if not _NOT_SPACE.search(text, blank):
        return None
    if line_start is not None:
        line_start += text.count("\n", 0, blank)
    text = (text[blank:] if blank else text).rstrip()
    return Section(text=text, page=page, heading=valid_text(heading) if heading else None, line_start=line_start)
