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

from . import __version__, paths
from .budget import MODES as BACKGROUND_MODES, background_mode, set_background_mode
from .llm.gpu import cuda_build as gpu_offload_supported, gpu_present  # the About box: a CUDA build? a GPU?
from .search import retrieve
from .paths import data_dir, default_db_path, log_dir
from .timefmt import clock
from .cancel import CancelToken
from .errors import BunkoError, EmbedderMismatchError
from .library.indexer import index_library
from .library.service import Libraries
from .llm.registry import ModelInfo
from .store import Store, open_store
from .types import (Answer, AnswerEvent, AskOptions, DocumentInfo, GenerationSettings, IndexProgress, IndexResult, Library,
                    LoadSettings, ModelState, Progress, SearchHit, Side, SideEvent, Source)
from .search.vectors import VectorIndex

from .finetune.dataset import Dataset, RowProblem, approx_tokens, example_tokens, read_file as read_dataset
from .hosts.hosts import HostReport, HostSpec, Secrets
from .finetune.presets import PRESETS, Estimate, TrainSettings, preset
from .finetune.raft import FORMATS as TRAINING_FORMATS, RaftOptions
from .lab.questions import Question, QuestionSet, make as make_question

log = logging.getLogger(__name__)


def probe_host(spec: HostSpec, secrets: Secrets | None = None, timeout: float = 15.0) -> HostReport:
    """Test connection: Python, GPU, driver, free disk and the trainer's environment on a host."""
    from .finetune.connect import probe

    return probe(spec, data_dir() / "finetune", secrets, timeout)


def setup_trainer(spec: HostSpec, secrets: Secrets | None = None, kind: str | None = None,
                  progress: Callable[[Progress], None] | None = None, cancel: CancelToken | None = None) -> None:
    """Make the trainer's environment on a host (a venv with pinned torch/transformers/peft,
    and Unsloth where there is a GPU). Needs the internet on that host. Each line the
    installers print comes as a Progress `message`."""
    from .finetune.connect import setup

    setup(spec, data_dir() / "finetune", secrets, kind, progress, cancel)


__all__ = [
    "Dataset", "RowProblem", "read_dataset", "approx_tokens", "example_tokens", "HostReport", "HostSpec", "Secrets", "PRESETS", "Estimate",
    "TrainSettings", "preset", "probe_host", "setup_trainer", "BACKGROUND_MODES", "set_background_mode", "background_mode", "Question",
    "QuestionSet", "make_question", "gpu_offload_supported", "gpu_present", "clock", "Engine", "CancelToken", "Library", "DocumentInfo",
    "IndexProgress", "IndexResult", "SearchHit", "BunkoError", "__version__", "data_dir", "default_db_path", "log_dir", "Answer",
    "AnswerEvent", "AskOptions", "ModelInfo", "GenerationSettings", "LoadSettings", "ModelState", "Progress", "Source", "Side", "SideEvent"]


class Engine:
    """One open database plus the embedder and the in-memory vector index."""

    def __init__(self, store: Store, embedder_dir: Path | None = None, embedder=None) -> None:
        """`embedder`: one already loaded (a bench shares its copy), else loaded on first use."""
        self.store = store
        self._libraries = Libraries(store)
        self._embedder_dir = embedder_dir
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._vectors: VectorIndex | None = None
        self._vectors_lock = threading.Lock()
        self._registry = self._host = self._conversations = self._chat = self._jobs = self._compare = None
        self._chat_lock = threading.RLock()

    @classmethod
    def open(cls, db_path: Path | str | None = None, embedder_dir: Path | str | None = None,
             read_only: bool = False) -> "Engine":
        path = Path(db_path).expanduser() if db_path else paths.default_db_path()
        return cls(open_store(path, read_only=read_only), Path(embedder_dir) if embedder_dir else None)

    def close(self) -> None:
        if self._host is not None:
            self._host.close()
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

                self._embedder = load_embedder(self._embedder_dir, library_ids=self._libraries.made_by())
                log.info("embedder %s (%s)", self._embedder.name, self._embedder.model_id)
            return self._embedder

    def embedder_report(self, load: bool = False) -> dict:
        """Device, providers and graph of the embedder (Settings, `bunko doctor`); see embed.device.report."""
        from .embed.device import report

        return report(self.embedder if load else self._embedder)

    def embedder_change(self, key: str | int) -> str | None:
        """Why re-indexing `key` now would change its vectors, in words; None if it would not."""
        from .library.service import embedder_change

        return embedder_change(self.library(key), self.embedder)

    # -- libraries ---------------------------------------------------------
    def libraries(self) -> list[Library]:
        return self._libraries.list()

    def library(self, key: str | int, libs: list[Library] | None = None) -> Library:
        """A library by name, id or folder (among `libs`, if already read)."""
        return self._libraries.get(key, libs)

    def add_library(self, folder: Path | str, name: str | None = None) -> Library:
        """Register a folder (indexing is a separate step). Adding it twice returns the first."""
        return self._libraries.add(folder, name, self.embedder)

    def remove_library(self, key: str | int) -> None:
        """Forget a library and everything indexed from it (the folder is not touched)."""
        lib = self.library(key)
        self._libraries.remove(lib)
        with self._vectors_lock:
            if self._vectors is not None:
                self._vectors.remove_library(lib.id)

    def set_watch(self, key: str | int, watch: bool) -> None:
        self._libraries.set_watch(self.library(key), watch)

    def set_ocr(self, key: str | int, on: bool) -> None:
        """Read scanned pages and pictures of this library by OCR (the default), or not."""
        self._libraries.set_ocr(self.library(key), on)

    def page_scan(self, chunk_id: int):
        """The scanned page of an OCR'd passage with its lines marked (ScanPage), else None."""
        from .ingest.ocr.preview import page_scan
        return page_scan(self.store, chunk_id)

    def documents(self, key: str | int, status: str | None = None) -> list[DocumentInfo]:
        return self._libraries.documents(self.library(key), status)

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
        """Bring a library in step with its folder; `rebuild` re-embeds it with the current model.
        A keyword index from an older Bunko is rebuilt first (progress phase "keywords")."""
        lib = self.library(key)
        if rebuild:
            self._clear_library(lib)
            lib = self.library(lib.id)
        self._check_model(lib)
        if not Path(lib.root).is_dir():
            raise BunkoError(f"The folder of library {lib.name!r} ({lib.root}) is missing or not reachable.")
        self._libraries.upgrade_keywords(lib.name, progress, cancel)
        return index_library(self.store, lib.id, lib.name, Path(lib.root), self.embedder,
                             progress, cancel, self._on_commit)

    def _clear_library(self, lib: Library) -> None:
        self._libraries.clear(lib, self.embedder)
        with self._vectors_lock:
            if self._vectors is not None:
                self._vectors.remove_library(lib.id)

    def watch(self, key: str | int, interval: float = 5.0,
              progress: Callable[[IndexProgress], None] | None = None,
              on_result: Callable[[IndexResult], None] | None = None,
              cancel: CancelToken | None = None) -> None:
        """Re-index whenever the folder changes, until cancelled (see library.service.watch)."""
        from .library.service import watch

        watch(lambda: self.index(key, progress, cancel), interval, on_result, cancel or CancelToken())

    def _on_commit(self, added, libs, vecs, removed) -> None:
        with self._vectors_lock:
            if self._vectors is None:
                return
            if len(removed):
                self._vectors.remove(removed)
            self._vectors.add(added, libs, vecs)

    # -- searching -------------------------------------------------------------
    def vector_index(self, library_ids: list[int]) -> VectorIndex:
        """The in-memory vector index (read from the store on first use, then kept in step)."""
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
            vectors = self.vector_index(all_ids)
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
            from .llm.registry import ModelRegistry

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

    def loaded_model(self) -> ModelState | None:
        """What is in memory now (None before the first load): a plain value."""
        return self.host.state

    def load_model(self, name: str | None = None, settings: LoadSettings | None = None) -> ModelState:
        """Load a chat model (None: the default), replacing the one in memory."""
        return self.host.load(name, settings)

    def doctor(self, probe: bool = False) -> dict:
        """This computer, llama.cpp and the probe's verdict; "text": the block for a bug report."""
        return self.host.doctor(probe, self.embedder_report())

    def model_catalog(self, n_ctx: int = 4096, gpu: bool = True) -> list[dict]:
        """The catalog (resources/catalog.toml): a row per model and quantisation, its fit and rough speed here."""
        from .llm.catalog import catalog_rows, this_machine

        return catalog_rows(this_machine(gpu), n_ctx)

    def model_advice(self, gpu: bool = True) -> dict:
        """Which model answers when none is chosen and why, and the catalog model suggested for this computer."""
        from .chat.routing import model_advice

        state = self.loaded_model()
        return model_advice(self.models, state.model if state else None, self.model_catalog(gpu=gpu))

    def download_model(self, model_id: str, quant: str | None = None, progress=None, cancel=None,
                       allow_unverified: bool = False):
        """Download a catalog model from the Hugging Face Hub (the only network call) and register it.
        `progress` gets Progress in bytes (phase: download, check); a cancelled download resumes next time.
        A file the catalog does not pin raises UnverifiedModelError unless `allow_unverified` (the user agreed)."""
        from .llm.catalog import find
        from .llm.download import download

        return download(self.models, find(model_id), quant, progress=progress, cancel=cancel,
                        allow_unverified=allow_unverified)

    def import_models(self, path: str | Path, progress=None, cancel=None):
        """Copy GGUF models from a file or folder (a USB drive) into Bunko's folder, checked, and register them."""
        from .llm.model_import import import_models

        return import_models(self.models, path, progress=progress, cancel=cancel)

    # -- models that run elsewhere (an endpoint, or llama-server on the user's GPU server) --------
    def endpoint_models(self, url: str, key: str | None = None) -> list[str]:
        """The models an OpenAI-compatible endpoint offers (connects: the user asked)."""
        from .llm.remote.openai_http import OpenAIClient

        return OpenAIClient(url, key).models()

    def add_endpoint(self, url: str, key: str | None = None, model: str | None = None,
                     name: str | None = None, n_ctx: int | None = None) -> ModelInfo:
        """Register a model of an OpenAI-compatible endpoint; the key goes to the OS keyring."""
        from .llm.remote.register import add_endpoint

        return add_endpoint(self.models, url, key, model, name, n_ctx)

    def add_remote_model(self, spec: HostSpec, gguf: str | Path | None, name: str | None = None, n_ctx: int = 4096,
                         idle_minutes: float = 30, server_binary: str | None = None, **download) -> ModelInfo:
        """Register a GGUF to run with llama-server on a GPU server over SSH (connects later, on Start);
        with catalog=ID (quant, endpoint, secrets, progress, cancel) it is downloaded on the server now."""
        from .llm.remote.register import add_ssh

        return add_ssh(self.models, spec, gguf, name, n_ctx, idle_minutes, server_binary, **download)

    def start_remote_model(self, name: str, secrets: Secrets | None = None,
                           progress: Callable[[Progress], None] | None = None,
                           cancel: CancelToken | None = None) -> ModelState:
        """Start (or find running) the model's llama-server, then use it for answers."""
        if secrets is not None:
            self.host.secrets[name] = secrets
        self.host.server(name).start(progress, cancel)
        return self.host.load(name)

    def stop_remote_model(self, name: str) -> None:
        """Stop the model's llama-server on its host (frees the GPU there)."""
        self.host.stop_server(name)

    def attach_adapter(self, name: str | None, scale: float = 1.0) -> None:
        """Attach a LoRA adapter to the loaded model (None detaches)."""
        self.host.ensure()
        self.host.attach(name, scale)

    # -- answers and conversations ---------------------------------------------
    @property
    def conversations(self):
        """Stored conversations (`Conversations`): list, search, rename, delete, messages."""
        if self._conversations is None:
            from .chat.conversations import Conversations

            self._conversations = Conversations(self.store)
        return self._conversations

    @property
    def chat(self):
        """Answering (`Chat`): `ask`, `regenerate`, `edit` in conversations; `stream` for one-off answers."""
        with self._chat_lock:
            if self._chat is None:
                from .chat.service import Chat

                self._chat = Chat(self.host, self.conversations, self.search, lambda: self.embedder)
            return self._chat

    def side_by_side(self):
        """Two choices answer one question, one after the other; marked pairs go to a question set (`SideBySide`)."""
        from .lab.side_by_side import SideBySide
        return SideBySide(self.chat.stream)

    def ask(self, question: str, conversation_id: int | None = None, options: AskOptions | None = None, *,
            cancel: CancelToken | None = None, **choices) -> Iterator[AnswerEvent]:
        """Stream an answer inside a conversation (a new one when None); `choices`: AskOptions fields."""
        return self.chat.ask(question, conversation_id, options, cancel=cancel, **choices)

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

        return from_conversations([self.conversations.messages(c.id) for c in self.conversations.list()])

    def draft_examples(self, library: str, count: int = 20, model: str | None = None,
                       progress: Callable[[Progress], None] | None = None,
                       cancel: CancelToken | None = None) -> "Dataset":
        """Q&A pairs drafted by the local model from passages of `library`, to review (each new one in `item`)."""
        from .finetune import draft

        lib = self.library(library)
        passages = self._libraries.sample_passages(lib, count, draft.MIN_CHARS)
        return draft.draft(lib.name, passages, self._answer_text(model, None, draft.SETTINGS, cancel),
                           progress, cancel)

    def estimate_training(self, base_model: str, examples: list[dict], settings: "TrainSettings",
                          gpu: bool) -> "Estimate":
        """Rough memory and time for training `base_model` on `examples` with `settings`."""
        from .finetune.presets import estimate_for_model

        return estimate_for_model(self.models.get(base_model).path, examples, settings, gpu)

    def compare_adapter(self, job: int | str, n: int = 4, max_tokens: int = 96,
                        cancel: CancelToken | None = None) -> list[dict]:
        """Held-out questions answered by the base model alone and with the job's adapter
        (greedy, no documents): question, expected, before, after."""
        from .finetune.compare import before_after

        done = self.finetune.get(job)
        if not done.adapter:
            raise BunkoError(f"Job {done.name} has no adapter yet ({done.status}).")
        greedy = GenerationSettings(temperature=0.0, max_tokens=max_tokens, seed=0)
        return before_after(done.local_dir, n, self._answer_text(done.base_model, None, greedy, cancel),
                            self._answer_text(done.base_model, done.adapter, greedy, cancel))

    def _answer_text(self, model: str | None, adapter: str | None, settings: GenerationSettings,
                     cancel: CancelToken | None) -> Callable[[str], str]:
        """question -> the model's whole answer, without documents."""
        def answer(question: str) -> str:
            events = self.chat.stream(question, model=model, adapter=adapter, settings=settings, cancel=cancel,
                                      any_language=True)  # this model's own answer, whatever it can write
            return "".join(e.text for e in events if e.kind == "token").strip()

        return answer

    # -- the comparison lab ----------------------------------------------------------
    @property
    def compare(self):
        """The comparison lab (`Comparisons`): question sets, runs of base | rag | finetuned | both, exports."""
        with self._chat_lock:
            if self._compare is None:
                from .lab.judge import judge_probs
                from .lab.service import Comparisons, Parts

                self._compare = Comparisons(Parts(
                    self.store, self.chat.stream, self.models, lambda: self.finetune, self.library,
                    lambda name: self.index(name), lambda texts: self.embedder.embed_queries(texts),
                    judge_probs(self.host), self._libraries.index_size))
            return self._compare

    def compare_questions(self, path: str | Path | None = None, job: int | str | None = None,
                          library: str | None = None, count: int = 20, progress=None, cancel=None):
        """A `QuestionSet` (bad rows in `problems`): from a JSONL/CSV file, a job's held-out split, or drafted."""
        drafted = (lambda: self.draft_examples(library, count, progress=progress, cancel=cancel)) if library else None
        return self.compare.questions(path, job, drafted)

    def compare_create(self, questions, **choices):
        """A new comparison run, checked. `choices`: base_model, libraries, adapter, job, other_models,
        arms, max_tokens, k, judge, name, question_source."""
        return self.compare.create(list(questions), **choices)

    def compare_run(self, run: int | str, progress: Callable[[Progress], None] | None = None,
                    cancel: CancelToken | None = None):
        """Answer what is missing, arm by arm (a stopped or crashed run continues here)."""
        return self.compare.run(run, progress, cancel)

    def compare_refresh(self, run: int | str, changed, progress=None, cancel=None, documents=None) -> dict:
        """Freshness: write `documents` ({path: text}) into the libraries, re-index, ask `changed` again."""
        return self.compare.refresh(run, list(changed), progress, cancel, documents)

    def compare_runs(self) -> list:
        return self.compare.lab.list()

    def compare_run_info(self, run: int | str):
        return self.compare.lab.get(run)

    def compare_delete(self, run: int | str) -> None:
        self.compare.lab.delete(run)

    def compare_summary(self, run: int | str) -> dict:
        """The table: accuracy with intervals, scores, speed, tests, preparation, freshness, advice."""
        return self.compare.summary(run)

    def compare_answers(self, run: int | str) -> tuple[list, list]:
        """(questions, answers) of round 0, for the per-question view."""
        return self.compare.answers(run)

    def compare_export(self, run: int | str, path: str | Path) -> Path:
        """A self-contained HTML report (.html) or one CSV row per question and arm (.csv)."""
        return self.compare.export(run, path)

    # -- RAG-style training data (RAFT) ------------------------------------------------
    def raft_examples(self, library: str, pairs: list[dict], options: "RaftOptions | None" = None,
                      held_out: list[dict] | None = None, progress: Callable[[Progress], None] | None = None,
                      cancel: CancelToken | None = None) -> "Dataset":
        """Training examples in the chat's RAG prompt from question/answer `pairs` (the training
        split) and passages of `library`; `held_out` pairs' passages are kept out of them."""
        from .finetune import raft

        lib = self.library(library)

        def search(question: str, k: int):
            return self.search(question, k=k, libraries=[lib.name])

        def chunk_hits(ids: list[int]):
            cur = self.store.cursor()
            try:
                return retrieve.hits_for(cur, [retrieve.Ranked(i, 0.0) for i in ids])
            finally:
                cur.close()

        return raft.build(pairs, search, options, held_out or (), chunk_hits, progress, cancel)

    def measure_training(self, job: int | str, secrets: Secrets | None = None, steps: int = 2,
                         progress: Callable[[Progress], None] | None = None,
                         cancel: CancelToken | None = None) -> dict:
        """Time a created job's first steps on its host and estimate its whole time (kept with the job)."""
        from .finetune.measure import measure

        return measure(self.finetune, job, secrets, steps, progress, cancel)
