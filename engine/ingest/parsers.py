"""Which parser reads which file, and the one entry point `parse_file`.

Every failure leaves here as SkipFile (not a type we index) or ParseError
(could not read it), with a message meant for the person whose file it is.
Size limits and hidden files are the caller's business.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

from engine.errors import BunkoError, ParseError, SkipFile
from engine.ingest.decode import decode_bytes
from engine.ingest.document import ParsedDocument

__all__ = ["SUPPORTED_SUFFIXES", "decode_bytes", "kind_for", "parse_file", "read_bytes"]

log = logging.getLogger(__name__)

_TEXT = ("txt", "text", "log", "rst", "org", "tex", "adoc")
_MARKDOWN = ("md", "markdown", "mdown", "mkd")
_CODE = (
    "py", "pyi", "js", "mjs", "cjs", "jsx", "ts", "tsx", "java", "c", "h", "cc", "cpp",
    "cxx", "hpp", "hh", "cs", "go", "rs", "rb", "php", "pl", "lua", "dart", "sh", "bash",
    "zsh", "bat", "cmd", "ps1", "sql", "kt", "kts", "swift", "scala", "r", "m", "vb",
    "vbs", "bas", "cls", "frm", "css", "scss", "less", "vue", "svelte", "yaml", "yml",
    "toml", "ini", "cfg", "conf", "properties", "json", "xml", "gradle", "proto",
    "graphql", "tf", "diff", "patch",
)
_KINDS: dict[str, str] = {
    **{f".{s}": "text" for s in _TEXT},
    **{f".{s}": "markdown" for s in _MARKDOWN},
    **{f".{s}": "code" for s in _CODE},
    ".csv": "csv",
    ".tsv": "csv",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".pptx": "pptx",
    **{s: "image" for s in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")},
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_KINDS)

# Formats people will expect to work, with what to do instead.
_HINTS = {
    ".doc": "old Word format; save it as .docx",
    ".xls": "old Excel format; save it as .xlsx",
    ".ppt": "old PowerPoint format; save it as .pptx",
}


def kind_for(path: Path) -> str | None:
    """The parser kind for a file, by its suffix (any case), or None if unsupported."""
    return _KINDS.get(Path(path).suffix.lower())


def parse_file(path: Path, data: bytes | None = None) -> ParsedDocument:
    """Read and parse one file (or its bytes, when the caller has read them already).

    Raises SkipFile for types Bunko does not index and ParseError for files
    that cannot be read, decoded or parsed.
    """
    path = Path(path)
    kind = kind_for(path)
    if kind is None:
        suffix = path.suffix.lower()
        if not suffix:
            raise SkipFile("unsupported file type (no extension)")
        hint = _HINTS.get(suffix)
        raise SkipFile(f"unsupported file type {suffix}" + (f" ({hint})" if hint else ""))
    if data is None:
        data = read_bytes(path)
    parser = _parser(kind, path)
    try:
        return parser(data)
    except BunkoError:
        raise
    except RecursionError as exc:
        raise ParseError("the file is nested too deeply to read") from exc
    except MemoryError as exc:
        raise ParseError("the file is too large to read into memory") from exc
    except Exception as exc:  # a bug or a library surprise; still only this file fails
        log.warning("unexpected error parsing %s", path, exc_info=True)
        raise ParseError(f"the file could not be read ({type(exc).__name__})") from exc


def read_bytes(path: Path | str, limit: int | None = None) -> bytes:
    """The whole file, with OS errors said plainly.

    Parsers get bytes rather than a path so a file deleted or changed half-way
    cannot fail deep inside a library, and no file handle stays open. Only a
    regular file is read (a named pipe put in a file's place would block for
    ever), and at most `limit` bytes of it (it may have grown since it was listed).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(path)
            if not stat.S_ISREG(mode):
                raise ParseError("this is not a regular file (a pipe, socket or device); it was not read")
            data = f.read() if limit is None else f.read(limit + 1)
    except FileNotFoundError as exc:
        raise ParseError("the file was not found (it may have been moved or deleted)") from exc
    except PermissionError as exc:
        raise ParseError("permission denied: Bunko is not allowed to read this file") from exc
    except IsADirectoryError as exc:
        raise ParseError("this is a folder, not a file") from exc
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ParseError(f"the file could not be read ({reason})") from exc
    if limit is not None and len(data) > limit:
        raise SkipFile(f"file is too large (more than {limit / 1e6:.0f} MB)")
    return data


def _parser(kind: str, path: Path) -> Callable[[bytes], ParsedDocument]:
    # Imported here so that listing files never pays for pypdf or openpyxl.
    if kind in ("text", "code"):
        from engine.ingest.text_formats import parse_plain

        return lambda data: parse_plain(data, kind)
    if kind == "markdown":
        from engine.ingest.text_formats import parse_markdown

        return parse_markdown
    if kind == "csv":
        from engine.ingest.text_formats import parse_csv

        tab = path.suffix.lower() == ".tsv"
        return lambda data: parse_csv(data, tab_default=tab)
    if kind == "html":
        from engine.ingest.html_text import parse_html

        return parse_html
    if kind == "pdf":
        from engine.ingest.pdf import parse_pdf

        return parse_pdf
    if kind == "image":
        from engine.ingest.ocr.picture import parse_image

        return parse_image
    from engine.ingest import office

    return {"docx": office.parse_docx, "xlsx": office.parse_xlsx, "pptx": office.parse_pptx}[kind]
