"""The engine's public API: the one door that the CLI and the desktop app use.

    with Engine.open() as engine:
        lib = engine.libraries.add("~/Documents/規程")
        engine.libraries.index(lib.name, progress=print)
        for hit in engine.search("出張の日当はいくら?"):
            print(hit.path, hit.location, hit.score)

`Engine` is where the services are put together (the composition root); the work
happens in them. Each service is built once and takes its collaborators in its
constructor, so a call from here only ever goes down.
"""

from __future__ import annotations

import logging
from pathlib import Path
from collections.abc import Callable, Iterator

from . import __version__, paths
from .budget import MODES as BACKGROUND_MODES, background_mode, set_background_mode
from .llm.gpu import cuda_build as gpu_offload_supported, gpu_present  # the About box: a CUDA build? a GPU?
from .paths import data_dir, default_db_path, log_dir
from .timefmt import clock
from .cancel import CancelToken
from .errors import BunkoError
from .chat.conversations import Conversations
from .chat.service import Chat
from .finetune.manager import FineTuning
from .lab.service import Comparisons
from .library.manager import Libraries
from .library.records import LibraryRecords
from .library.searcher import Searcher
from .llm.host import ModelHost
from .llm.manager import Models
from .llm.remote import keys
from .models.registry import ModelInfo, ModelRegistry
from .store import Store, open_store
from .types import (Answer, AnswerEvent, AskOptions, BeforeAfter, CatalogRow, DoctorReport, DocumentInfo,
                    GenerationSettings, IndexProgress, IndexResult, JobEvent, Library, LoadSettings, ModelAdvice,
                    ModelState, Progress, SearchHit, Side, SideEvent, Source)

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


def embed_host_agreed(label: str) -> bool:
    """Whether the user agreed that libraries' text may go to the server `label` for embedding
    (asked once per server; the CLI and the app share the answer)."""
    from .embed.remote import agreed

    return agreed(data_dir(), label)


def agree_embed_host(label: str) -> None:
    """Remember that the user was told what goes to `label` and agreed."""
    from .embed.remote import agree

    agree(data_dir(), label)


__all__ = [
    "Dataset", "RowProblem", "read_dataset", "approx_tokens", "example_tokens", "HostReport", "HostSpec", "Secrets", "PRESETS", "Estimate",
    "TrainSettings", "preset", "RaftOptions", "TRAINING_FORMATS", "probe_host", "setup_trainer", "BACKGROUND_MODES",
    "set_background_mode", "background_mode", "Question", "embed_host_agreed", "agree_embed_host",
    "QuestionSet", "make_question", "gpu_offload_supported", "gpu_present", "clock", "Engine", "CancelToken", "Library", "DocumentInfo",
    "IndexProgress", "IndexResult", "SearchHit", "BunkoError", "__version__", "data_dir", "default_db_path", "log_dir", "Answer",
    "AnswerEvent", "AskOptions", "BeforeAfter", "CatalogRow", "DoctorReport", "JobEvent", "ModelAdvice", "ModelInfo",
    "GenerationSettings", "LoadSettings", "ModelState", "Progress", "Source", "Side", "SideEvent"]


class Engine:
    """One open database and the services on it.

    engine.libraries      folders, indexing, documents          (library.manager.Libraries)
    engine.searcher       the embedder and the vector index      (library.searcher.Searcher)
    engine.models         models, adapters, the one in memory    (llm.manager.Models)
    engine.conversations  stored conversations                   (chat.conversations.Conversations)
    engine.chat           answers                                (chat.service.Chat)
    engine.jobs           fine-tuning jobs and their examples    (finetune.manager.FineTuning)
    engine.lab            the comparison lab                     (lab.service.Comparisons)

    Writes go through the store's one writer lock; the model in memory has its own lock
    in the host. `search` and `ask` are here too, as the two things most callers do."""

    def __init__(self, store: Store, embedder_dir: Path | None = None, embedder=None, *,
                 jobs_root: Path | None = None, trainer_script: Path | None = None) -> None:
        """`embedder`: one already loaded (a bench shares its copy), else loaded on first use.
        `jobs_root`, `trainer_script`: where jobs keep their files, and the trainer they run."""
        self._store = store
        records = LibraryRecords(store)
        self.searcher = Searcher(store, records, embedder_dir, embedder)
        self.libraries = Libraries(store, records, self.searcher)
        registry = ModelRegistry(store, new_key_id=keys.new_key_id, forget_key=keys.delete_key)
        self.models = Models(registry, ModelHost(registry))
        self.conversations = Conversations(store)
        self.chat = Chat(self.models, self.conversations, self.searcher)
        self.jobs = FineTuning(store, registry, self.chat, self.conversations, self.libraries, self.searcher,
                               jobs_root, trainer_script)
        self.lab = Comparisons(store, self.chat, registry, self.jobs, self.libraries, self.searcher,
                               self.models.host)

    @classmethod
    def open(cls, db_path: Path | str | None = None, embedder_dir: Path | str | None = None,
             read_only: bool = False, **services) -> Engine:
        """The database at `db_path` (None: the user's), opened for this process."""
        path = Path(db_path).expanduser() if db_path else paths.default_db_path()
        return cls(open_store(path, read_only=read_only), Path(embedder_dir) if embedder_dir else None, **services)

    def close(self) -> None:
        """Stop the model worker and close the database."""
        self.models.host.close()
        self._store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def path(self) -> Path:
        """The database file."""
        return self._store.path

    def search(self, query: str, k: int = 10, mode: str = "hybrid",
               libraries: list[str | int] | None = None, path: str | None = None) -> list[SearchHit]:
        """The best passages for `query`. `path` is a glob on paths inside the libraries."""
        return self.searcher.search(query, k, mode, libraries, path)

    def ask(self, question: str, conversation_id: int | None = None, options: AskOptions | None = None, *,
            cancel: CancelToken | None = None, **choices) -> Iterator[AnswerEvent]:
        """Stream an answer inside a conversation (a new one when None); `choices`: AskOptions fields."""
        return self.chat.ask(question, conversation_id, options, cancel=cancel, **choices)

    def doctor(self, probe: bool = False) -> DoctorReport:
        """This computer, llama.cpp and the probe's verdict; "text": the block for a bug report."""
        return self.models.host.doctor(probe, self.searcher.report())
