"""The values a parser hands to the chunker."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A run of text with one location: a page, a heading, a slide, a sheet.

    `text` is the text as it should be shown to a person (not NFKC-normalised).
    `line_start` is the 1-based line of the text's first character in the source
    file, where lines mean something (text, Markdown, code, CSV rows).
    """

    text: str
    page: int | None = None
    heading: str | None = None
    line_start: int | None = None


@dataclass(frozen=True)
class ParsedDocument:
    sections: list[Section]
    kind: str  # "text", "markdown", "pdf", "docx", "html", "csv", "xlsx", "pptx", "code", "image"
    title: str | None = None
    encoding: str | None = None  # the detected encoding, for text formats
    warnings: list[str] = field(default_factory=list)
    ocr: list = field(default_factory=list)  # ingest.ocr.OcrPage of each page read by OCR
