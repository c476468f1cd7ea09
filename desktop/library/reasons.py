"""Why a file was skipped or failed, in the window's language.

The engine stores its reasons in English (they are also what the CLI and the
log show); the window matches each known wording and shows the translation,
with the parts that vary (a file type, a size, a library's message) kept.
A reason no pattern knows is shown as the engine wrote it.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication



def _patterns():
    """(pattern, translated text with {0}, {1} for the groups), in the order tried."""
    return (
        (r"unsupported file type \(no extension\)",
         QCoreApplication.translate("SkipReason", "unsupported file type (no extension)")),
        (r"unsupported file type (\.\S+) \(old Word format; save it as \.docx\)",
         QCoreApplication.translate("SkipReason", "unsupported file type {0} (old Word format; save it as .docx)")),
        (r"unsupported file type (\.\S+) \(old Excel format; save it as \.xlsx\)",
         QCoreApplication.translate("SkipReason", "unsupported file type {0} (old Excel format; save it as .xlsx)")),
        (r"unsupported file type (\.\S+) \(old PowerPoint format; save it as \.pptx\)",
         QCoreApplication.translate("SkipReason", "unsupported file type {0} (old PowerPoint format; save it as .pptx)")),
        (r"unsupported file type (\S+)", QCoreApplication.translate("SkipReason", "unsupported file type {0}")),
        (r"hidden file", QCoreApplication.translate("SkipReason", "hidden file")),
        (r"hidden folder", QCoreApplication.translate("SkipReason", "hidden folder")),
        (r"temporary or lock file", QCoreApplication.translate("SkipReason", "temporary or lock file")),
        (r"broken link", QCoreApplication.translate("SkipReason", "broken link")),
        (r"link to a file outside the library folder; not followed",
         QCoreApplication.translate("SkipReason", "link to a file outside the library folder; not followed")),
        (r"link to a (\w+) outside the library folder \((.*)\); not followed",
         QCoreApplication.translate("SkipReason", "link to a {0} outside the library folder ({1}); not followed")),
        (r"file is too large \((.*)\)", QCoreApplication.translate("SkipReason", "file is too large ({0})")),
        (r"the file contains no text", QCoreApplication.translate("SkipReason", "the file contains no text")),
        (r"no permission to read this file",
         QCoreApplication.translate("SkipReason", "no permission to read this file")),
        (r"no permission to read this folder",
         QCoreApplication.translate("SkipReason", "no permission to read this folder")),
        (r"permission denied: Bunko is not allowed to read this file",
         QCoreApplication.translate("SkipReason", "permission denied: Bunko is not allowed to read this file")),
        (r"cannot read this file \((.*)\)", QCoreApplication.translate("SkipReason", "cannot read this file ({0})")),
        (r"cannot read this folder \((.*)\)",
         QCoreApplication.translate("SkipReason", "cannot read this folder ({0})")),
        (r"the file could not be read \((.*)\)",
         QCoreApplication.translate("SkipReason", "the file could not be read ({0})")),
        (r"the file was not found \(it may have been moved or deleted\)",
         QCoreApplication.translate("SkipReason", "the file was not found (it may have been moved or deleted)")),
        (r"this is a folder, not a file", QCoreApplication.translate("SkipReason", "this is a folder, not a file")),
        (r"(.+), not a document", QCoreApplication.translate("SkipReason", "{0}, not a document")),
        (r"system folder \((.*)\), not documents",
         QCoreApplication.translate("SkipReason", "system folder ({0}), not documents")),
        (r"not a valid PDF file", QCoreApplication.translate("SkipReason", "not a valid PDF file")),
        (r"the PDF file is damaged and cannot be read",
         QCoreApplication.translate("SkipReason", "the PDF file is damaged and cannot be read")),
        (r"the PDF file is damaged and its text cannot be read",
         QCoreApplication.translate("SkipReason", "the PDF file is damaged and its text cannot be read")),
        (r"the PDF has no pages", QCoreApplication.translate("SkipReason", "the PDF has no pages")),
        (r"the PDF is password-protected", QCoreApplication.translate("SkipReason", "the PDF is password-protected")),
        (r"the PDF is encrypted in a way Bunko cannot open",
         QCoreApplication.translate("SkipReason", "the PDF is encrypted in a way Bunko cannot open")),
        (r"not a valid (.+?) \(the file is damaged, or is another kind of file\)",
         QCoreApplication.translate("SkipReason", "not a valid {0} (the file is damaged, or is another kind of file)")),
        (r"the CSV file is malformed \((.*)\)",
         QCoreApplication.translate("SkipReason", "the CSV file is malformed ({0})")),
        (r"the HTML page is too damaged to read in reasonable time",
         QCoreApplication.translate("SkipReason", "the HTML page is too damaged to read in reasonable time")),
        (r"the file is too large to read into memory",
         QCoreApplication.translate("SkipReason", "the file is too large to read into memory")),
        (r"the file is nested too deeply to read",
         QCoreApplication.translate("SkipReason", "the file is nested too deeply to read")),
        (r"reading the file took too long \(more than (\d+) s\); it was left out",
         QCoreApplication.translate("SkipReason", "reading the file took too long (more than {0} s); it was left out")),
        (r"reading the file needed too much memory \(more than (\d+) MB\); it was left out",
         QCoreApplication.translate("SkipReason", "reading the file needed too much memory (more than {0} MB); it was left out")),
        (r"reading the file was stopped", QCoreApplication.translate("SkipReason", "reading the file was stopped")),
        (r"unexpected error \((.*)\)", QCoreApplication.translate("SkipReason", "unexpected error ({0})")),
        (r"version-control folder", QCoreApplication.translate("SkipReason", "version-control folder")),
        (r"system folder", QCoreApplication.translate("SkipReason", "system folder")),
        (r"generated or dependency folder \((.*)\)",
         QCoreApplication.translate("SkipReason", "generated or dependency folder ({0})")),
        (r"lock file written by a package manager",
         QCoreApplication.translate("SkipReason", "lock file written by a package manager")),
        (r"minified or bundled code", QCoreApplication.translate("SkipReason", "minified or bundled code")),
        (r"minified code \(very long lines with little whitespace\)",
         QCoreApplication.translate("SkipReason", "minified code (very long lines with little whitespace)")),
        (r"source map written by a build tool",
         QCoreApplication.translate("SkipReason", "source map written by a build tool")),
        (r"large data file \((.*)\), a dump or export rather than a document",
         QCoreApplication.translate("SkipReason", "large data file ({0}), a dump or export rather than a document")),
        (r"ignored by (.+?) \(pattern (.*)\)",
         QCoreApplication.translate("SkipReason", "ignored by {0} (pattern {1})")),
        (r"text with almost no information \(the same few characters repeated\); not indexed",
         QCoreApplication.translate("SkipReason",
                                    "text with almost no information (the same few characters repeated); not indexed")),
        (r"encoded data \(base64 or hex\) rather than text; not indexed",
         QCoreApplication.translate("SkipReason", "encoded data (base64 or hex) rather than text; not indexed")),
        (r"a hex dump rather than text; not indexed",
         QCoreApplication.translate("SkipReason", "a hex dump rather than text; not indexed")),
    )


_PARTIAL = re.compile(r"indexed in part: the first ([\d,]+) passages, about (\d+)% of the text .*", re.DOTALL)


def is_partial(reason: str | None) -> bool:
    """Whether the engine's note says the file was indexed in part (engine/ingest/sparse.py)."""
    return bool(reason) and _PARTIAL.fullmatch(reason or "") is not None


def partial_text(reason: str, size: int | None) -> str:
    """The note on a file indexed in part, with its size: 'the first 2,000 passages, about
    12% of a 60 MB file'."""
    m = _PARTIAL.fullmatch(reason)
    if m is None:
        return reason_text(reason)
    mb = f"{(size or 0) / 1e6:.0f} MB" if (size or 0) >= 1e6 else f"{(size or 0) / 1e3:.0f} kB"
    return QCoreApplication.translate(
        "SkipReason", "indexed in part: the first {passages} passages, about {share}% of a {size} file; "
                      "a file this large would hold the rest of the library back").format(
        passages=m.group(1), share=m.group(2), size=mb)


def _special():
    return {"a named pipe": QCoreApplication.translate("SkipReason", "a named pipe"),
            "a socket": QCoreApplication.translate("SkipReason", "a socket"),
            "a device": QCoreApplication.translate("SkipReason", "a device"),
            "not a regular file": QCoreApplication.translate("SkipReason", "not a regular file")}


def reason_text(reason: str | None) -> str:
    """`reason` as the engine stored it, translated where its wording is known."""
    if not reason:
        return ""
    for pattern, text in _patterns():
        m = re.fullmatch(pattern, reason, re.DOTALL)
        if m:
            special = _special()
            parts = [special.get(g, g) for g in m.groups()]
            return text.format(*parts)
    return reason
