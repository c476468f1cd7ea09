"""PDF files with pypdf: one section per page that has text.

pypdf raises many kinds of exceptions on damaged files (its own errors, but
also KeyError, ValueError, struct and zlib errors from deep inside), so every
call into it is wrapped and turned into a ParseError a person can read.
"""

from __future__ import annotations

import io
import logging

from engine.errors import BunkoError, ParseError
from engine.ingest.budget import checkpoint
from engine.ingest.document import ParsedDocument, Section
from engine.ingest.normalize import make_section

log = logging.getLogger(__name__)

NO_TEXT_MESSAGE = "the PDF has no text layer (scanned?) and OCR is switched off for this library"
OCR_MIN_CHARS = 16  # a page with fewer visible characters has no usable text layer: it is read by OCR
_TITLE_PREFIXES = ("Microsoft Word - ", "Microsoft PowerPoint - ", "Microsoft Excel - ")


def parse_pdf(data: bytes) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    if b"%PDF" not in data[:1024]:  # the header may follow up to 1 KiB of junk
        raise ParseError("not a valid PDF file")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            _decrypt(reader)
        pages = reader.pages
        page_count = len(pages)
    except BunkoError:  # ours, a cancel, or a file over its budget
        raise
    except DependencyError as exc:
        raise ParseError(_aes_message()) from exc
    except Exception as exc:  # pypdf's own errors and many others on broken files
        raise ParseError("the PDF file is damaged and cannot be read") from exc
    if page_count == 0:
        raise ParseError("the PDF has no pages")

    sections: list[Section] = []
    warnings: list[str] = []
    failed = 0
    scanned: list[int] = []
    for number in range(1, page_count + 1):
        checkpoint()
        try:
            text = pages[number - 1].extract_text() or ""
        except BunkoError:  # a cancel, or the file over its budget, raised inside pypdf
            raise
        except DependencyError as exc:
            raise ParseError(_aes_message()) from exc
        except Exception as exc:  # one bad page should not lose the rest
            log.debug("page %d: %s", number, exc, exc_info=True)
            failed += 1
            continue
        if sum(not c.isspace() for c in text) < OCR_MIN_CHARS:
            scanned.append(number)
            continue
        section = make_section(text, page=number)
        if section:
            sections.append(section)
    if failed:
        warnings.append(f"text could not be read from {_pages(failed)} of {page_count}")
    ocr = _ocr(data, scanned, sections, warnings, page_count - failed)
    if not sections:
        if failed == page_count:
            raise ParseError("the PDF file is damaged and its text cannot be read")
        raise ParseError(NO_TEXT_MESSAGE if ocr is None else "no text was found on any page, not even by OCR")
    return ParsedDocument(sections=sections, kind="pdf", title=_title(reader), warnings=warnings, ocr=ocr or [])


def _ocr(data: bytes, pages: list[int], sections: list[Section], warnings: list[str], readable: int):
    """Read `pages` by OCR into `sections` (kept in page order); None where OCR is off."""
    from engine.errors import SkipFile
    from engine.ingest.ocr import ocr_pages

    if not pages:
        return []
    try:
        _, read = ocr_pages("pdf", data, pages)
    except SkipFile:  # switched off for this library: the pages stay unread, as they always were
        if len(pages) < readable:
            warnings.append(f"{_pages(len(pages))} without text (scanned?) skipped: OCR is off")
        return None
    blank = 0
    for page in read:
        section = make_section(page.text, page=page.page)
        if section:
            sections.append(section)
        else:
            blank += 1
    if blank and sections:
        warnings.append(f"{_pages(blank)} without text (scanned?) skipped")
    sections.sort(key=lambda s: s.page or 0)
    return read


def _pages(count: int) -> str:
    return f"{count} page" if count == 1 else f"{count} pages"


def _decrypt(reader) -> None:
    """Open PDFs that are encrypted with an empty user password (restrictions only)."""
    from pypdf import PasswordType
    from pypdf.errors import DependencyError

    try:
        result = reader.decrypt("")
    except DependencyError:
        raise
    except Exception as exc:  # e.g. an encryption method pypdf does not know
        raise ParseError("the PDF is encrypted in a way Bunko cannot open") from exc
    if result == PasswordType.NOT_DECRYPTED:
        raise ParseError("the PDF is password-protected")


def _aes_message() -> str:
    return (
        "the PDF is encrypted with AES, which needs the 'cryptography' package "
        "to open (it may open without a password once that is installed)"
    )


def _title(reader) -> str | None:
    try:
        metadata = reader.metadata
        title = metadata.title if metadata else None
    except Exception:  # metadata is a nicety; broken metadata is common
        return None
    if not isinstance(title, str):
        return None
    title = title.strip().replace("\x00", "")
    for prefix in _TITLE_PREFIXES:
        if title.startswith(prefix):
            title = title[len(prefix):]
    return title or None
