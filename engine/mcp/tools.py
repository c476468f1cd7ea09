"""What `bunko mcp`'s tools do, as plain methods over an open Engine (no MCP import here,
so the rules can be tested fast and the server module stays a thin adapter).

Every argument is checked here with a message that says what to send instead; every
result is sized for a model's context: at most `MAX_RESULT_CHARS` characters of document
text per call, with `more_available` and how to get the rest.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

from ..errors import BunkoError
from ..search.retrieve import MODES
from ..store.db import int_list
from ..types import GenerationSettings
from . import lookup

log = logging.getLogger(__name__)

MAX_RESULT_CHARS = 12_000   # about 3-4 k tokens: room for several calls in a small model's context
MAX_K = 50
MAX_OFFSET = 200            # search paging goes this deep
MAX_QUERY_CHARS = 2_000
MAX_QUESTION_CHARS = 4_000
MAX_ANSWER_TOKENS = 2_048
SOURCE_CHARS = 600          # each source's text in an ask result (the passage itself: fetch its id)


class ToolArgumentError(BunkoError):
    """An argument a tool cannot use; the message says what it accepts."""


def _text(name: str, value, limit: int, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ToolArgumentError(f"{name} must be a non-empty string.")
    if len(value) > limit:
        raise ToolArgumentError(f"{name} has {len(value):,} characters; send at most {limit:,}.")
    return value.strip()


def _int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ToolArgumentError(f"{name} must be a whole number from {low} to {high}, not {value!r}.")
    return value


def _names(value) -> list[str] | None:
    """A library name or a list of them (None: every library)."""
    if value is None or value == []:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise ToolArgumentError("library must be a library's name or a list of names (see list_libraries).")
    return [n.strip() for n in names]


def _located(hit) -> dict:
    lines = None
    if hit.line_start is not None:
        lines = f"{hit.line_start}-{hit.line_end if hit.line_end is not None else hit.line_start}"
    return {"library": hit.library, "file": hit.path, "title": hit.title, "page": hit.page,
            "heading": hit.heading, "lines": lines, "location": hit.location}


class LibraryTools:
    """The tools over one engine. `index_roots`: folders inside which `index_folder` may add or
    re-index a library; empty means the server is read-only (the default)."""

    def __init__(self, engine, index_roots: list[Path] | tuple[Path, ...] = ()) -> None:
        self.engine = engine
        self.index_roots = tuple(Path(r).expanduser().resolve() for r in index_roots)

    @property
    def can_index(self) -> bool:
        return bool(self.index_roots)

    # -- list_libraries --------------------------------------------------------------
    def list_libraries(self) -> dict:
        libs = self.engine.libraries.list()
        return {"libraries": [
            {"name": lib.name, "folder": lib.root, "documents": lib.documents, "passages": lib.chunks,
             "skipped": lib.skipped, "failed": lib.errors,
             "indexed_at": lib.indexed_at.isoformat(timespec="seconds") if lib.indexed_at else None,
             "embedding_model": lib.embedder_name}
            for lib in libs],
            "indexing_allowed": self.can_index}

    # -- search ------------------------------------------------------------------------
    def search(self, query, library=None, k=5, mode="hybrid", path=None, offset=0) -> dict:
        query = _text("query", query, MAX_QUERY_CHARS)
        k = _int("k", k, 1, MAX_K)
        offset = _int("offset", offset, 0, MAX_OFFSET)
        if mode not in MODES:
            raise ToolArgumentError(f"mode must be one of {', '.join(MODES)}, not {mode!r}.")
        path = _text("path", path, 500, required=False) or None
        names = self._known(_names(library))
        hits = self.engine.search(query, k=offset + k + 1, mode=mode, libraries=names, path=path)
        more = len(hits) > offset + k
        results: list[dict] = []
        used, cut = 0, False
        shown = hits[offset:offset + k]
        documents = self._documents_of([h.chunk_id for h in shown])
        for hit in shown:
            if results and used + len(hit.text) > MAX_RESULT_CHARS:
                cut = True
                break
            text = hit.text[:MAX_RESULT_CHARS]
            used += len(text)
            results.append({"id": f"p{hit.chunk_id}", "document": f"d{documents.get(hit.chunk_id, -1)}",
                            **_located(hit), "score": round(float(hit.score), 6), "text": text})
        out = {"query": query, "mode": mode, "results": results, "more_available": more or cut}
        if cut or more:
            nxt = offset + len(results)
            why = (f"{len(results)} passages fit this reply's {MAX_RESULT_CHARS:,} characters" if cut
                   else "More passages match")
            if nxt <= MAX_OFFSET:
                out["next_offset"] = nxt
                out["note"] = f"{why}: call search again with offset={nxt} for the next ones, or fetch an id."
            else:
                out["note"] = f"{why}, but paging stops at offset {MAX_OFFSET}: narrow the query or the path."
        if not hits:
            out["note"] = self._why_empty(names)
        return out

    def _known(self, names: list[str] | None) -> list[str] | None:
        if names is None:
            return None
        known = {lib.name for lib in self.engine.libraries.list()}
        missing = [n for n in names if n not in known]
        if missing:
            raise ToolArgumentError(f"No library named {', '.join(map(repr, missing))}; the libraries are: "
                                    f"{', '.join(sorted(known)) or 'none yet'}.")
        return names

    def _why_empty(self, names) -> str:
        if not self.engine.libraries.list():
            return "Bunko has no libraries yet: add a folder in the Bunko app or with `bunko index FOLDER`."
        return "No passage matched. Try other words, mode='keyword' for exact terms, or another library."

    def _documents_of(self, chunk_ids: list[int]) -> dict[int, int]:
        """chunk id → document id, in one query."""
        if not chunk_ids:
            return {}
        cur = self.engine._store.cursor()
        try:
            # a literal list, as retrieve.hits_for does: the zone maps then skip all other rows
            rows = cur.execute(f"SELECT id, document_id FROM chunks WHERE id IN {int_list(chunk_ids)}").fetchall()
        finally:
            cur.close()
        return dict(rows)

    # -- fetch --------------------------------------------------------------------------
    def fetch(self, id, offset=0) -> dict:
        kind, number = lookup.parse_id(id)
        offset = _int("offset", offset, 0, 10**12)
        cur = self.engine._store.cursor()
        try:
            if kind == "passage":
                hit, doc = lookup.passage(cur, number)
                text = hit.text
                head = {"id": f"p{number}", "document": f"d{doc}", **_located(hit)}
            else:
                found = lookup.document(cur, number)
                text = found["text"]
                head = {"id": f"d{number}", "library": found["library"], "file": found["path"],
                        "title": found["title"]}
        finally:
            cur.close()
        if offset and offset >= len(text):
            raise ToolArgumentError(f"offset {offset} is past the end: {id} has {len(text):,} characters.")
        part = text[offset:offset + MAX_RESULT_CHARS]
        end = offset + len(part)
        out = {**head, "offset": offset, "total_chars": len(text), "text": part, "more_available": end < len(text)}
        if end < len(text):
            out["next_offset"] = end
            out["note"] = f"The text goes on: call fetch again with offset={end}."
        return out

    # -- ask -------------------------------------------------------------------------------
    def ask(self, question, library=None, use_libraries=True, model=None, adapter=None, k=4,
            max_tokens=512) -> dict:
        question = _text("question", question, MAX_QUESTION_CHARS)
        k = _int("k", k, 1, 20)
        max_tokens = _int("max_tokens", max_tokens, 1, MAX_ANSWER_TOKENS)
        if not isinstance(use_libraries, bool):
            raise ToolArgumentError("use_libraries must be true or false.")
        model = _text("model", model, 200, required=False) or None
        adapter = _text("adapter", adapter, 200, required=False) or None
        names = self._known(_names(library))
        if model is not None:
            self.engine.models.get(model)   # ModelNotFoundError names the models there are
        began = time.perf_counter()
        first = None
        answer = None
        for event in self.engine.chat.stream(
                question, rag=use_libraries, libraries=tuple(names) if names else None, k=k, model=model,
                adapter=adapter, settings=GenerationSettings(max_tokens=max_tokens)):
            if event.kind == "token" and first is None and event.text.strip():
                first = time.perf_counter() - began
            elif event.kind == "done":
                answer = event.answer
        if answer is None:
            raise BunkoError("The answer ended without a result; see Bunko's log.")
        sources = [{"number": s.number, "id": f"p{s.chunk_id}" if s.chunk_id is not None else None,
                    "library": s.library, "file": s.path, "location": s.location,
                    "text": s.text[:SOURCE_CHARS] + ("…" if len(s.text) > SOURCE_CHARS else "")}
                   for s in answer.sources]
        stats = answer.stats
        speed = stats.get("tokens_per_second")
        return {"answer": answer.text.strip(), "citations": list(answer.citations), "sources": sources,
                "citations_inferred": answer.inferred, "status": answer.status,
                "finish_reason": stats.get("finish_reason"), "model": answer.model, "adapter": answer.adapter,
                "seconds": round(time.perf_counter() - began, 3),
                "first_token_seconds": round(first, 3) if first is not None else None,
                "tokens_per_second": round(speed, 2) if isinstance(speed, (int, float)) and math.isfinite(speed)
                else None}

    # -- index_folder (only with --allow-index) ----------------------------------------
    def index_folder(self, folder, name=None) -> dict:
        if not self.can_index:
            raise ToolArgumentError("This Bunko MCP server is read-only: start it with --allow-index ROOT to let "
                                    "clients index folders inside ROOT.")
        folder = _text("folder", folder, 4096)
        name = _text("name", name, 200, required=False) or None
        target = Path(folder).expanduser()
        if not target.is_absolute():
            raise ToolArgumentError(f"folder must be an absolute path, not {folder!r}.")
        real = target.resolve()   # symlinks and '..' resolved before the check
        if not any(real == root or real.is_relative_to(root) for root in self.index_roots):
            raise ToolArgumentError(f"{folder} is outside the folders this server may index: "
                                    f"{', '.join(map(str, self.index_roots))}.")
        if not real.is_dir():
            raise ToolArgumentError(f"{folder} is not a folder (or cannot be reached).")
        lib = self.engine.libraries.add(real, name)
        result = self.engine.libraries.index(lib.name)
        return {"library": result.library, "added": result.added, "updated": result.updated,
                "removed": result.removed, "unchanged": result.unchanged, "skipped": result.skipped,
                "failed": result.failed, "passages": result.chunks, "seconds": round(result.seconds, 2),
                "failed_files": [{"file": p, "reason": r} for p, r in result.errors[:20]]}
