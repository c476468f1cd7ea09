"""Numbered citations in a model's answer: find them, drop the ones that point
at nothing, and write the rest as plain "[n]" / "[n, m]".

The prompt asks for [1], [2]; small models also write [1,2], [1][3], [1-3],
[^1], and in Japanese 【1】 or ［１］. Only brackets holding nothing but digits,
commas, spaces, dashes and ^ count, so Markdown links ("[text](url)") and
code ("array[i]") are left alone; so is everything inside `code` and ```
fences, where "a[0]" is code, not a citation to source 0.

`CitationStream` does the same to a streamed answer, holding back only a
possible marker that is still open (at most MAX_MARKER characters), so that
what it lets out, piece by piece, equals `clean()` of the whole answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_MARKER = 16  # "[1, 2, 3, 4, 5]" fits; anything longer is text, not a citation

_OPENERS = "[［【"
_OPEN = re.escape(_OPENERS)
_CLOSE = re.escape("]］】")
_DIGITS = "0-9０-９"
_SPACE = " \u3000"
_SEP = ",，、"
_DASH = "\\-‐‑–—−－~〜～"
_CARET = "\\^＾"

_S = f"[{_SPACE}]*"
_ITEM = f"[{_CARET}]?{_S}([{_DIGITS}]+)(?:{_S}[{_DASH}]{_S}([{_DIGITS}]+))?"
_GROUP = f"[{_OPEN}]{_S}{_ITEM}(?:{_S}[{_SEP}]{_S}{_ITEM})*{_S}[{_CLOSE}]"

_GROUP_RE = re.compile(_GROUP)
_MARKER_RE = re.compile(f"( ?)({_GROUP})")  # with the one space before it
_ITEM_RE = re.compile(_ITEM)
# An open marker that might still become a citation: only allowed characters so far.
_OPEN_RE = re.compile(f"[{_OPEN}][{_DIGITS}{_SPACE}{_SEP}{_DASH}{_CARET}]*\\Z")
_TOKEN_RE = re.compile(r"`+|\n|[^`\n]+")
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def _numbers(group: str, n_sources: int) -> list[int]:
    """The valid source numbers a marker names, in order, without repeats."""
    found: list[int] = []
    for m in _ITEM_RE.finditer(group):
        first = int(m.group(1).translate(_FULLWIDTH))
        last = int(m.group(2).translate(_FULLWIDTH)) if m.group(2) else first
        lo, hi = min(first, last), max(first, last)
        for n in range(max(lo, 1), min(hi, n_sources) + 1):  # clipped: "[1-9999]" stays cheap
            if n not in found:
                found.append(n)
    return found


def _rewrite(space: str, group: str, n_sources: int) -> str:
    """What a marker (and the space before it) becomes."""
    if len(group) > MAX_MARKER:
        return space + group
    numbers = _numbers(group, n_sources)
    if not numbers:
        return ""
    return space + "[" + ", ".join(map(str, numbers)) + "]"


class _CodeTracker:
    """Whether the text so far is inside inline `code` or a ``` fence.

    Backtick runs decide it: three or more open or close a fence; a shorter run
    opens inline code, closed by a run of the same length or by a line end
    (so one stray backtick cannot hide every later citation)."""

    def __init__(self) -> None:
        self.fence = False
        self.inline = 0

    @property
    def in_code(self) -> bool:
        return self.fence or self.inline > 0

    def backticks(self, n: int) -> None:
        if self.fence:
            self.fence = n < 3
        elif self.inline:
            if n == self.inline:
                self.inline = 0
        elif n >= 3:
            self.fence = True
        else:
            self.inline = n

    def newline(self) -> None:
        self.inline = 0


def _prose(text: str) -> Iterator[tuple[bool, str]]:
    """The text in pieces, each with whether it is prose (outside code)."""
    code = _CodeTracker()
    for token in _TOKEN_RE.findall(text):
        if token[0] == "`":
            yield False, token
            code.backticks(len(token))
        elif token == "\n":
            code.newline()
            yield False, token
        else:
            yield not code.in_code, token


def find_citations(text: str, n_sources: int) -> list[int]:
    """The valid source numbers the answer cites, in order of first appearance."""
    found: list[int] = []
    for prose, piece in _prose(text):
        if not prose:
            continue
        for m in _GROUP_RE.finditer(piece):
            if len(m.group(0)) <= MAX_MARKER:
                found += [n for n in _numbers(m.group(0), n_sources) if n not in found]
    return found


def clean(text: str, n_sources: int) -> str:
    """The answer with markers to missing sources removed and the rest normalised."""
    out = []
    for prose, piece in _prose(text):
        if prose:
            piece = _MARKER_RE.sub(lambda m: _rewrite(m.group(1), m.group(2), n_sources), piece)
        out.append(piece)
    return "".join(out)


class CitationStream:
    """`clean()` for an answer that arrives in pieces.

    Text passes straight through, except a space or an open bracket that may
    start a citation: that waits until the marker closes, turns out to be
    ordinary text, or grows past MAX_MARKER characters.
    """

    def __init__(self, n_sources: int) -> None:
        self.n_sources = n_sources
        self._pending = ""
        self._run = 0  # backticks seen in a row; the run ends at the next other character
        self._code = _CodeTracker()

    def feed(self, piece: str) -> str:
        self._pending += piece
        return self._drain(final=False)

    def flush(self) -> str:
        """The rest, at the end of the answer: an unclosed marker is plain text."""
        out = self._drain(final=True)
        self._pending = ""
        return out

    def _drain(self, final: bool) -> str:
        buf, out, i = self._pending, [], 0
        while i < len(buf):
            ch = buf[i]
            if ch == "`":
                self._run += 1
                out.append(ch)
                i += 1
                continue
            if self._run:
                self._code.backticks(self._run)
                self._run = 0
            if ch == "\n":
                self._code.newline()
            if self._code.in_code or (ch != " " and ch not in _OPENERS):
                out.append(ch)
                i += 1
                continue
            start = i + (ch == " ")  # where the bracket is, after the space that may go with it
            if start == len(buf):
                if not final:
                    break  # a trailing space: it goes if a dropped marker follows
                out.append(ch)
                i += 1
                continue
            if buf[start] not in _OPENERS:
                out.append(ch)
                i += 1
                continue
            rest = buf[start:]
            m = _GROUP_RE.match(rest)
            if m and len(m.group(0)) <= MAX_MARKER:
                out.append(_rewrite(buf[i:start], m.group(0), self.n_sources))
                i = start + m.end()
                continue
            if not m and not final and len(rest) < MAX_MARKER and _OPEN_RE.match(rest):
                break  # still open: wait for more
            out.append(buf[i:start + 1])  # not a citation: the space and bracket are text
            i = start + 1
        self._pending = buf[i:]
        return "".join(out)


_LABEL_LINE = re.compile(f"[{_OPEN}]{_S}([{_DIGITS}]+){_S}[{_CLOSE}]([^\\n]*)")


def relabel(text: str, sources) -> str:
    """A source's label copied with another source's number ("[1] a.md (Rules, L28-57)" where
    that passage is [2]) gets the number the sources have for it, so the text, the chips and
    *Sources* agree; a line that only copies a label ("[1] d00013") keeps just its marker.
    Only a marker followed on its line by a source's file name is touched."""
    def fix(m: re.Match) -> str:
        number = int(m.group(1).translate(_FULLWIDTH))
        rest = m.group(2)
        exact = [s for s in sources if s.label and s.label in rest]
        named = exact or [s for s in sources if s.path and s.path.rsplit("/", 1)[-1] in rest]
        if not named:
            return m.group(0)
        right = number if any(s.number == number for s in named) else named[0].number
        left = rest
        for s in named:  # a line that is nothing but the label: the number alone says it
            left = left.replace(s.label, "").replace(s.path.rsplit("/", 1)[-1], "")
        if not re.sub(r"[\W_]+", "", left.replace(named[0].path, "")):
            return f"[{right}]"
        return f"[{right}]{rest}"
    return "\n".join(line if "`" in line else _LABEL_LINE.sub(fix, line) for line in text.split("\n"))
