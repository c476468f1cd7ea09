"""The comparison lab as the engine offers it: question sets, runs, freshness, reports.

It is given the services it uses (answering, the registry, jobs, libraries, the searcher,
the model host) when the engine is put together, and depends on nothing above it.
"""

from __future__ import annotations

import builtins

import logging
from pathlib import Path
from collections.abc import Callable

from ..cancel import CancelToken
from ..errors import CompareError
from ..types import Progress
from . import questions as qmod
from . import report
from .judge import judge_probs
from .runs import AnswerRow, Lab, RunConfig, RunInfo, check_choices

log = logging.getLogger(__name__)


class Comparisons:
    """The comparison lab (`engine.lab`): question sets, runs of base | rag | finetuned | both,
    their table, freshness rounds and exports."""

    def __init__(self, store, chat, registry, jobs, libraries, searcher, host) -> None:
        self._chat = chat
        self._registry = registry
        self._jobs = jobs
        self._libraries = libraries
        self.runs = Lab(store, chat.stream, searcher.embed_queries, judge_probs(host))

    # -- question sets -----------------------------------------------------------
    def read_questions(self, path: str | Path) -> qmod.QuestionSet:
        """A question set from a JSONL or CSV file (bad rows in `problems`)."""
        return qmod.read_file(path)

    def questions(self, path: str | Path | None = None, job: str | int | None = None,
                  library: str | None = None, count: int = 20, progress=None, cancel=None) -> qmod.QuestionSet:
        """From a JSONL/CSV file, a fine-tune job's held-out split, or `count` pairs drafted from `library`."""
        if path is not None:
            return self.read_questions(path)
        if job is not None:
            return self.job_questions(job)
        if library is not None:
            return qmod.from_dataset(self._jobs.draft_examples(library, count, progress=progress, cancel=cancel))
        raise CompareError("Choose a question file, a fine-tune job or a library to draft questions from.")

    def list(self) -> builtins.list[RunInfo]:
        """Every comparison run, newest first."""
        return self.runs.list()

    def get(self, run: int | str) -> RunInfo:
        """A run by id or name."""
        return self.runs.get(run)

    def delete(self, run: int | str) -> None:
        """Forget a run and its answers."""
        self.runs.delete(run)

    def side_by_side(self):
        """Two choices answer one question, one after the other; marked pairs go to a question set."""
        from .side_by_side import SideBySide

        return SideBySide(self._chat.stream)

    def answers(self, run: int | str) -> tuple[builtins.list[qmod.Question], builtins.list[AnswerRow]]:
        """(questions, answers) of round 0, for the per-question view."""
        info = self.runs.get(run)
        return self.runs.questions(info.id), self.runs.answers(info.id, 0)

    def job_questions(self, job: str | int, limit: int = 200) -> qmod.QuestionSet:
        """The held-out questions of a fine-tune job."""
        return qmod.from_job(self._jobs.get(job).local_dir, limit)

    # -- runs -------------------------------------------------------------------
    def create(self, questions: builtins.list[qmod.Question], base_model: str | None = None, libraries=(),
               adapter: str | None = None, job: str | int | None = None, other_models=(), arms=None,
               max_tokens: int = 64, k: int = 4, judge: str | None = None, name: str | None = None,
               question_source: str = "", more_adapters=()) -> RunInfo:
        """A new run, checked before anything is answered. `more_adapters`: further adapters of
        the same base, each its own arm (and one with the libraries), e.g. plain and RAFT-style."""
        questions = list(questions)
        models = self._registry
        job_info = None
        if job is not None:
            job_info = self._jobs.get(job)
            if not job_info.adapter:
                raise CompareError(f"The fine-tune job {job_info.name} has no adapter yet ({job_info.status}).")
            adapter = adapter or job_info.adapter
            base_model = base_model or job_info.base_model
        if base_model is None and adapter:
            base_model = models.get(adapter).base_model
        base_model = base_model or models.default().name
        libs = tuple(self._libraries.get(n).name for n in libraries)
        config = RunConfig(base_model, libs, adapter, job_info.name if job_info else None, tuple(other_models),
                           tuple(arms) if arms else None, max_tokens, k, judge, True, question_source,
                           tuple(more_adapters))
        check_choices(config, models, self._libraries.get)
        return self.runs.create(name or f"compare {len(self.runs.list()) + 1}", config, questions,
                               self._prep(config, job_info))

    def _prep(self, config: RunConfig, job) -> dict:
        """What each technique cost before the first answer."""
        prep: dict = {}
        for name in config.libraries:
            lib = self._libraries.get(name)
            prep[f"RAG index {lib.name}"] = {
                "documents": lib.documents, "chunks": lib.chunks, "document bytes": lib.bytes, "embedder": lib.embedder_id,
                "index seconds": round(lib.index_seconds, 2) if lib.index_seconds is not None else "not recorded",
                "index bytes": self._libraries.index_size(lib),
                "indexed": str(lib.indexed_at)[:19] if lib.indexed_at else None}
        for name in ((config.adapter,) if config.adapter else ()) + config.more_adapters:
            info = self._registry.get(name)
            entry = {"adapter bytes": info.size}
            training = info.training or {}
            if job is not None and name == config.adapter:
                entry.update({"job": job.name, "steps": job.step, "train seconds": job.result.get("seconds"),
                              "backend": job.result.get("backend"), "host": job.host.label if hasattr(job.host, "label")
                              else job.host.kind, "final loss": job.result.get("final_loss"),
                              "peak memory bytes": job.result.get("peak_rss_bytes")})
            elif training:
                entry.update({name: training[k] for k, name in (("steps", "steps"), ("seconds", "train seconds"),
                                                                   ("final_loss", "final loss"),
                                                                   ("peak_rss_bytes", "peak memory bytes"))
                              if training.get(k) is not None})
            prep[f"fine-tune {name}"] = entry
        return prep

    def reuse(self, run: int | str, source: int | str) -> int:
        """Answers of an earlier run for the same questions and identical arms, copied in (see Lab.reuse)."""
        return self.runs.reuse(run, source)

    def run(self, run: int | str, progress: Callable[[Progress], None] | None = None,
            cancel: CancelToken | None = None) -> RunInfo:
        """Answer what is missing, arm by arm (a stopped or crashed run continues here)."""
        return self.runs.run(run, progress, cancel)

    def refresh(self, run: int | str, changed: builtins.list[qmod.Question],
                progress: Callable[[Progress], None] | None = None, cancel: CancelToken | None = None,
                documents: dict | None = None) -> dict:
        """Freshness: write `documents` ({path: text}, inside one of the run's libraries; a relative
        path is in the first library's folder) if given, re-index, ask `changed` again in every arm,
        and give the adapter's retraining estimate."""
        info = self.runs.get(run)
        changed = list(changed)
        if not changed:
            raise CompareError("Name the questions whose answer changed (with their new reference).")
        if documents:
            self.write_documents(info, documents)
        return self.runs.refresh(info.id, self._libraries.index, changed,
                                lambda: self._retrain_estimate(info, changed), progress, cancel)

    def write_documents(self, run: RunInfo, documents: dict) -> builtins.list[Path]:
        """Add or change documents of the run's libraries (the new fact), as UTF-8 text."""
        roots = [Path(self._libraries.get(n).root).resolve() for n in run.config.libraries]
        if not roots:
            raise CompareError(f"The run {run.name!r} uses no library, so there is no document to change: "
                               "freshness then only asks the changed questions again.")
        written = []
        for name, text in documents.items():
            path = Path(name).expanduser()
            path = (path if path.is_absolute() else roots[0] / path).resolve()
            if not any(path != root and path.is_relative_to(root) for root in roots):
                raise CompareError(f"{path} is outside the run's libraries ({', '.join(map(str, roots))}); "
                                   "write the new fact into a document inside one of them.")
            if path.is_dir():
                raise CompareError(f"{path} is a folder; name a document file.")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            log.info("freshness: wrote %s (%d characters)", path.name, len(text))
            written.append(path)
        return written

    def _retrain_estimate(self, run: RunInfo, changed: builtins.list[qmod.Question]) -> dict | None:
        """The wizard's estimate for training the adapter again with the changed facts added:
        {"text", "steps", "memory_bytes", "seconds", "device"}, or {"text", "no_job": True} when the
        adapter's training data is unknown (added with `models add`, or trained elsewhere)."""
        if not run.config.adapter:
            return None
        # the job that trained the adapter (named, or recorded with the adapter): retraining is that job again
        job_key = run.config.job or (self._registry.get(run.config.adapter).training or {}).get("job")
        if job_key is None:
            # an estimate from the changed questions alone ("1 steps, ~16 s") would mislead
            return {"text": "no estimate: the adapter was not trained in this data folder, so its training "
                            "data is not known", "no_job": True}
        from ..finetune.dataset import read_file
        from ..finetune.presets import estimate_for_model

        examples = [{"messages": [{"role": "user", "content": q.text},
                                  {"role": "assistant", "content": q.references[0]}]} for q in changed]
        job = self._jobs.get(job_key)
        train = Path(job.local_dir) / "train.jsonl"
        if train.is_file():
            examples += read_file(train).examples
        est = estimate_for_model(self._registry.get(run.config.base_model).path, examples, job.settings,
                                 job.result.get("backend") == "unsloth")
        return {"text": est.text(), "steps": est.steps, "memory_bytes": est.memory_bytes,
                "seconds": est.seconds, "device": est.device}

    # -- reading results ----------------------------------------------------------
    def summary(self, run: int | str) -> dict:
        """The table: accuracy with intervals, scores, speed, tests, preparation, freshness, advice."""
        info = self.runs.get(run)
        return report.summary(info, self.runs.questions(info.id), self.runs.answers(info.id), self._later(info))

    def _later(self, info: RunInfo) -> dict:
        """The questions asked again in each freshness round."""
        return {r["round"]: self.runs.questions(info.id, r["round"]) for r in info.rounds}

    def export(self, run: int | str, path: str | Path) -> Path:
        """.html: the self-contained report; .md: its tables in Markdown; .csv: one row per question
        and arm (every round)."""
        info = self.runs.get(run)
        path = Path(path).expanduser()
        qs = self.runs.questions(info.id)
        answers = self.runs.answers(info.id)
        if path.suffix.lower() == ".csv":
            known = {a.key for a in answers if a.round == 0 and a.arm == "base" and a.scores.get("match")}
            rounds = {0: qs, **self._later(info)}
            text = report.to_csv(rounds, answers, known)
            path.write_text(text, encoding="utf-8-sig")  # with a BOM, Excel reads Japanese right
        elif path.suffix.lower() in (".html", ".htm"):
            path.write_text(report.to_html(report.summary(info, qs, answers, self._later(info)), qs, answers),
                            encoding="utf-8")
        elif path.suffix.lower() == ".md":
            path.write_text(report.to_markdown(report.summary(info, qs, answers, self._later(info))), encoding="utf-8")
        else:
            raise CompareError(f"{path.name}: export to a .html, .md or .csv file.")
        return path
