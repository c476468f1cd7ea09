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
    )


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
