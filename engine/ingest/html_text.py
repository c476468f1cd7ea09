"""HTML pages to sectioned text, with the standard library's HTMLParser.

Intranet pages and saved web pages are the target: the text a person reads,
split at h1–h6 with heading paths, tables kept as "a | b" rows, and the
script/style/menu noise left out.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

from engine.errors import ParseError
from engine.ingest.budget import checkpoint
from engine.ingest.decode import decode_html
from engine.ingest.document import ParsedDocument, Section
from engine.ingest.normalize import make_section

# Never shown to a reader, or site navigation repeated on every page.
_SKIP = frozenset({"script", "style", "noscript", "template", "nav", "svg", "select"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_PARAGRAPH = frozenset({
    "p", "table", "ul", "ol", "dl", "blockquote", "pre", "hr", "section", "article",
    "header", "footer", "main", "aside", "figure", "form", "address", "fieldset", "details",
})
_LINE = frozenset({"div", "li", "tr", "dt", "dd", "caption", "figcaption", "summary", "option", "body"})
_CELLS = frozenset({"td", "th"})
# HTML's own whitespace only: U+3000 and &nbsp; are visible spacing in a page.
_SPACES = re.compile(r"[ \t\n\r\f]+")


def parse_html(data: bytes) -> ParsedDocument:
    decoded = decode_html(data)
    text = _escape_unclosed_tail(decoded.text)
    extractor = _Extractor(deadline=time.monotonic() + 10 + len(text) / 1_000_000)
    extractor.feed(text)
    extractor.close()
    sections = extractor.finish()
    title = extractor.title or extractor.first_h1
    return ParsedDocument(
        sections=sections,
        kind="html",
        title=title,
        encoding=decoded.encoding,
        warnings=[decoded.warning] if decoded.warning else [],
    )


def _escape_unclosed_tail(text: str) -> str:
    """Escape every "<" after the last ">": none of them can start a tag.

    HTMLParser rescans to the end of the text for each unclosed tag or
    comment, so a damaged page full of them takes quadratic time (minutes
    for a few hundred KB on Python 3.11).
    """
    last = text.rfind(">")
    tail = text[last + 1 :]
    return text[: last + 1] + tail.replace("<", "&lt;") if "<" in tail else text


class _Extractor(HTMLParser):
    """Collects lines of visible text, cutting a new section at each heading."""

    def __init__(self, deadline: float) -> None:
        super().__init__(convert_charrefs=True)
        # A last guard against other slow paths in HTMLParser on damaged pages.
        self._deadline = deadline
        self.title: str | None = None
        self.first_h1: str | None = None
        self.sections: list[Section] = []
        self._skip: list[str] = []  # open skipped elements
        self._lines: list[str] = []  # finished lines of the current section
        self._line: list[str] = []  # pieces of the line being built
        self._path: list[tuple[int, str]] = []
        self._heading_level: int | None = None
        self._heading_text: list[str] = []
        self._title_text: list[str] | None = None
        self._pre = 0
        self._tables: list[_Table] = []  # open tables, innermost last

    # -- parser callbacks -----------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if self._skip:
            if tag in _SKIP:
                self._skip.append(tag)
            return
        if tag in _SKIP:
            self._skip.append(tag)
        elif tag == "title":
            self._title_text = []
        elif tag in _HEADINGS:
            self._mark_layout()
            self._start_heading(_HEADINGS[tag])
        elif tag == "br" and self._heading_level is not None:
            self._heading_text.append(" ")
        elif tag == "br":
            if self._in_data_cell():
                self._text(" ")
            else:
                self._end_line(force=True)
        elif tag == "table":
            self._mark_layout()
            self._paragraph()
            self._tables.append(_Table())
        elif tag == "tr":
            self._end_line()
            if self._tables:
                self._tables[-1].cells = 0
        elif tag in _CELLS and self._tables:
            table = self._tables[-1]
            if table.cells and not table.layout:
                self._line.append(" | ")
            elif table.cells:
                self._end_line()
            table.cells += 1
            table.open_cells += 1
        elif tag == "pre":
            self._paragraph()
            self._pre += 1
        elif tag == "li":
            self._block(_LINE)
            self._line.append("- ")
        else:
            self._block_tag(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIP and self._skip:
            self._skip.pop()  # <svg/> and the like never get an end tag

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag in self._skip:
                while self._skip and self._skip.pop() != tag:
                    pass
            return
        if tag == "title" and self._title_text is not None:
            self.title = _collapse("".join(self._title_text)) or self.title
            self._title_text = None
        elif tag in _HEADINGS and self._heading_level is not None:
            self._end_heading()
        elif tag == "table":
            if self._tables:
                self._tables.pop()
            self._paragraph()
        elif tag in _CELLS and self._tables:
            self._tables[-1].open_cells = max(0, self._tables[-1].open_cells - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
            self._paragraph()
        else:
            self._block_tag(tag)

    def handle_data(self, data: str) -> None:
        checkpoint()
        if time.monotonic() > self._deadline:
            raise ParseError("the HTML page is too damaged to read in reasonable time")
        if self._skip:
            return
        if self._title_text is not None:
            self._title_text.append(data)
            return
        if self._heading_level is not None:
            self._heading_text.append(data)
            return
        if self._pre:
            first, *rest = data.split("\n")
            self._line.append(first)
            for line in rest:
                self._end_line(force=True)
                self._line.append(line)
            return
        self._text(data)

    # -- building lines -------------------------------------------------------

    def _text(self, data: str) -> None:
        data = _SPACES.sub(" ", data)
        if not self._line or self._line[-1].endswith(" "):
            data = data.lstrip()  # no leading or doubled spaces from markup layout
        if data:
            self._line.append(data)

    def _block_tag(self, tag: str) -> None:
        if tag in _PARAGRAPH:
            self._block(_PARAGRAPH)
        elif tag in _LINE:
            self._block(_LINE)

    def _in_data_cell(self) -> bool:
        return bool(self._tables) and self._tables[-1].open_cells > 0 and not self._tables[-1].layout

    def _mark_layout(self) -> None:
        """A heading or table inside a cell means the tables around it lay out
        a page rather than hold data: their cells then get lines of their own."""
        if self._in_data_cell():
            for table in self._tables:
                table.layout = True

    def _block(self, kind: frozenset) -> None:
        if self._in_data_cell():  # keep a data table's row on one line
            self._text(" ")
        elif kind is _PARAGRAPH:
            self._paragraph()
        else:
            self._end_line()

    def _end_line(self, force: bool = False) -> None:
        line = "".join(self._line).rstrip()
        self._line = []
        while self._tables and line.endswith("|"):  # empty cells at the row's end
            line = line[:-1].rstrip()
        if line.strip() or force:
            self._lines.append(line)

    def _paragraph(self) -> None:
        self._end_line()
        if self._lines and self._lines[-1] != "":
            self._lines.append("")

    # -- sections -------------------------------------------------------------

    def _start_heading(self, level: int) -> None:
        if self._heading_level is not None:
            self._end_heading()
        self._flush_section()
        self._heading_level = level
        self._heading_text = []

    def _end_heading(self) -> None:
        level = self._heading_level or 1
        text = _collapse("".join(self._heading_text))
        self._heading_level = None
        if not text:
            return
        if level == 1 and self.first_h1 is None:
            self.first_h1 = text
        while self._path and self._path[-1][0] >= level:
            self._path.pop()
        self._path.append((level, text))
        self._lines.append(text)
        self._lines.append("")

    def _flush_section(self) -> None:
        self._end_line()
        heading = " > ".join(text for _, text in self._path) or None
        section = make_section("\n".join(self._lines), heading=heading)
        if section:
            self.sections.append(section)
        self._lines = []

    def finish(self) -> list[Section]:
        if self._heading_level is not None:
            self._end_heading()
        self._flush_section()
        return self.sections


class _Table:
    """Where the parser is in one open <table>."""

    def __init__(self) -> None:
        self.cells = 0  # cells started in the current row
        self.open_cells = 0  # <td>/<th> entered and not yet closed
        self.layout = False


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()
