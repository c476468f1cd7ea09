"""Values that cross the door between the engine and its callers (CLI, GUI, API)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any


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
    index_seconds: float | None = None  # all indexing runs that wrote something, summed; None: not recorded
    ocr: bool = True  # scanned pages and pictures are read by OCR
    ocr_pages: int = 0  # pages read by OCR
    ocr_low: int = 0  # of those, read with low confidence (listed for a person to check)
    include_generated: bool = False  # index generated code and what .gitignore leaves out too
    partial: int = 0  # documents indexed in part (a file too large to embed whole)


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
class ScanPage:
    """A page read by OCR, as the citation preview shows it."""
    page: int
    png: bytes  # the page image, turned upright
    regions: list  # (x0, y0, x1, y1) as shares of the image: the cited passage's lines
    confidence: float | None  # the page's mean OCR confidence


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
    file_uri: str = ""  # the real file, bytes of a non-UTF-8 name included (abs_path is for showing)

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


@dataclass(frozen=True, kw_only=True)
class Progress:
    """How far a long task is: the one value every progress callback receives (indexing,
    downloads, drafting, environment setup, training). Tasks with more to say subclass it."""
    phase: str = ""                # the step it is in: scanning, download, check, …
    done: float = 0
    total: float | None = None     # None: not known (yet)
    unit: str = ""                 # files, bytes, examples, steps, lines
    rate: float | None = None      # units per second
    eta_s: float | None = None     # None: not known (yet)
    message: str = ""              # a line for people: a setup command's output, a status
    item: Any = None               # what just finished: a drafted example, a job event

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None


@dataclass(frozen=True, kw_only=True)
class IndexProgress(Progress):
    """Indexing's progress (phase: scanning | indexing | finishing | done | keywords); `done`/`total`
    count bytes (chunks while the keyword index is rebuilt). Every field by name: many are numbers."""
    library: str
    files_total: int = 0  # files that need work this run
    files_done: int = 0
    files_failed: int = 0
    chunks_done: int = 0
    bytes_total: int = 0
    bytes_done: int = 0
    elapsed_s: float = 0.0
    chunks_per_s: float = 0.0
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
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) of files failed this run
    skips: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) of files newly skipped


@dataclass(frozen=True)
class LoadSettings:
    """How a chat model is loaded. None means: choose for this machine."""

    n_ctx: int | None = None         # default: the model's own, at most 8192
    n_threads: int | None = None     # default: the physical cores
    n_batch: int = 512
    n_gpu_layers: int | None = None  # None: as many as fit the GPU; 0: CPU only
    flash_attn: bool | None = None   # None: llama.cpp decides


@dataclass(frozen=True)
class GenerationSettings:
    temperature: float = 0.7         # 0 = always the likeliest token (greedy)
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    repeat_last_n: int = 64
    max_tokens: int = 1024
    seed: int | None = None          # None: a new seed for each answer

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict | None) -> GenerationSettings:
        known = {k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


# Files the system's "open" shows in a viewer. Anything else cited (scripts such as .bat .cmd
# .vbs .js .ps1 .py .sh, programs, code, macro-enabled Office files) may RUN when opened on
# Windows, so Bunko reveals it in its folder instead; a trailing dot or space ("a.bat.") does
# not pass for a document either.
DOCUMENT_SUFFIXES = frozenset({
    ".pdf", ".docx", ".doc", ".xlsx", ".xls", ".pptx", ".ppt", ".odt", ".ods", ".odp", ".rtf", ".txt",
    ".md", ".markdown", ".epub", ".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp", ".webp",
})


def opens_as_document(path: str) -> bool:
    """True when `path` is a document type its usual program only shows (see DOCUMENT_SUFFIXES)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = name.rpartition(".")
    return bool(dot and stem) and "." + suffix.lower() in DOCUMENT_SUFFIXES


@dataclass(frozen=True)
class Source:
    """A passage given to the model with a question, under its number [n]."""

    number: int
    library: str
    path: str
    abs_path: str
    location: str
    text: str
    score: float = 0.0
    chunk_id: int | None = None
    page: int | None = None
    line_start: int | None = None
    file_uri: str = ""  # see SearchHit; empty in sources stored before it existed

    @property
    def open_path(self) -> str:
        """The path to open the file by: the real name, which `abs_path` only shows."""
        from .paths import uri_path
        return uri_path(self.file_uri) if self.file_uri else self.abs_path

    @property
    def opens_as_document(self) -> bool:
        return opens_as_document(self.open_path)

    @property
    def label(self) -> str:
        return f"{self.path} ({self.location})" if self.location else self.path

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> Source:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @classmethod
    def from_hit(cls, number: int, hit: SearchHit) -> Source:
        return cls(number, hit.library, hit.path, hit.abs_path, hit.location, hit.text, hit.score,
                   hit.chunk_id, hit.page, hit.line_start, hit.file_uri)


@dataclass(frozen=True)
class Answer:
    """A finished (or stopped) answer."""

    text: str
    sources: tuple[Source, ...]      # every passage the model was given
    citations: tuple[int, ...]       # the numbers the answer cites, valid ones only
    status: str                      # complete | stopped | error
    stats: dict
    model: str
    adapter: str | None = None
    conversation_id: int | None = None
    message_id: int | None = None
    inferred: bool = False           # the model cited nothing; citations found by matching words
    # Notes for the answer area: {"kind": "language" | "repetition" | "left_out", "text": ..., ...}
    notices: tuple[dict, ...] = ()

    @property
    def cited(self) -> tuple[Source, ...]:
        by_number = {s.number: s for s in self.sources}
        return tuple(by_number[n] for n in self.citations if n in by_number)


@dataclass(frozen=True)
class AnswerEvent:
    """One step of a streamed answer: the sources first, then text pieces, then the answer."""

    kind: str                        # sources | token | notice | done
    text: str = ""
    sources: tuple[Source, ...] = ()
    answer: Answer | None = None
    notice: dict | None = None       # kind "notice": see Answer.notices


@dataclass(frozen=True)
class ModelState:
    """What is loaded, for the models list and the status bar."""

    model: str
    path: str
    adapter: str | None
    adapter_scale: float
    n_ctx: int
    n_threads: int
    n_gpu_layers: int
    offload: str            # "CPU", "all 30 layers", "12/28 layers"
    offload_reason: str
    chat_template: str | None
    special_tokens: tuple[tuple[str, str], ...] = ()   # bos/eos texts, for rendering the template
    where: str = "this computer"   # or the endpoint's URL, or "ssh <host>": where the answers come from
    safe_settings: str = ""        # why llama.cpp runs with safe settings here (empty: the defaults)
    worker_pid: int | None = None  # the process that holds a local model (engine/llm/worker.py)


@dataclass(frozen=True)
class AskOptions:
    """How to answer one question. In a conversation, what is None here falls back to the
    conversation's own choices, then to the defaults."""

    rag: bool | None = None                   # None: with documents when libraries are chosen
    libraries: tuple[str, ...] | None = None
    sources: tuple[Source, ...] | None = None  # passages chosen already (the API's callers)
    k: int | None = None                       # passages to retrieve
    path: str | None = None                    # a glob on paths inside the libraries
    model: str | None = None
    adapter: str | None = None
    adapter_scale: float | None = None
    settings: GenerationSettings | None = None
    system_prompt: str | None = None
    # Ask the chosen model even when it is not known to write the question's language: a
    # measurement (the comparison lab, a fine-tune's before/after) wants its own answer.
    any_language: bool = False

    def with_choices(self, **choices) -> AskOptions:
        """A copy with keyword choices applied (lists become tuples: the value stays frozen)."""
        for key in ("libraries", "sources"):
            if choices.get(key) is not None:
                choices[key] = tuple(choices[key])
        return replace(self, **choices) if choices else self


@dataclass(frozen=True)
class Side:
    """One of the two choices of a side-by-side question: the model, an adapter, and the
    libraries it answers from (none: the model alone)."""

    model: str | None = None          # None: the loaded or default model
    adapter: str | None = None
    libraries: tuple[str, ...] = ()
    adapter_scale: float = 1.0


@dataclass(frozen=True)
class SideEvent:
    """One step of a side-by-side answer: an AnswerEvent of side 0 or 1, with times since that
    side started; kind "start" opens a side, "error" ends it with the reason in words."""

    side: int
    kind: str                        # start | sources | token | notice | done | error
    text: str = ""
    sources: tuple[Source, ...] = ()
    answer: Answer | None = None
    notice: dict | None = None
    first_token_s: float | None = None
    elapsed_s: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class BeforeAfter:
    """A held-out question answered by the base model alone and with a job's adapter."""
    question: str
    expected: str
    before: str
    after: str


@dataclass(frozen=True)
class JobEvent:
    """One event of a fine-tuning job, from the trainer or from Bunko's runner. `kind`: probe,
    setup, upload, start, step, saved, stopped, done, status, error (others keep their fields in `raw`)."""
    kind: str
    step: int = 0
    total: int | None = None            # step: steps in all; upload: bytes in all
    done: int = 0                       # upload: bytes sent
    loss: float | None = None
    eta_s: float | None = None
    tokens_per_s: float | None = None
    total_steps: int | None = None      # start
    resumed_from: int = 0
    examples: int | None = None
    backend: str | None = None
    cuda: bool = False                  # start: training on a GPU
    threads: int | None = None          # start: torch threads on a CPU
    packed_rows: int | None = None      # start: rows of packed examples
    final_loss: float | None = None
    status: str = ""                    # status: running, done, failed, connection_lost, reconnected, ...
    error: str | None = None
    message: str = ""
    error_kind: str | None = None       # error: out_of_memory, ...
    retry_s: float = 0.0
    line: str | None = None             # setup: one line the installers printed
    report: dict = field(default_factory=dict)  # probe: the host's report (label, python, gpus)
    raw: dict = field(default_factory=dict)     # the event as written, for --json and the log

    @classmethod
    def from_dict(cls, event: dict) -> JobEvent:
        """An event line as the trainer or runner wrote it; fields of the wrong type are dropped."""
        def num(key, kind=float, default=None):
            value = event.get(key)
            return kind(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default

        def text(key, default=None):
            value = event.get(key)
            return str(value) if value is not None else default

        report = event.get("report")
        return cls(kind=text("event", ""), step=num("step", int, 0), total=num("total", int), done=num("done", int, 0),
                   loss=num("loss"), eta_s=num("eta_s"), tokens_per_s=num("tokens_per_s"),
                   total_steps=num("total_steps", int), resumed_from=num("resumed_from", int, 0),
                   examples=num("examples", int), backend=text("backend"), cuda=event.get("cuda") is True,
                   threads=num("threads", int), packed_rows=num("packed_rows", int), final_loss=num("final_loss"),
                   status=text("status", ""), error=text("error"), message=text("message", ""),
                   error_kind=text("kind"), retry_s=num("retry_s", float, 0.0), line=text("line"),
                   report=report if isinstance(report, dict) else {}, raw=dict(event))


@dataclass(frozen=True)
class CatalogRow:
    """A catalog model at one quantisation, and how it would run on this computer."""
    id: str
    name: str
    repo: str
    revision: str | None
    pinned: bool
    verified: bool                 # the file's sha256 is pinned in the catalog
    licence: str
    licence_url: str | None
    languages: tuple[str, ...]
    params_b: float | None
    context: int | None
    notes: str
    quant: str
    file: str
    size: int
    size_exact: bool
    sha256: str | None
    fits: bool
    where: str                     # GPU | GPU+CPU | CPU | -
    reason: str
    tokens_per_s: float | None     # a rough guess from memory bandwidth
    default: bool                  # the model's default quantisation


@dataclass(frozen=True)
class ModelAdvice:
    """Which model answers when none is chosen, and why. `reason`: loaded (the model in memory),
    default (the default model writes Japanese), routed (it cannot, so Japanese questions go to
    `japanese_model`), no-japanese (no installed model writes Japanese)."""
    model: str | None
    reason: str
    languages: tuple[str, ...]
    japanese: bool
    japanese_model: str | None
    japanese_ready: bool
    recommended: CatalogRow | None  # the catalog model suggested for this computer


@dataclass(frozen=True)
class DoctorReport:
    """`bunko doctor` and Settings → System: `text` for a bug report; `facts` the same as a
    JSON document (cpu, llama.cpp, probe, loaded_model, gpu, embedding, data folder, versions)."""
    text: str
    facts: dict
