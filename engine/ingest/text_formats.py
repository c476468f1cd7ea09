"""Plain text, source code, Markdown and CSV/TSV.

All of these have meaningful line numbers, so every Section carries the
1-based line of its first character, and the text keeps one source line per
text line (CSV: one row per line) so the chunker can count on from there.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator

from engine.errors import ParseError
from engine.ingest.budget import checkpoint
from engine.ingest.decode import Decoded, detect
from engine.ingest.document import ParsedDocument, Section
from engine.ingest.normalize import make_section

log = logging.getLogger(__name__)


def _decode(data: bytes) -> Decoded:
    result = detect(data)
    text = result.text.replace("\r\n", "\n").replace("\r", "\n")
    return Decoded(text, result.encoding, result.warning)


def _warnings(decoded: Decoded) -> list[str]:
    return [decoded.warning] if decoded.warning else []


def parse_plain(data: bytes, kind: str = "text") -> ParsedDocument:
    """Text, logs, reStructuredText, Org, and source code: one section from line 1."""
    decoded = _decode(data)
    section = make_section(decoded.text, line_start=1)
    return ParsedDocument(
        sections=[section] if section else [],
        kind=kind,
        encoding=decoded.encoding,
        warnings=_warnings(decoded),
    )


# --- Markdown ---------------------------------------------------------------

# Group 2 is the heading text with its trailing spaces; taken off in Python, as a
# lazy "(.*?)[ \t]*$" is quadratic in a line with a long run of spaces.
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*))?$")
_ATX_CLOSING = re.compile(r"(?:^|(?<![ \t])[ \t]+)#+$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_NOT_SETEXT_TEXT = re.compile(r"^ {0,3}(?:[-*+>|]|\d+[.)]|#|`{3,}|~{3,})")
# The only lines that can open or close a code block or be (or underline) a heading.
_MARKUP_LINE = re.compile(r"^ {0,3}(?:#|`{3}|~{3}|=|-)", re.MULTILINE)
_FRONT_END = re.compile(r"^[^\S\n]*(?:---|\.\.\.)[^\S\n]*$", re.MULTILINE)
_FRONT_TITLE = re.compile(r"^title[^\S\n]*:(.*)$", re.IGNORECASE | re.MULTILINE)
_NOT_SPACE = re.compile(r"\S")


def parse_markdown(data: bytes) -> ParsedDocument:
    """Split at ATX and setext headings; each section's heading is its path.

    The text is never split into a list of lines (a file of millions of short
    lines would make millions of strings): only the lines that can be markup
    are looked at, found by one regular expression.
    """
    decoded = _decode(data)
    text = hide_markup(decoded.text)
    first, front_title = _front_matter(text)
    headings = _find_headings(text, first)

    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    title = front_title
    starts = sorted({first, *((index, offset) for index, offset, _, _ in headings)})
    heading_at = {index: (level, heading) for index, _, level, heading in headings}
    for n, (start, offset) in enumerate(starts):
        checkpoint()
        end = starts[n + 1][1] - 1 if n + 1 < len(starts) else len(text)  # without the line break
        if start in heading_at:
            level, heading = heading_at[start]
            if level == 1 and title is None and heading:
                title = heading
            while path and path[-1][0] >= level:
                path.pop()
            if heading:
                path.append((level, heading))
        trail = " > ".join(t for _, t in path) or None
        section = make_section(text[offset:end], heading=trail, line_start=start + 1)
        if section:
            sections.append(section)
    return ParsedDocument(
        sections=sections,
        kind="markdown",
        title=title,
        encoding=decoded.encoding,
        warnings=_warnings(decoded),
    )


# What a reader of the rendered page never sees: HTML comments (a translated book may keep its
# whole original in them) and the tags of HTML tables and blocks (their text stays).
_COMMENT_OR_FENCE = re.compile(r"<!--|^ {0,3}(`{3,}|~{3,})", re.MULTILINE)
_COMMENT_END = re.compile(r"-->")
_TAG = re.compile(r"</?(?:table|thead|tbody|tfoot|tr|td|th|div|span|p|br|hr|img|sup|sub|details|summary|center"
                  r"|font|colgroup|col|caption|a|b|i|u|em|strong|small|big|ul|ol|li|dl|dt|dd|kbd)"
                  r"(?:\s[^<>\n]*)?/?>")
_TAG_OR_CODE = re.compile(r"`[^`\n]*`|" + _TAG.pattern)


def hide_markup(text: str) -> str:
    """`text` with HTML comments and HTML tags outside code blocks turned into spaces, so
    no line moves (line numbers of citations stay right). A comment never closed is kept."""
    out: list[str] = []
    pos = 0
    fence: str | None = None
    for m in _COMMENT_OR_FENCE.finditer(text):
        if m.start() < pos:  # inside a comment already hidden
            continue
        marker = m.group(1)
        if marker:
            if fence is None:
                out.append(_hide_tags(text[pos:m.start()]))
                pos, fence = m.start(), marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                out.append(text[pos:m.start()])
                pos, fence = m.start(), None
            continue
        if fence is not None:
            continue
        end = _COMMENT_END.search(text, m.end())
        if end is None:
            break
        out.append(_hide_tags(text[pos:m.start()]))
        out.append(_blank(text[m.start():end.end()]))
        pos = end.end()
    rest = text[pos:]
    out.append(rest if fence is not None else _hide_tags(rest))
    return "".join(out)


def _hide_tags(prose: str) -> str:
    if "<" not in prose:
        return prose
    return _TAG_OR_CODE.sub(lambda m: m.group(0) if m.group(0)[0] == "`" else _blank(m.group(0)), prose)


def _blank(piece: str) -> str:
    """Spaces for what is hidden, its line breaks kept."""
    return re.sub(r"[^\n]", " ", piece) if "\n" in piece else " " * len(piece)


def _line_at(text: str, offset: int) -> str:
    end = text.find("\n", offset)
    return text[offset:] if end < 0 else text[offset:end]


def _front_matter(text: str) -> tuple[tuple[int, int], str | None]:
    """(line index, offset) of the first line after YAML front matter, and its `title:` if any."""
    if _line_at(text, 0).strip() != "---":
        return (0, 0), None
    body = text.find("\n") + 1
    close = _FRONT_END.search(text, body) if body else None
    if close is None:
        return (0, 0), None  # never closed: not front matter after all
    match = _FRONT_TITLE.search(text, body, close.start())
    title = match.group(1).strip().strip("\"'") or None if match else None
    after = text.find("\n", close.end())
    if after < 0:  # the closing line is the last one
        return (text.count("\n", 0, close.end()) + 1, len(text) + 1), title
    return (text.count("\n", 0, after) + 1, after + 1), title


def _find_headings(text: str, first: tuple[int, int]) -> list[tuple[int, int, int, str]]:
    """(line index, offset, level, text) of each heading, skipping fenced code blocks.

    A setext heading is recorded at its text line, which is where its section
    starts; only single-line paragraphs count, which covers how people write.
    """
    found: list[tuple[int, int, int, str]] = []
    fence: str | None = None
    index, counted = first  # the line index at offset `counted`
    for match in _MARKUP_LINE.finditer(text, first[1]):
        checkpoint()
        offset = match.start()
        index += text.count("\n", counted, offset)
        counted = offset
        line = _line_at(text, offset)
        fence_match = _FENCE.match(line)
        marker = fence_match.group(1) if fence_match else ""
        if fence is not None:
            if marker[:1] == fence[0] and len(marker) >= len(fence):  # closes the block
                fence = None
            continue
        if marker:
            fence = marker
            continue
        atx = _ATX.match(line)
        if atx:
            heading = _ATX_CLOSING.sub("", (atx.group(2) or "").rstrip(" \t")).strip()
            found.append((index, offset, len(atx.group(1)), heading))
            continue
        setext = _SETEXT.match(line)
        if setext and index > first[0]:
            above = text.rfind("\n", 0, offset - 1) + 1  # the line above starts here
            if _is_setext_text(text, index - 1, above, first[0], found):
                level = 1 if setext.group(1)[0] == "=" else 2
                found.append((index - 1, above, level, _line_at(text, above).strip()))
    return found


def _is_setext_text(text: str, index: int, offset: int, first: int, found: list) -> bool:
    line = _line_at(text, offset)
    if not _NOT_SPACE.search(line) or _NOT_SETEXT_TEXT.match(line) or line.startswith("    "):
        return False
    if found and found[-1][0] == index:
        return False
    after_heading = bool(found and found[-1][0] == index - 1)
    if index == first or after_heading:
        return True
    above = text.rfind("\n", 0, offset - 1) + 1
    return not _NOT_SPACE.search(_line_at(text, above))


# --- CSV / TSV --------------------------------------------------------------

ROWS_PER_SECTION = 50
_DELIMITERS = (",", "\t", ";", "|")
MAX_CELLS = 100_000  # cells in one line of the file: a line of commas is not a table
# Rows come out as "name: value | ..." and so repeat the header; past this many
# times the file's own text, the rest is left out rather than fill the memory.
OUTPUT_FACTOR = 8
_SNIFF_CHARS = 65_536


def parse_csv(data: bytes, tab_default: bool = False) -> ParsedDocument:
    """Each data row becomes one line "header: value | header: value".

    Sections hold runs of up to 50 rows that sit on consecutive file lines,
    so line_start plus the line offset is the row's line in the file even
    when a quoted cell spans lines.
    """
    decoded = _decode(data)
    # Long cells (a pasted document in one cell) are fine; the default limit is 128 KiB.
    csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))
    delimiter = sniff_delimiter(decoded.text[:_SNIFF_CHARS], "\t" if tab_default else ",")
    sections: list[Section] = []
    warnings = _warnings(decoded)
    header: list[str] | None = None
    block: list[str] = []
    block_start = 0
    room = OUTPUT_FACTOR * len(decoded.text) + 1_000_000
    rows = 0
    try:
        for line_no, row in _rows(decoded.text, delimiter):
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if header is None:
                header = cells
                continue
            # A row must sit on the line the chunker will count it on.
            if block and (line_no != block_start + len(block) or len(block) >= ROWS_PER_SECTION):
                _flush(sections, block, block_start)
                block = []
            if not block:
                block_start = line_no
            line = row_line(header, cells)
            room -= len(line)
            if room < 0:
                warnings.append(f"only the first {rows:,} rows were read (the rest would repeat the "
                                "header names too many times)")
                break
            block.append(line)
            rows += 1
    except csv.Error as exc:
        raise ParseError(f"the CSV file is malformed ({exc})") from exc
    _flush(sections, block, block_start)
    return ParsedDocument(
        sections=sections,
        kind="csv",
        encoding=decoded.encoding,
        warnings=warnings,
    )


def _rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line, cells) for each record; lines are 1-based."""
    reader = csv.reader(_lines(text, delimiter), delimiter=delimiter)
    previous = 0
    for row in reader:
        checkpoint()
        yield previous + 1, row
        previous = reader.line_num


def _lines(text: str, delimiter: str) -> Iterator[str]:
    """The lines of `text` with their line breaks, one at a time (a StringIO copy of a
    big file takes up to four bytes a character)."""
    start, length = 0, len(text)
    while start < length:
        end = text.find("\n", start)
        end = length if end < 0 else end + 1
        if text.count(delimiter, start, end) > MAX_CELLS:
            raise ParseError(f"a line of the file has more than {MAX_CELLS:,} cells; it is not a table")
        yield text[start:end]
        start = end


def _flush(sections: list[Section], block: list[str], start: int) -> None:
    if block:
        section = make_section("\n".join(block), line_start=start)
        if section:
            sections.append(section)


def row_line(header: list[str], cells: list[str]) -> str:
    """One record as "name: value | name: value", skipping empty cells.

    Used for CSV and Excel. Cells past the header, or under an empty header
    cell, are written without a name. Line breaks inside cells become spaces.
    """
    parts = []
    for index, value in enumerate(cells):
        value = " ".join(value.split("\n")).strip()
        if not value:
            continue
        name = header[index] if index < len(header) else ""
        name = " ".join(name.split("\n")).strip()
        parts.append(f"{name}: {value}" if name else value)
    return " | ".join(parts)


def sniff_delimiter(text: str, default: str) -> str:
    """Pick the delimiter that splits the first lines into the same number of fields.

    csv.Sniffer is slow on long lines and guesses oddly on Japanese text, so
    this just counts: the best delimiter appears the same nonzero number of
    times on most lines.
    """
    lines = [line for line in text.split("\n", 30)[:30] if line.strip()]
    if not lines:
        return default
    best, best_score = default, 0.0
    for delimiter in _DELIMITERS:
        counts = [_count_outside_quotes(line, delimiter) for line in lines]
        if not counts[0]:
            continue
        consistent = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = consistent + (0.01 if delimiter == default else 0.0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count
