"""Values that cross the door between the engine and its callers (CLI, GUI, API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Library:
    id: int
    name: str
    root: str
    embedder_name: str | None
    embedder_id: str | None
    watch: bool
    created_at: datetime | None
    indexed_at: datetime | None
    documents: int = 0  # indexed
    chunks: int = 0
    skipped: int = 0
    errors: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class DocumentInfo:
    library_id: int
    path: str  # relative to the library root
    status: str  # indexed | skipped | error
    reason: str | None
    size: int | None
    kind: str | None
    chunks: int


@dataclass(frozen=True)
class SearchHit:
    chunk_id: int
    score: float  # fused score for hybrid, cosine for dense, BM25 for keyword
    library: str
    path: str  # relative to the library root
    abs_path: str
    title: str | None
    text: str
    page: int | None
    heading: str | None
    line_start: int | None
    line_end: int | None
    dense_rank: int | None = None
    keyword_rank: int | None = None

    @property
    def location(self) -> str:
        """'page 3', 'heading', 'lines 10–20': what a citation shows after the file name."""
        parts = []
        if self.page is not None:
            parts.append(f"p.{self.page}")
        if self.heading:
            parts.append(self.heading)
        if self.line_start is not None and self.page is None:
            end = self.line_end if self.line_end is not None else self.line_start
            parts.append(f"L{self.line_start}" if end == self.line_start else f"L{self.line_start}-{end}")
        return ", ".join(parts)


@dataclass(frozen=True)
class IndexProgress:
    library: str
    phase: str  # scanning | indexing | finishing | done
    files_total: int = 0  # files that need work this run
    files_done: int = 0
    files_failed: int = 0
    chunks_done: int = 0
    bytes_total: int = 0
    bytes_done: int = 0
    elapsed_s: float = 0.0
    chunks_per_s: float = 0.0
    eta_s: float | None = None
    current: str | None = None


@dataclass(frozen=True)
class IndexResult:
    library: str
    added: int = 0
    updated: int = 0
    renamed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    chunks: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    cancelled: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) new this run
