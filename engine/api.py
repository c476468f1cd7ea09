"""The engine's public API: the one door that the CLI and the desktop app use.

    with Engine.open() as engine:
        lib = engine.add_library("~/Documents/規程")
        engine.index(lib.name, progress=print)
        for hit in engine.search("出張の日当はいくら?"):
            print(hit.path, hit.location, hit.score)
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from . import __version__, paths, retrieve
from .paths import data_dir, default_db_path, log_dir
from .timefmt import clock
from .cancel import CancelToken
from .errors import BunkoError, EmbedderMismatchError, LibraryNotFoundError
from .index_rows import delete_library_rows
from .ingest.scan import display_path, system_folder
from .indexer import index_library
from .store import Store, open_store
from .types import (Answer, AnswerEvent, DocumentInfo, GenerationSettings, IndexProgress, IndexResult, Library,
                    LoadSettings, SearchHit, Source)
from .vectors import VectorIndex

log = logging.getLogger(__name__)

from .finetune.dataset import Dataset, RowProblem, approx_tokens, example_tokens, read_file as read_dataset
from .finetune.hosts import HostReport, HostSpec, Secrets
from .finetune.presets import PRESETS, Estimate, TrainSettings, preset


def probe_host(spec: HostSpec, secrets: Secrets | None = None, timeout: float = 15.0) -> HostReport:
    """Test connection: Python, GPU, driver, free disk and the trainer's environment on a host."""
    from .finetune import trainer_env
    from .finetune.hosts import connect

    host = connect(spec, data_dir() / "finetune", secrets, timeout)
    try:
        return trainer_env.probe(host)
    finally:
        host.close()


def setup_trainer(spec: HostSpec, secrets: Secrets | None = None, kind: str | None = None,
                  on_line: Callable[[str], None] | None = None, cancel: threading.Event | None = None) -> None:
    """Make the trainer's environment on a host (a venv with pinned torch/transformers/peft,
    and Unsloth where there is a GPU). Needs the internet on that host."""
    from .finetune import trainer_env
    from .finetune.hosts import connect

    host = connect(spec, data_dir() / "finetune", secrets)
    try:
        kind = kind or trainer_env.env_kind(trainer_env.probe(host))
        trainer_env.setup(host, kind, on_line, cancel)
    finally:
        host.close()


__all__ = [
    "Dataset", "RowProblem", "read_dataset", "approx_tokens", "example_tokens", "HostReport", "HostSpec", "Secrets", "PRESETS", "Estimate",
    "TrainSettings", "preset", "probe_host", "setup_trainer",
    "run_cli", "gpu_offload_supported", "gpu_present", "clock", "Engine", "CancelToken", "Library", "DocumentInfo", "IndexProgress", "IndexResult",
    "SearchHit", "BunkoError", "__version__", "data_dir", "default_db_path", "log_dir", "Answer", "AnswerEvent", "GenerationSettings", "LoadSettings", "Source",
]


def gpu_offload_supported() -> bool:
    """Whether the installed llama.cpp was built with GPU (CUDA) support: the About box
    says which build this is."""
    from .llm.gpu import cuda_build

    return cuda_build()


def gpu_present() -> bool:
    """Whether nvidia-smi finds an NVIDIA GPU here: a CPU build's About box then says
    that the CUDA build could use it."""
    from .llm.gpu import gpu_info

    return gpu_info(timeout=3.0) is not None


def run_cli(argv: list[str] | None = None) -> int:
    """The `bunko` command line, for launchers that must not import engine internals."""
    from .cli import main

    return main(argv)


class Engine:
    """One open database plus the embedder and the in-memory vector index."""

    def __init__(self, store: Store, embedder_dir: Path | None = None) -> None:
        self.store = store
        self._embedder_dir = embedder_dir
        self._embedder = None
        self._embedder_lock = threading.Lock()
        self._vectors: VectorIndex | None = None
        self._vectors_lock = threading.Lock()
        self._registry = self._host = self._conversations = self._chat = self._jobs = None
        self._chat_lock = threading.RLock()

    @classmethod
    def open(cls, db_path: Path | str | None = None, embedder_dir: Path | str | None = None,
             read_only: bool = False) -> "Engine":
        path = Path(db_path).expanduser() if db_path else paths.default_db_path()
        return cls(open_store(path, read_only=read_only), Path(embedder_dir) if embedder_dir else None)

    def close(self) -> None:
        if self._host is not None:
            self._host.unload()
        self.store.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the embedder ------------------------------------------------------
    @property
    def embedder(self):
        """Loaded (and for the default model, built) on first use."""
        with self._embedder_lock:
            if self._embedder is None:
                from .embed import load_embedder

                self._embedder = load_embedder(self._embedder_dir)
                log.info("embedder %s (%s)", self._embedder.name, self._embedder.model_id)
            return self._embedder

    # -- libraries ---------------------------------------------------------
    def libraries(self) -> list[Library]:
        cur = self.store.cursor()
        rows = cur.execute("""
            SELECT l.id, l.name, l.root, l.embedder_name, l.embedder_id, l.watch, l.created_at, l.indexed_at,
                   count(d.id) FILTER (WHERE d.status = 'indexed'),
                   coalesce(sum(d.n_chunks), 0),
                   count(d.id) FILTER (WHERE d.status = 'skipped'),
                   count(d.id) FILTER (WHERE d.status = 'error'),
                   coalesce(sum(d.size) FILTER (WHERE d.status = 'indexed'), 0)
            FROM libraries l LEFT JOIN documents d ON d.library_id = l.id
            GROUP BY ALL ORDER BY l.name""").fetchall()
        cur.close()
        return [Library(*row) for row in rows]

    def library(self, key: str | int, libs: list[Library] | None = None) -> Library:
        """A library by name, id or folder (among `libs`, if already read)."""
        libs = self.libraries() if libs is None else libs
        for lib in libs:
            if str(lib.id) == str(key) or lib.name == key:
                return lib
        if isinstance(key, str):
            folder = str(Path(key).expanduser().resolve())
            for lib in libs:
                if lib.root == folder:
                    return lib
        names = ", ".join(lib.name for lib in libs) or "none yet"
        raise LibraryNotFoundError(f"There is no library called {key!r} (libraries: {names}).")

    def add_library(self, folder: Path | str, name: str | None = None) -> Library:
        """Register a folder (indexing is a separate step). Adding it twice returns the first."""
        root = Path(folder).expanduser().resolve()
        shown = display_path(str(root))
        if not root.is_dir():
            raise BunkoError(f"The folder {shown} does not exist or is not a folder.")
        top = system_folder(str(root))
        if top is not None:
            raise BunkoError(f"{shown} is inside {top}, which holds the system's processes and devices, "
                             "not documents; choose a folder of documents.")
        if shown != str(root):
            raise BunkoError(f"The folder path {shown} is not valid UTF-8 (the marks stand for bytes that "
                             "are not); rename the folder, then add it. Files with such names inside a "
                             "library are fine.")
        for lib in self.libraries():
            if lib.root == str(root):
                return lib
        name = name or root.name or str(root)
        taken = {lib.name for lib in self.libraries()}
        base, n = name, 2
        while name in taken:
            name, n = f"{base} ({n})", n + 1
        emb = self.embedder
        with self.store.transaction() as cur:
            next_id = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM libraries").fetchone()[0]
            cur.execute(
                "INSERT INTO libraries (id, name, root, embedder_id, embedder_name, dim) VALUES (?, ?, ?, ?, ?, ?)",
                [next_id, name, str(root), emb.model_id, emb.name, emb.dim],
            )
        return self.library(name)

    def remove_library(self, key: str | int) -> None:
        """Forget a library and everything indexed from it (the folder is not touched)."""
        lib = self.library(key)
        with self.store.transaction() as cur:
            delete_library_rows(cur, lib.id)
            cur.execute("DELETE FROM libraries WHERE id = ?", [lib.id])
        with self._vectors_lock:
            if self._vectors is not None:
                self._vectors.remove_library(lib.id)

    def set_watch(self, key: str | int, watch: bool) -> None:
        lib = self.library(key)
        with self.store.transaction() as cur:
            cur.execute("UPDATE libraries SET watch = ? WHERE id = ?", [watch, lib.id])

    def documents(self, key: str | int, status: str | None = None) -> list[DocumentInfo]:
        lib = self.library(key)
        sql = "SELECT library_id, path, status, reason, size, kind, n_chunks FROM documents WHERE library_id = ?"
        params: list = [lib.id]
        if status:
            sql += " AND status = ?"
            params.append(status)
        cur = self.store.cursor()
        rows = cur.execute(sql + " ORDER BY path", params).fetchall()
        cur.close()
        return [DocumentInfo(*row) for row in rows]

    # -- indexing ------------------------------------------------------------
    def _check_model(self, lib: Library) -> None:
        emb = self.embedder
        if lib.embedder_id and lib.embedder_id != emb.model_id:
            raise EmbedderMismatchError(
                f"The library {lib.name!r} was built with the embedding model {lib.embedder_name} "
                f"({lib.embedder_id}), not the current {emb.name} ({emb.model_id}). Vectors from two "
                "models cannot be mixed: choose that model again, or rebuild the library."
            )

    def index(self, key: str | int, progress: Callable[[IndexProgress], None] | None = None,
              cancel: CancelToken | None = None, rebuild: bool = False) -> IndexResult:
        """Bring a library in step with its folder; `rebuild` re-embeds it with the current model."""
        lib = self.library(key)
        if rebuild:
            self._clear_library(lib)
            lib = self.library(lib.id)
        self._check_model(lib)
        if not Path(lib.root).is_dir():
            raise BunkoError(f"The folder of library {lib.name!r} ({lib.root}) is missing or not reachable.")
        return index_library(self.store, lib.id, lib.name, Path(lib.root), self.embedder,
                             progress, cancel, self._on_commit)

    def _clear_library(self, lib: Library) -> None:
        emb = self.embedder
        with self.store.transaction() as cur:
            delete_library_rows(cur, lib.id)
            cur.execute("UPDATE libraries SET embedder_id = ?, embedder_name = ?, dim = ? WHERE id = ?",
                        [emb.model_id, emb.name, emb.dim, lib.id])
        with self._vectors_lock:
            if self._vectors is not None:
                self._vectors.remove_library(lib.id)

    def watch(self, key: str | int, interval: float = 5.0,
              progress: Callable[[IndexProgress], None] | None = None,
              on_result: Callable[[IndexResult], None] | None = None,
              cancel: CancelToken | None = None) -> None:
        """Re-index whenever the folder changes, until cancelled.

        Polling keeps this dependency-free and works on network drives, where
        change notifications are unreliable; an unchanged pass costs one scan.
        """
        cancel = cancel or CancelToken()
        while not cancel.cancelled:
            result = self.index(key, progress, cancel)
            if on_result is not None:
                on_result(result)
            if cancel.wait(interval):
                break

    def _on_commit(self, added, libs, vecs, removed) -> None:
        with self._vectors_lock:
            if self._vectors is None:
                return
            if len(removed):
                self._vectors.remove(removed)
            self._vectors.add(added, libs, vecs)

    # -- searching -------------------------------------------------------------
    def _vector_index(self, library_ids: list[int]) -> VectorIndex:
        with self._vectors_lock:
            if self._vectors is None:
                index = VectorIndex(self.embedder.dim)
                cur = self.store.cursor()
                index.load(cur, library_ids)
                cur.close()
                self._vectors = index
            return self._vectors

    def search(self, query: str, k: int = 10, mode: str = "hybrid",
               libraries: list[str | int] | None = None, path: str | None = None) -> list[SearchHit]:
        """The best passages for `query`. `path` is a glob on paths inside the libraries."""
        if mode not in retrieve.MODES:
            raise BunkoError(f"Unknown search mode {mode!r}; use one of {', '.join(retrieve.MODES)}.")
        query = query.strip()
        if not query:
            return []
        every = self.libraries()
        libs = [self.library(key, every) for key in libraries] if libraries else every
        if libraries:
            for lib in libs:
                self._check_model(lib)
        usable = [lib.id for lib in libs if not lib.embedder_id or lib.embedder_id == self.embedder.model_id]
        if not usable:
            return []
        vectors = qvec = None
        if mode != "keyword":
            qvec = self.embed_query(query)
            # Every library of this model lives in one index; filters narrow it per query.
            all_ids = [lib.id for lib in every if lib.embedder_id == self.embedder.model_id]
            vectors = self._vector_index(all_ids)
        cur = self.store.cursor()
        try:
            like = retrieve.glob_to_like(path) if path else None
            # Every library searched: no filter, which spares a per-chunk mask at 1 M chunks.
            scope = None if not libraries and len(usable) == len(libs) else usable
            ranked = retrieve.rank(cur, vectors, query, qvec, k, mode, scope, like)
            return retrieve.hits_for(cur, ranked)
        finally:
            cur.close()

    def embed_query(self, query: str) -> np.ndarray:
        return self.embedder.embed_queries([query])[0]

    # -- models ------------------------------------------------------------------
    @property
    def models(self):
        """The registry of chat models and LoRA adapters (`ModelRegistry`)."""
        if self._registry is None:
            from .models import ModelRegistry

            self._registry = ModelRegistry(self.store)
        return self._registry

    @property
    def host(self):
        """The chat model in memory (`ModelHost`): loaded on first use, one at a time."""
        with self._chat_lock:
            if self._host is None:
                from .llm.host import ModelHost

                self._host = ModelHost(self.models)
            return self._host

    def load_model(self, name: str | None = None, settings: LoadSettings | None = None):
        """Load a chat model (None: the default), replacing the one in memory."""
        return self.host.load(name, settings)

    def attach_adapter(self, name: str | None, scale: float = 1.0) -> None:
        """Attach a LoRA adapter to the loaded model (None detaches)."""
        self.host.ensure()
        self.host.attach(name, scale)

    # -- answers and conversations ---------------------------------------------
    @property
    def conversations(self):
        """Stored conversations (`Conversations`): list, search, rename, delete, messages."""
        if self._conversations is None:
            from .conversations import Conversations

            self._conversations = Conversations(self.store)
        return self._conversations

    @property
    def chat(self):
        """Answering (`Chat`): `ask`, `regenerate`, `edit` in conversations; `stream` for one-off answers."""
        with self._chat_lock:
            if self._chat is None:
                from .chat import Chat

                self._chat = Chat(self.host, self.conversations, self.search)
            return self._chat

    def ask(self, question: str, conversation_id: int | None = None, **options) -> Iterator[AnswerEvent]:
        """Stream an answer inside a conversation; see `Chat.ask` for the options."""
        return self.chat.ask(question, conversation_id, **options)

    # -- fine-tuning ---------------------------------------------------------------
    @property
    def finetune(self):
        """Fine-tuning jobs (`Jobs`): create, start, follow, cancel, clean, list."""
        with self._chat_lock:
            if self._jobs is None:
                from .finetune.jobs import Jobs

                self._jobs = Jobs(self.store, self.models)
            return self._jobs

    def training_examples(self) -> "Dataset":
        """Examples from this app's own conversations (complete answers only)."""
        from .finetune.dataset import from_conversations

        convs = self.conversations.list()
        return from_conversations([self.conversations.messages(c.id) for c in convs])

    def draft_examples(self, library: str, count: int = 20, model: str | None = None,
                       on_item: Callable[[int, int, dict | None], None] | None = None, cancel=None) -> "Dataset":
        """Question–answer pairs drafted by the local model from passages of `library`, to review."""
        from .finetune.draft import draft

        return draft(self, library, count, model, on_item, cancel)

    def estimate_training(self, base_model: str, examples: list[dict], settings: "TrainSettings",
                          gpu: bool) -> "Estimate":
        """Rough memory and time for training `base_model` on `examples` with `settings`."""
        from .finetune.presets import estimate
        from .llm.gguf_file import read_gguf_info

        info = read_gguf_info(self.models.get(base_model).path)
        n_params = sum(int(np.prod(t[0])) for t in info.tensors.values())
        mean = sum(example_tokens(e) for e in examples) / max(1, len(examples))
        return estimate(n_params, info.n_layers or 1, info.n_embd or 1, len(examples), mean, settings, gpu)

    def compare_adapter(self, job: int | str, n: int = 4, max_tokens: int = 96,
                        cancel: CancelToken | None = None) -> list[dict]:
        """Held-out questions answered by the base model alone and with the job's adapter
        (greedy, no documents): question, expected, before, after."""
        from .finetune.compare import held_out_questions

        done = self.finetune.get(job)
        if not done.adapter:
            raise BunkoError(f"Job {done.name} has no adapter yet ({done.status}).")
        greedy = GenerationSettings(temperature=0.0, max_tokens=max_tokens, seed=0)
        rows = []
        for question, expected in held_out_questions(done.local_dir, n):
            answers = []
            for adapter in (None, done.adapter):
                events = self.chat.stream(question, model=done.base_model, adapter=adapter, settings=greedy,
                                          cancel=cancel)
                answers.append("".join(e.text for e in events if e.kind == "token").strip())
            rows.append({"question": question, "expected": expected, "before": answers[0], "after": answers[1]})
        return rows
