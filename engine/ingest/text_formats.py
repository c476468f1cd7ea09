"""Plain text, source code, Markdown and CSV/TSV.

All of these have meaningful line numbers, so every Section carries the
1-based line of its first character, and the text keeps one source line per
text line (CSV: one row per line) so the chunker can count on from there.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator

from engine.errors import ParseError
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

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_NOT_SETEXT_TEXT = re.compile(r"^ {0,3}(?:[-*+>|]|\d+[.)]|#|`{3,}|~{3,})")
_FRONT_TITLE = re.compile(r"""^title\s*:\s*(.*?)\s*$""", re.IGNORECASE)


def parse_markdown(data: bytes) -> ParsedDocument:
    """Split at ATX and setext headings; each section's heading is its path."""
    decoded = _decode(data)
    lines = decoded.text.split("\n")
    first, front_title = _front_matter(lines)
    headings = _find_headings(lines, first)

    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    title = front_title
    starts = sorted({first, *(index for index, _, _ in headings)})
    heading_at = {index: (level, text) for index, level, text in headings}
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        if start in heading_at:
            level, text = heading_at[start]
            if level == 1 and title is None and text:
                title = text
            while path and path[-1][0] >= level:
                path.pop()
            if text:
                path.append((level, text))
        heading = " > ".join(t for _, t in path) or None
        section = make_section("\n".join(lines[start:end]), heading=heading, line_start=start + 1)
        if section:
            sections.append(section)
    return ParsedDocument(
        sections=sections,
        kind="markdown",
        title=title,
        encoding=decoded.encoding,
        warnings=_warnings(decoded),
    )


def _front_matter(lines: list[str]) -> tuple[int, str | None]:
    """Index of the first line after YAML front matter, and its `title:` if any."""
    if not lines or lines[0].strip() != "---":
        return 0, None
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            title = None
            for line in lines[1:index]:
                match = _FRONT_TITLE.match(line)
                if match:
                    title = match.group(1).strip().strip("\"'") or None
                    break
            return index + 1, title
    return 0, None  # never closed: not front matter after all


def _find_headings(lines: list[str], first: int) -> list[tuple[int, int, str]]:
    """(line index, level, text) of each heading, skipping fenced code blocks.

    A setext heading is recorded at its text line, which is where its section
    starts; only single-line paragraphs count, which covers how people write.
    """
    found: list[tuple[int, int, str]] = []
    fence: str | None = None
    for index in range(first, len(lines)):
        line = lines[index]
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
            text = _ATX_CLOSING.sub("", (atx.group(2) or "")).strip()
            found.append((index, len(atx.group(1)), text))
            continue
        setext = _SETEXT.match(line)
        if setext and index > first and _is_setext_text(lines, index - 1, first, found):
            level = 1 if setext.group(1)[0] == "=" else 2
            found.append((index - 1, level, lines[index - 1].strip()))
    return found


def _is_setext_text(lines: list[str], index: int, first: int, found: list) -> bool:
    text = lines[index]
    if not text.strip() or _NOT_SETEXT_TEXT.match(text) or text.startswith("    "):
        return False
    if found and found[-1][0] == index:
        return False
    after_heading = bool(found and found[-1][0] == index - 1)
    return index == first or not lines[index - 1].strip() or after_heading


# --- CSV / TSV --------------------------------------------------------------

ROWS_PER_SECTION = 50
_DELIMITERS = (",", "\t", ";", "|")


def parse_csv(data: bytes, tab_default: bool = False) -> ParsedDocument:
    """Each data row becomes one line "header: value | header: value".

    Sections hold runs of up to 50 rows that sit on consecutive file lines,
    so line_start plus the line offset is the row's line in the file even
    when a quoted cell spans lines.
    """
    decoded = _decode(data)
    # Long cells (a pasted document in one cell) are fine; the default limit is 128 KiB.
    csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))
    delimiter = sniff_delimiter(decoded.text, "\t" if tab_default else ",")
    sections: list[Section] = []
    header: list[str] | None = None
    block: list[str] = []
    block_start = 0
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
            block.append(row_line(header, cells))
    except csv.Error as exc:
        raise ParseError(f"the CSV file is malformed ({exc})") from exc
    _flush(sections, block, block_start)
    return ParsedDocument(
        sections=sections,
        kind="csv",
        encoding=decoded.encoding,
        warnings=_warnings(decoded),
    )


def _rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line, cells) for each record; lines are 1-based."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous = 0
    for row in reader:
        yield previous + 1, row
        previous = reader.line_num


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
