"""Word, Excel and PowerPoint files (the zip-based formats from Office 2007 on).

The libraries raise whatever their zip and XML layers raise on a damaged file
(BadZipFile, KeyError, lxml errors, ValueError...), so each parser wraps its
whole run and reports one plain sentence naming the problem.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from engine.errors import Cancelled, ParseError
from engine.ingest.budget import checkpoint
from engine.ingest.document import ParsedDocument, Section
from engine.ingest.normalize import make_section
from engine.ingest.text_formats import OUTPUT_FACTOR, row_line

log = logging.getLogger(__name__)

MAX_SHEET_ROWS = 100_000
MAX_SHEET_COLUMNS = 1_000  # what Excel allows (16,384) is never read
MAX_SHEET_CELLS = 5_000_000  # rows x columns read from one workbook
# What an archive may hold, checked before anything in it is inflated. Word and
# PowerPoint files are read whole into memory, their XML into a tree several
# times its size.
MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_XML_BYTES = 64 * 1024 * 1024  # one XML part of a Word or PowerPoint file
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_RATIO = 100  # inflated / compressed size of a member over 1 MB
_SMALL_MEMBER = 1024 * 1024
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Password-protected Office files are not zips but OLE containers, like the
# old .doc/.xls/.ppt formats.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NAMES = {
    "docx": ("Word document", ".doc"),
    "xlsx": ("Excel workbook", ".xls"),
    "pptx": ("PowerPoint presentation", ".ppt"),
}


def _guarded(kind: str, data: bytes, work: Callable[[io.BytesIO], ParsedDocument]) -> ParsedDocument:
    """Check the container, then run `work`, turning any failure into ParseError."""
    name, old_suffix = _NAMES[kind]
    if data.startswith(_OLE_MAGIC):
        raise ParseError(
            f"the {name} is password-protected, or saved in the old {old_suffix} format"
        )
    if not data.startswith(_ZIP_MAGIC):
        raise ParseError(f"not a valid {name}")
    try:
        check_archive(data, xml_limit=None if kind == "xlsx" else MAX_XML_BYTES)
        return work(io.BytesIO(data))
    except (ParseError, Cancelled):
        raise
    except Exception as exc:  # zip, XML and library errors alike
        log.debug("%s failed", kind, exc_info=True)
        raise ParseError(f"not a valid {name} (the file is damaged, or is another kind of file)") from exc


def check_archive(data: bytes, xml_limit: int | None = None) -> None:
    """Refuse a zip whose members would inflate to too much, before any is inflated.

    The sizes a zip declares can lie, and zipfile inflates a member in one call
    when it is read whole; so each member's deflate stream is inflated here a
    piece at a time, counted, and must end where the declared size says.
    """
    entries = _declared_entries(data)
    if entries is not None and entries > MAX_MEMBERS:
        raise ParseError(f"the file holds too many parts ({entries:,}; the limit is {MAX_MEMBERS:,})")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise ParseError(f"the file holds too many parts ({len(members):,}; the limit is {MAX_MEMBERS:,})")
        total = 0
        for info in members:
            checkpoint()
            size = info.file_size
            limit = MAX_MEMBER_BYTES
            if xml_limit is not None and info.filename.lower().endswith((".xml", ".rels")):
                limit = xml_limit
            if size > limit:
                raise ParseError(f"a part of the file ({info.filename}) would inflate to {size / 1e6:,.0f} MB; "
                                 f"the limit is {limit / 1e6:,.0f} MB")
            if size > _SMALL_MEMBER and size > MAX_RATIO * max(info.compress_size, 1):
                raise ParseError(f"a part of the file ({info.filename}) is compressed {size // max(info.compress_size, 1):,} "
                                 f"to 1, which only a compression bomb is; the limit is {MAX_RATIO} to 1")
            total += size
            if total > MAX_TOTAL_BYTES:
                raise ParseError(f"the parts of the file would inflate to more than {MAX_TOTAL_BYTES / 1e6:,.0f} MB")
            _check_stream(data, info)


def _declared_entries(data: bytes) -> int | None:
    """The number of members the end record declares, read before zipfile builds them all."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return None
    entries = struct.unpack_from("<H", data, end + 10)[0]
    return None if entries == 0xFFFF else entries  # 0xFFFF: a ZIP64 count, which zipfile reads


def _check_stream(data: bytes, info: zipfile.ZipInfo) -> None:
    if info.compress_type == zipfile.ZIP_STORED:
        return  # not inflated: its size is what it takes in the file
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise ParseError(f"a part of the file ({info.filename}) uses an unusual compression method")
    header = data[info.header_offset:info.header_offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise ParseError("the file is damaged (a part's header is missing)")
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    start = info.header_offset + 30 + name_len + extra_len
    stream = memoryview(data)[start:start + info.compress_size]
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    produced, step = 0, 1 << 20
    pending: bytes | memoryview = stream
    while True:
        piece = inflate.decompress(pending, step)
        produced += len(piece)
        if produced > info.file_size:
            raise ParseError(f"a part of the file ({info.filename}) inflates to more than it declares; "
                             "the file is damaged or crafted")
        pending = inflate.unconsumed_tail
        if inflate.eof or not pending:
            break
        checkpoint()
    if produced < info.file_size and not inflate.eof:
        produced += len(inflate.flush())
    if produced > info.file_size:
        raise ParseError(f"a part of the file ({info.filename}) inflates to more than it declares; "
                         "the file is damaged or crafted")


# --- Word ---------------------------------------------------------------------

_HEADING_STYLE = re.compile(r"^(?:heading|見出し)\s*([1-9])$", re.IGNORECASE)


def parse_docx(data: bytes) -> ParsedDocument:
    return _guarded("docx", data, _read_docx)


def _read_docx(stream: io.BytesIO) -> ParsedDocument:
    import docx
    from docx.text.paragraph import Paragraph

    document = docx.Document(stream)
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    first_title: str | None = None
    first_h1: str | None = None

    def flush() -> None:
        heading = " > ".join(text for _, text in path) or None
        section = make_section("\n".join(lines), heading=heading)
        if section:
            sections.append(section)
        lines.clear()

    for element in _body_blocks(document.element.body):
        checkpoint()
        if element.tag == _W_TBL:
            lines.extend(["", *_table_lines(element), ""])
            continue
        text, boxes = _paragraph_text(element)
        level = _heading_level(Paragraph(element, document)) if text.strip() else None
        if level is not None:
            heading = " ".join(text.split())
            if level == 0 and first_title is None:
                first_title = heading
            if level == 1 and first_h1 is None:
                first_h1 = heading
            flush()
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, heading))
        lines.append(text)
        lines.extend(boxes)
    flush()
    title = _clean_title(document.core_properties.title) or first_title or first_h1
    return ParsedDocument(sections=sections, kind="docx", title=title)


def _w(name: str) -> str:
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + name


_W_P, _W_TBL, _W_TR, _W_TC, _W_SDT = _w("p"), _w("tbl"), _w("tr"), _w("tc"), _w("sdt")
_W_SDT_CONTENT, _W_T, _W_TXBX = _w("sdtContent"), _w("t"), _w("txbxContent")
_W_BREAKS = {_w("br"): "\n", _w("cr"): "\n", _w("tab"): "\t", _w("noBreakHyphen"): "-"}
# Deleted revisions, field codes, and the duplicate "fallback" copy of drawings
# are not text a person reads.
_W_SKIP = frozenset({
    _w("del"), _w("pPr"), _w("rPr"), _w("instrText"),
    "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback",
})


def _body_blocks(parent) -> Iterator:
    """Paragraphs and tables in order, looking inside content controls (w:sdt).

    python-docx's own iteration skips content controls, which Word templates
    use for whole blocks of a form.
    """
    for child in parent:
        if child.tag in (_W_P, _W_TBL):
            yield child
        elif child.tag == _W_SDT:
            for content in child.iterchildren(_W_SDT_CONTENT):
                yield from _body_blocks(content)


def _paragraph_text(paragraph) -> tuple[str, list[str]]:
    """A paragraph's text, and the lines of any text boxes anchored in it.

    Read from the XML rather than python-docx's Paragraph.text, which leaves
    out tracked insertions, inline content controls, fields and smart tags.
    """
    parts: list[str] = []
    boxes: list[str] = []

    def walk(element) -> None:
        for child in element:
            checkpoint()
            tag = child.tag
            if tag == _W_T:
                parts.append(child.text or "")
            elif tag in _W_BREAKS:
                parts.append(_W_BREAKS[tag])
            elif tag == _W_TXBX:
                for inner in child.iter(_W_P):
                    boxes.append(_paragraph_text(inner)[0])
            elif tag not in _W_SKIP:
                walk(child)

    walk(paragraph)
    return "".join(parts), boxes


def _heading_level(paragraph) -> int | None:
    """0 for Title, 1–9 for headings, None for body text.

    Built-in styles are matched by name ("Heading 2"; Japanese Word stores
    the same English names); custom heading styles by their outline level.
    """
    style = paragraph.style
    name = (style.name or "") if style is not None else ""
    if name.lower() == "title":
        return 0
    match = _HEADING_STYLE.match(name)
    if match:
        return int(match.group(1))
    levels = paragraph._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    seen = 0
    while not levels and style is not None and seen < 10:  # follow "based on", no loops
        levels = style.element.xpath("./w:pPr/w:outlineLvl/@w:val")
        style = style.base_style
        seen += 1
    if levels and levels[0].isdigit() and int(levels[0]) < 9:
        return int(levels[0]) + 1
    return None


def _table_lines(table) -> list[str]:
    """Rows as "a | b | c". Merged cells appear once (Word stores them once)."""
    lines = []
    for row in table.iterchildren(_W_TR):
        checkpoint()
        cells = []
        for cell in row.iterchildren(_W_TC):
            texts = (_paragraph_text(p)[0] for p in cell.iter(_W_P))
            cells.append(" ".join(" ".join(texts).split()))
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


# --- Excel --------------------------------------------------------------------


def parse_xlsx(data: bytes) -> ParsedDocument:
    return _guarded("xlsx", data, _read_xlsx)


def _read_xlsx(stream: io.BytesIO) -> ParsedDocument:
    import openpyxl

    allowance = _Allowance(MAX_SHEET_CELLS, OUTPUT_FACTOR * len(stream.getbuffer()) + 1_000_000)
    workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    try:
        sections: list[Section] = []
        warnings: list[str] = []
        for sheet in workbook.worksheets:
            if allowance.spent():
                warnings.append(f"sheet {sheet.title!r} was not read: the workbook is too large")
                continue
            # The size a sheet declares (up to A1:XFD1048576) is not trusted: rows
            # are read as they come, each at most MAX_SHEET_COLUMNS wide.
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()
            rows = sheet.iter_rows(max_col=MAX_SHEET_COLUMNS, max_row=MAX_SHEET_ROWS + 1, values_only=True)
            lines, limit = _sheet_lines(rows, allowance)
            if limit == "rows":
                warnings.append(f"sheet {sheet.title!r}: only the first {MAX_SHEET_ROWS:,} rows were read")
            elif limit:
                warnings.append(f"sheet {sheet.title!r}: only the first {len(lines):,} rows were read "
                                "(the workbook is too large to read whole)")
            section = make_section("\n".join(lines), heading=sheet.title)
            if section:
                sections.append(section)
        title = _clean_title(workbook.properties.title)
    finally:
        workbook.close()  # read-only mode keeps the file open until closed
    return ParsedDocument(sections=sections, kind="xlsx", title=title, warnings=warnings)


@dataclass
class _Allowance:
    """What is left to read of one workbook: cells, and characters of "name: value" lines
    (which repeat the header, so a wide sheet of long names would multiply the file)."""

    cells: int = MAX_SHEET_CELLS
    chars: int = 1 << 62

    def spent(self) -> bool:
        return self.cells < 0 or self.chars < 0


def _sheet_lines(rows: Iterator[tuple], allowance: _Allowance | None = None) -> tuple[list[str], str | None]:
    """Rows as "header: value | ..." lines, and the limit that stopped them: "rows", "size" or None."""
    allowance = allowance or _Allowance()
    header: list[str] | None = None
    lines: list[str] = []
    for count, row in enumerate(rows, start=1):
        checkpoint()
        if count > MAX_SHEET_ROWS:
            return lines, "rows"
        if row.count(None) == len(row):  # quick: a sheet may have a million empty rows
            continue
        allowance.cells -= len(row)
        if allowance.spent():
            return lines, "size"
        cells = [cell_text(value) for value in row]
        if not any(cells):
            continue
        if header is None:
            header = cells
        else:
            line = row_line(header, cells)
            allowance.chars -= len(line)
            if allowance.spent():
                return lines, "size"
            lines.append(line)
    return lines, None


def cell_text(value: object) -> str:
    """A cell value as a person would read it in Excel."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"  # Excel's 15 digits: 0.1+0.2 shows as 0.3
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


# --- PowerPoint ---------------------------------------------------------------


def parse_pptx(data: bytes) -> ParsedDocument:
    return _guarded("pptx", data, _read_pptx)


def _read_pptx(stream: io.BytesIO) -> ParsedDocument:
    import pptx

    presentation = pptx.Presentation(stream)
    sections: list[Section] = []
    first_title: str | None = None
    for number, slide in enumerate(presentation.slides, start=1):
        checkpoint()
        title_shape = slide.shapes.title
        title = " ".join(_frame_text(title_shape.text_frame).split()) if title_shape is not None else ""
        if title and first_title is None:
            first_title = title
        lines = [title] if title else []
        for shape in _shapes_in_reading_order(slide.shapes):
            checkpoint()
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            lines.extend(_shape_lines(shape))
        notes = _notes(slide)
        if notes:
            lines.extend(["", "Notes:", notes])
        section = make_section("\n".join(lines), page=number, heading=title or None)
        if section:
            sections.append(section)
    doc_title = _clean_title(presentation.core_properties.title) or first_title
    return ParsedDocument(sections=sections, kind="pptx", title=doc_title)


def _shapes_in_reading_order(shapes) -> list:
    """Top to bottom, then left to right; groups are opened up."""
    flat = []
    for shape in shapes:
        if hasattr(shape, "shapes"):  # a group shape
            flat.extend(_shapes_in_reading_order(shape.shapes))
        else:
            flat.append(shape)
    return sorted(flat, key=lambda s: (s.top or 0, s.left or 0))


def _shape_lines(shape) -> list[str]:
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = []
        for row in shape.table.rows:
            cells = [" ".join(_frame_text(cell.text_frame).split()) for cell in row.cells]
            if any(cells):
                rows.append(" | ".join(cells))
        return rows
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        return _frame_text(shape.text_frame).split("\n")
    return []


def _frame_text(frame) -> str:
    # python-pptx writes a soft line break as "\v"; clean_text would drop it.
    return "\n".join(p.text.replace("\v", "\n") for p in frame.paragraphs)


def _notes(slide) -> str:
    if not slide.has_notes_slide:
        return ""
    frame = slide.notes_slide.notes_text_frame
    return _frame_text(frame).strip() if frame is not None else ""


def _clean_title(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None
