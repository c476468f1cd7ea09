"""Passages and documents by id, for `bunko mcp`'s fetch tool.

A search result names its passage (`p<chunk id>`) and its document (`d<document id>`); a
client that wants more than the passage fetches the document, whose text is stitched
from its passages in order with the overlap between neighbours taken out.
"""

from __future__ import annotations

from ..errors import BunkoError
from ..search.retrieve import Ranked, hits_for
from ..types import SearchHit


class UnknownIdError(BunkoError):
    """An id that names no passage or document (any more)."""


def parse_id(value: str) -> tuple[str, int]:
    """'p123' → ('passage', 123); 'd45' → ('document', 45)."""
    text = value.strip().lower() if isinstance(value, str) else ""
    kinds = {"p": "passage", "d": "document"}
    if len(text) < 2 or text[0] not in kinds or not text[1:].isdigit() or len(text) > 20:
        raise UnknownIdError(f"{value!r} is not an id Bunko gave out: use a result's 'id' (like 'p123', a passage) "
                             "or 'document' (like 'd45', the whole file's text).")
    return kinds[text[0]], int(text[1:])


def passage(cur, chunk_id: int) -> tuple[SearchHit, int]:
    """The passage and the id of its document."""
    row = cur.execute("SELECT document_id FROM chunks WHERE id = ?", [chunk_id]).fetchone()
    hits = hits_for(cur, [Ranked(chunk_id, 1.0)]) if row else []
    if not hits:
        raise UnknownIdError(f"There is no passage p{chunk_id} (the library may have been re-indexed since "
                             "the search): search again for fresh ids.")
    return hits[0], row[0]


def document(cur, document_id: int) -> dict:
    """library, path, title and the text of a document, stitched from its passages."""
    row = cur.execute(
        "SELECT l.name, d.path, d.title, d.status, d.reason FROM documents d JOIN libraries l ON d.library_id = l.id "
        "WHERE d.id = ?", [document_id]).fetchone()
    if row is None:
        raise UnknownIdError(f"There is no document d{document_id} (the library may have been re-indexed since "
                             "the search): search again for fresh ids.")
    library, path, title, status, reason = row
    if status != "indexed":
        raise BunkoError(f"{library}/{path} was not indexed ({status}: {reason}); Bunko has no text of it.")
    texts = [t for (t,) in cur.execute("SELECT text FROM chunks WHERE document_id = ? ORDER BY ord",
                                       [document_id]).fetchall()]
    return {"library": library, "path": path, "title": title, "text": stitch(texts)}


def stitch(texts: list[str]) -> str:
    """Consecutive passages share a few sentences (engine/ingest/chunk.py): join them without
    repeating those."""
    out = texts[0] if texts else ""
    for prev, nxt in zip(texts, texts[1:]):
        cut = _overlap(prev, nxt)
        out += ("" if cut else "\n") + nxt[cut:]
    return out


def _overlap(prev: str, nxt: str, probe: int = 24) -> int:
    """The length of the longest end of `prev` that `nxt` starts with (0 if under `probe` chars)."""
    head = nxt[:probe]
    if len(head) < probe:
        return 0
    start = prev.find(head)
    while start != -1:  # leftmost first: the longest overlap
        if nxt.startswith(prev[start:]):
            return len(prev) - start
        start = prev.find(head, start + 1)
    return 0
