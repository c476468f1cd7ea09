"""Markdown helpers for answers: clickable citation numbers, and where a growing
answer can be cut into finished blocks while it streams."""

from __future__ import annotations

import re

CITE_SCHEME = "cite"

_CITE_RE = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\](?!\()")
_INLINE_CODE_RE = re.compile(r"(`+)(?:.*?)\1")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING_RE = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")


def _link_line(line: str, valid: set[int] | None) -> str:
    def replace(m: re.Match) -> str:
        if m.string[m.end():m.end() + 1] == ":" and not m.string[:m.start()].strip():
            return m.group(0)  # "[1]: url" at the start of a line defines a link
        numbers = [int(n) for n in re.split(r"\s*,\s*", m.group(1))]
        if valid is not None and not all(n in valid for n in numbers):
            return m.group(0)
        return "".join(f"[\\[{n}\\]]({CITE_SCHEME}:{n})" for n in numbers)

    out, pos = [], 0
    for code in _INLINE_CODE_RE.finditer(line):  # `a[1]` is code, not a citation
        out.append(_CITE_RE.sub(replace, line[pos:code.start()]))
        out.append(code.group(0))
        pos = code.end()
    out.append(_CITE_RE.sub(replace, line[pos:]))
    return "".join(out)


def link_citations(text: str, valid: set[int] | None = None) -> str:
    """Rewrite "[n]" as a Markdown link `[\\[n\\]](cite:n)`, outside code; with `valid`,
    only numbers of sources that exist become links."""
    lines = text.split("\n")
    fence: str | None = None
    for i, line in enumerate(lines):
        m = _FENCE_RE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
            else:
                lines[i] = _link_line(line, valid)
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip(" `~"):
            fence = None
    return "\n".join(lines)


class BlockSplitter:
    """Finds the last place where a growing Markdown text can be cut so that the part
    before it renders the same on its own: after a blank line or a heading, outside
    code fences. Each line is looked at once, however long the text grows."""

    def __init__(self) -> None:
        self._scanned = 0
        self._fence: str | None = None
        self.safe = 0

    def feed(self, text: str) -> int:
        while True:
            end = text.find("\n", self._scanned)
            if end < 0:
                return self.safe
            line = text[self._scanned:end]
            self._scanned = end + 1
            m = _FENCE_RE.match(line)
            if self._fence is None:
                if m:
                    self._fence = m.group(1)
                elif not line.strip() or _HEADING_RE.match(line):
                    self.safe = self._scanned
            elif m and m.group(1)[0] == self._fence[0] and len(m.group(1)) >= len(self._fence) \
                    and not line.strip(" `~"):
                self._fence = None
                self.safe = self._scanned
