"""Fine-tuning, as callers use it: the jobs, and the examples they train on."""

from __future__ import annotations

from pathlib import Path
from collections.abc import Callable

from ..cancel import CancelToken
from ..errors import BunkoError
from ..types import BeforeAfter, GenerationSettings, Progress
from .dataset import Dataset
from .jobs import Jobs
from .presets import Estimate, TrainSettings
from .raft import RaftOptions
from ..hosts.hosts import Secrets


class FineTuning(Jobs):
    """Jobs (create, start, follow, cancel, clean, list) plus where their examples come from
    (`engine.jobs`). `chat` answers questions (drafting, before/after); `libraries` gives passages."""

    def __init__(self, store, registry, chat, conversations, libraries, searcher, root: Path | None = None,
                 trainer_script: Path | None = None) -> None:
        super().__init__(store, registry, root, trainer_script)
        self._chat = chat
        self._conversations = conversations
        self._libraries = libraries
        self._searcher = searcher

    def training_examples(self) -> Dataset:
        """Examples from this app's own conversations (complete answers only)."""
        from .dataset import from_conversations

        talks = self._conversations
        return from_conversations([talks.messages(c.id) for c in talks.list()])

    def draft_examples(self, library: str, count: int = 20, model: str | None = None,
                       progress: Callable[[Progress], None] | None = None,
                       cancel: CancelToken | None = None) -> Dataset:
        """Q&A pairs drafted by the local model from passages of `library`, to review (each new one in `item`)."""
        from . import draft

        lib = self._libraries.get(library)
        passages = self._libraries.sample_passages(lib, count, draft.MIN_CHARS)
        return draft.draft(lib.name, passages, self._chat.answer_text(model, None, draft.SETTINGS, cancel),
                           progress, cancel)

    def estimate(self, base_model: str, examples: list[dict], settings: TrainSettings, gpu: bool) -> Estimate:
        """Rough memory and time for training `base_model` on `examples` with `settings`."""
        from .presets import estimate_for_model

        return estimate_for_model(self.models.get(base_model).path, examples, settings, gpu)

    def before_after(self, job: int | str, n: int = 4, max_tokens: int = 96,
                     cancel: CancelToken | None = None) -> list[BeforeAfter]:
        """Held-out questions answered by the base model alone and with the job's adapter
        (greedy, no documents)."""
        from .compare import before_after

        done = self.get(job)
        if not done.adapter:
            raise BunkoError(f"Job {done.name} has no adapter yet ({done.status}).")
        greedy = GenerationSettings(temperature=0.0, max_tokens=max_tokens, seed=0)
        return before_after(done.local_dir, n, self._chat.answer_text(done.base_model, None, greedy, cancel),
                            self._chat.answer_text(done.base_model, done.adapter, greedy, cancel))

    def raft_examples(self, library: str, pairs: list[dict], options: RaftOptions | None = None,
                      held_out: list[dict] | None = None, progress: Callable[[Progress], None] | None = None,
                      cancel: CancelToken | None = None) -> Dataset:
        """Training examples in the chat's RAG prompt from question/answer `pairs` (the training
        split) and passages of `library`; `held_out` pairs' passages are kept out of them."""
        from . import raft

        lib = self._libraries.get(library)

        def search(question: str, k: int):
            return self._searcher.search(question, k=k, libraries=[lib.name])

        return raft.build(pairs, search, options, held_out or (), self._searcher.hits, progress, cancel)

    def measure(self, job: int | str, secrets: Secrets | None = None, steps: int = 2,
                progress: Callable[[Progress], None] | None = None, cancel: CancelToken | None = None) -> dict:
        """Time a created job's first steps on its host and estimate its whole time (kept with the job)."""
        from .measure import measure

        return measure(self, job, secrets, steps, progress, cancel)
