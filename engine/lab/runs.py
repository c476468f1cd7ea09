"""Comparison runs: the same questions answered by every arm, each answer scored and stored
the moment it is made.

Work goes model by model, so each arm's model (and adapter) is loaded once; arms on the same
model take turns question by question. A run that crashed, was killed or was cancelled is
continued by running it again: answers already stored are never asked again. A freshness round
re-indexes the run's libraries and asks the affected questions again (with their new references) in every arm.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Callable

from ..cancel import CancelToken
from ..errors import CompareError, ModelError
from ..types import AskOptions, GenerationSettings, Library, Progress
from . import scoring
from .questions import Question

log = logging.getLogger(__name__)

BASE, RAG, FINETUNED, BOTH = "base", "rag", "finetuned", "both"


@dataclass(frozen=True)
class Arm:
    name: str
    model: str
    adapter: str | None = None
    rag: bool = False


@dataclass(frozen=True)
class RunConfig:
    """What a run compares. `arms` None: every arm the choices allow."""
    base_model: str
    libraries: tuple[str, ...] = ()
    adapter: str | None = None
    job: str | None = None
    other_models: tuple[str, ...] = ()
    arms: tuple[str, ...] | None = None
    max_tokens: int = 64
    k: int = 4
    judge: str | None = None
    similarity: bool = True
    question_source: str = ""
    more_adapters: tuple[str, ...] = ()   # further adapters, each an arm NAME (and NAME+rag)

    def all_arms(self) -> list[Arm]:
        found = [Arm(BASE, self.base_model)]
        if self.libraries:
            found.append(Arm(RAG, self.base_model, rag=True))
        if self.adapter:
            found.append(Arm(FINETUNED, self.base_model, self.adapter))
            if self.libraries:
                found.append(Arm(BOTH, self.base_model, self.adapter, rag=True))
        for extra in self.more_adapters:
            found.append(Arm(extra, self.base_model, extra))
            if self.libraries:
                found.append(Arm(f"{extra}+rag", self.base_model, extra, rag=True))
        for other in self.other_models:
            found.append(Arm(other, other))
            if self.libraries:
                found.append(Arm(f"{other}+rag", other, rag=True))
        if self.arms is not None:
            wanted = set(self.arms)
            unknown = wanted - {a.name for a in found}
            if unknown:
                raise CompareError(f"No arm {', '.join(sorted(unknown))} for these choices; possible: "
                                   f"{', '.join(a.name for a in found)}.")
            found = [a for a in found if a.name in wanted]
        return found

    def settings(self) -> GenerationSettings:
        # greedy and seeded: the same question gives the same answer, so arms differ by technique only
        return GenerationSettings(temperature=0.0, max_tokens=self.max_tokens, seed=0)

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("libraries", "other_models", "arms", "more_adapters"):
            if known.get(key) is not None:
                known[key] = tuple(known[key])
        return cls(**known)


@dataclass(frozen=True)
class RunInfo:
    id: int
    name: str
    status: str
    config: RunConfig
    prep: dict
    rounds: list
    error: str | None
    created_at: object
    finished_at: object
    questions: int = 0
    answers: int = 0

    @property
    def arms(self) -> list[Arm]:
        return self.config.all_arms()


@dataclass(frozen=True)
class AnswerRow:
    key: str
    arm: str
    round: int
    text: str
    status: str
    sources: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
    seconds: float = 0.0


def _same_indexes(before: dict, now: dict, libraries) -> bool:
    """Whether each library was the same index for both runs: its embedder and what it held. Its
    indexing time grows with every run that wrote something, so an edit of the same size shows too."""
    fields = ("embedder", "documents", "chunks", "document bytes", "index seconds")
    for name in libraries:
        was, is_ = before.get(f"RAG index {name}", {}), now.get(f"RAG index {name}", {})
        if was.get("embedder") is None or any(was.get(f) != is_.get(f) for f in fields):
            return False
    return True


def _rss_mib() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


class Lab:
    """Runs over one store. `stream` is Chat.stream; `embed(texts)` returns normalised
    vectors; `judge_probs(model, prompt, candidates)` the judge's probabilities."""

    def __init__(self, store, stream: Callable, embed: Callable | None = None,
                 judge_probs: Callable | None = None) -> None:
        self.store = store
        self._stream = stream
        self._embed = embed
        self._judge_probs = judge_probs

    # -- runs -----------------------------------------------------------------
    def create(self, name: str, config: RunConfig, questions: builtins.list[Question], prep: dict | None = None) -> RunInfo:
        if not questions:
            raise CompareError("The question set is empty: there is nothing to compare on.")
        config.all_arms()  # unknown arm names fail here, before anything is stored
        with self.store.transaction() as cur:
            run_id = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM lab_runs").fetchone()[0]
            cur.execute("INSERT INTO lab_runs (id, name, status, config, prep, rounds) VALUES (?, ?, 'created', ?, ?, '[]')",
                        [run_id, name, json.dumps(asdict(config), ensure_ascii=False),
                         json.dumps(prep or {}, ensure_ascii=False, default=str)])
            self._insert_questions(cur, run_id, 0, questions)
        return self.get(run_id)

    def _insert_questions(self, cur, run_id: int, round_: int, questions: builtins.list[Question]) -> None:
        cur.executemany("INSERT INTO lab_questions VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [[run_id, round_, i, q.key, q.text, json.dumps(list(q.references), ensure_ascii=False),
                          q.source] for i, q in enumerate(questions)])

    def list(self) -> builtins.list[RunInfo]:
        cur = self.store.cursor()
        try:
            ids = [r[0] for r in cur.execute("SELECT id FROM lab_runs ORDER BY id").fetchall()]
        finally:
            cur.close()
        return [self.get(i) for i in ids]

    def get(self, key: int | str) -> RunInfo:
        cur = self.store.cursor()
        try:
            if isinstance(key, int) or str(key).isdigit():
                row = cur.execute("SELECT id, name, status, config, prep, rounds, error, created_at, finished_at "
                                  "FROM lab_runs WHERE id = ?", [int(key)]).fetchone()
            else:
                row = cur.execute("SELECT id, name, status, config, prep, rounds, error, created_at, finished_at "
                                  "FROM lab_runs WHERE name = ? ORDER BY id DESC LIMIT 1", [key]).fetchone()
            if row is None:
                raise CompareError(f"There is no comparison run {key!r}; `bunko compare list` shows them.")
            nq = cur.execute("SELECT count(*) FROM lab_questions WHERE run_id = ? AND round = 0", [row[0]]).fetchone()[0]
            # the first round's answers: a freshness round's own are not part of "answers of questions x arms"
            na = cur.execute("SELECT count(*) FROM lab_answers WHERE run_id = ? AND round = 0", [row[0]]).fetchone()[0]
        finally:
            cur.close()
        status = row[2]
        if status == "running" and not _pid_alive(self._runner_file(row[0])):
            status = "interrupted"  # its process is gone (killed, crashed, the power went)
        return RunInfo(row[0], row[1], status, RunConfig.from_dict(json.loads(row[3])), json.loads(row[4] or "{}"),
                       json.loads(row[5] or "[]"), row[6], row[7], row[8], nq, na)

    def _runner_file(self, run_id: int) -> Path | None:
        """Where the process answering a run leaves its pid, beside the database (None in memory)."""
        path = getattr(self.store, "path", None)
        return Path(f"{path}.lab-run-{run_id}.pid") if path else None

    def delete(self, key: int | str) -> None:
        run = self.get(key)
        _remove(self._runner_file(run.id))
        with self.store.transaction() as cur:
            for table in ("lab_answers", "lab_questions"):
                cur.execute(f"DELETE FROM {table} WHERE run_id = ?", [run.id])
            cur.execute("DELETE FROM lab_runs WHERE id = ?", [run.id])

    def questions(self, run_id: int, round_: int = 0) -> builtins.list[Question]:
        cur = self.store.cursor()
        try:
            rows = cur.execute("SELECT key, question, refs, source FROM lab_questions WHERE run_id = ? AND round = ? "
                               "ORDER BY ord", [run_id, round_]).fetchall()
        finally:
            cur.close()
        return [Question(k, q, tuple(json.loads(r)), s) for k, q, r, s in rows]

    def answers(self, run_id: int, round_: int | None = None) -> builtins.list[AnswerRow]:
        cur = self.store.cursor()
        try:
            sql = "SELECT key, arm, round, text, status, sources, stats, scores, seconds FROM lab_answers WHERE run_id = ?"
            params: list = [run_id]
            if round_ is not None:
                sql += " AND round = ?"
                params.append(round_)
            rows = cur.execute(sql + " ORDER BY round, created_at", params).fetchall()
        finally:
            cur.close()
        return [AnswerRow(k, a, r, t, st, json.loads(src or "[]"), json.loads(sts or "{}"), json.loads(sc or "{}"), sec or 0.0)
                for k, a, r, t, st, src, sts, sc, sec in rows]

    def _set(self, run_id: int, **fields) -> None:
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self.store.transaction() as cur:
            cur.execute(f"UPDATE lab_runs SET {cols} WHERE id = ?", [*fields.values(), run_id])

    # -- answering --------------------------------------------------------------
    def run(self, key: int | str, progress: Callable[[Progress], None] | None = None,
            cancel: CancelToken | None = None) -> RunInfo:
        """Answer every question in every arm that has no stored answer yet (round 0), then judge."""
        run = self.get(key)
        marker = self._runner_file(run.id)
        _write_pid(marker)   # before 'running', so no reader sees it running without one
        self._set(run.id, status="running", error=None)
        try:
            done = self._work(run, 0, self.questions(run.id, 0), progress, cancel)
            if done and run.config.judge:
                done = self._judge(run, progress, cancel)
        except BaseException as exc:
            # A crash leaves 'running' (the next run continues; `get` says interrupted); a
            # person's stop says so.
            if isinstance(exc, Exception):
                self._set(run.id, status="failed", error=str(exc))
            raise
        finally:
            _remove(marker)
        self._set(run.id, status="done" if done else "cancelled",
                  finished_at=_now() if done else None)
        return self.get(run.id)

    def _work(self, run: RunInfo, round_: int, questions: builtins.list[Question],
              progress: Callable[[Progress], None] | None, cancel: CancelToken | None) -> bool:
        """Answer what is missing, arm by arm; False when cancelled."""
        cfg = run.config
        have = {(a.key, a.arm) for a in self.answers(run.id, round_)}
        arms = cfg.all_arms()
        # Arms that share a model and adapter (base and rag; finetuned and both) take turns on
        # each question, so a run stopped half-way already holds paired answers to compare;
        # each model (and adapter) is still loaded once.
        loads = list(dict.fromkeys((a.model, a.adapter) for a in arms))
        todo = [(arm, q) for load in loads for q in questions for arm in arms
                if (arm.model, arm.adapter) == load and (q.key, arm.name) not in have]
        total = len(arms) * len(questions)
        finished = total - len(todo)
        started = time.monotonic()
        made = 0
        settings = cfg.settings()
        for arm, q in todo:
            if cancel is not None and cancel.cancelled:
                return False
            row = self._answer(arm, q, cfg, settings, round_, cancel)
            if row.status == "stopped" and cancel is not None and cancel.cancelled:
                return False  # a half answer is not kept: it is asked again next time
            self._store(run.id, row)
            made += 1
            finished += 1
            rate = made / max(time.monotonic() - started, 1e-6)
            if progress is not None:
                progress(Progress(phase=arm.name, done=finished, total=total, unit="answers", rate=rate,
                                  eta_s=(total - finished) / rate if rate > 0 else None,
                                  message=q.text[:80], item=row))
        return True

    def _answer(self, arm: Arm, q: Question, cfg: RunConfig, settings: GenerationSettings, round_: int,
                cancel: CancelToken | None) -> AnswerRow:
        options = AskOptions(rag=arm.rag, libraries=cfg.libraries if arm.rag else None, k=cfg.k,
                             model=arm.model, adapter=arm.adapter, settings=settings,
                             any_language=True)  # each arm's own answer: that is what is measured
        t0 = time.perf_counter()
        answer = None
        for event in self._stream(q.text, options, cancel=cancel):
            if event.kind == "done":
                answer = event.answer
        assert answer is not None   # an answer's stream ends with a "done" event that carries it
        seconds = time.perf_counter() - t0
        cited = set(answer.citations)
        sources = [{"number": s.number, "path": s.path, "location": s.location, "text": s.text,
                    "cited": s.number in cited} for s in answer.sources]
        cited_texts = [s.text for s in answer.cited] if arm.rag else None
        scores = scoring.score(answer.text, q.references, cited_texts, self._embed if cfg.similarity else None)
        # the model that answered (an endpoint's or a GPU server's arm says so) and where it ran
        stats = {**answer.stats, "rss_mib": _rss_mib(), "inferred_citations": answer.inferred, "model": answer.model}
        return AnswerRow(q.key, arm.name, round_, answer.text, answer.status, sources, stats, scores, round(seconds, 4))

    def reuse(self, key: int | str, source: int | str) -> int:
        """Copy into run `key` the answers run `source` holds for the same questions in arms
        answered the same way (same name, model, adapter, libraries, passages, answer length; for
        the RAG arms, libraries not re-indexed with changes since: see _same_indexes).
        Answers are greedy and seeded, so they would come out the same: adding an adapter to a
        finished comparison then asks only its new arms. Returns how many were copied."""
        run, src = self.get(key), self.get(source)
        mine, theirs = run.config, src.config
        if (mine.base_model, mine.libraries, mine.k, mine.max_tokens) != \
                (theirs.base_model, theirs.libraries, theirs.k, theirs.max_tokens):
            raise CompareError(f"Run {src.name!r} used another base model, libraries, passage count or answer "
                               f"length than {run.name!r}; its answers cannot stand in for this run's.")
        same = {a.name for a in src.arms} & {a.name for a in run.arms if a in src.arms}
        if not _same_indexes(src.prep, run.prep, mine.libraries):
            same -= {a.name for a in run.arms if a.rag}   # re-indexed since: its passages may differ
        keys = {q.key for q in self.questions(run.id, 0)}
        have = {(a.key, a.arm) for a in self.answers(run.id, 0)}
        rows = [a for a in self.answers(src.id, 0) if a.arm in same and a.key in keys and (a.key, a.arm) not in have]
        for row in rows:
            self._store(run.id, row)
        log.info("run %s: %d answers reused from run %s", run.name, len(rows), src.name)
        return len(rows)

    def _store(self, run_id: int, row: AnswerRow) -> None:
        with self.store.transaction() as cur:
            cur.execute("INSERT INTO lab_answers (run_id, round, key, arm, text, status, sources, stats, scores, seconds) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_id, row.round, row.key, row.arm, row.text, row.status,
                         json.dumps(row.sources, ensure_ascii=False), json.dumps(row.stats),
                         json.dumps(row.scores), row.seconds])

    # -- the judge ------------------------------------------------------------------
    def _judge(self, run: RunInfo, progress, cancel) -> bool:
        """Grade every stored answer not graded yet with the judge model (loaded once, last)."""
        if self._judge_probs is None:
            raise CompareError("No judge is available in this engine.")
        by_key = {(q.key, r): q for r in {0, *range(1, len(run.rounds) + 1)} for q in self.questions(run.id, r)}
        rows = [a for a in self.answers(run.id) if "judge" not in a.scores]
        started = time.monotonic()
        for i, a in enumerate(rows, 1):
            if cancel is not None and cancel.cancelled:
                return False
            q = by_key.get((a.key, a.round))
            if q is None:
                continue
            probs = self._judge_probs(run.config.judge, scoring.judge_prompt(q.text, q.references, a.text),
                                      list(scoring.GRADES))
            value = scoring.judge_score(probs)
            scores = {**a.scores, "judge": None if value is None else round(value, 4)}
            with self.store.transaction() as cur:
                cur.execute("UPDATE lab_answers SET scores = ? WHERE run_id = ? AND round = ? AND key = ? AND arm = ?",
                            [json.dumps(scores), run.id, a.round, a.key, a.arm])
            if progress is not None:
                rate = i / max(time.monotonic() - started, 1e-6)
                progress(Progress(phase="judge", done=i, total=len(rows), unit="answers", rate=rate,
                                  eta_s=(len(rows) - i) / rate))
        return True

    # -- freshness ------------------------------------------------------------------
    def refresh(self, key: int | str, reindex: Callable[[str], object], changed: builtins.list[Question],
                estimate: Callable[[], dict | None] | None = None,
                progress: Callable[[Progress], None] | None = None, cancel: CancelToken | None = None) -> dict:
        """After a document changed: re-index the run's libraries (timed), ask the `changed`
        questions (new references, same keys) again in every arm, and keep what it took."""
        run = self.get(key)
        if not changed:
            raise CompareError("Name the questions whose answer changed (with their new reference).")
        t0 = time.perf_counter()
        results = [reindex(name) for name in run.config.libraries]
        reindex_s = time.perf_counter() - t0
        round_ = len(run.rounds) + 1
        with self.store.transaction() as cur:
            self._insert_questions(cur, run.id, round_, changed)
        retrain = estimate() if estimate else None
        info = {"round": round_, "reindex_s": round(reindex_s, 3), "questions": len(changed),
                "changed_files": sum(getattr(r, "added", 0) + getattr(r, "updated", 0) for r in results),
                "retrain_estimate": retrain["text"] if retrain else None,   # English, for the CLI and exports
                "retrain": retrain}                                         # its numbers, for the window's words
        self._set(run.id, rounds=json.dumps([*run.rounds, info], ensure_ascii=False))
        self._work(self.get(run.id), round_, changed, progress, cancel)
        return info


def _now():
    from datetime import datetime

    return datetime.now()


def check_choices(config: RunConfig, models, libraries: Callable[[str], Library]) -> None:
    """Refuse, before anything runs, what would fail half-way: an adapter for another model,
    a missing judge or model, a library that is not indexed yet."""
    try:
        base = models.get(config.base_model)
    except ModelError as exc:
        raise CompareError(f"The base model {config.base_model!r} is not installed: {exc}") from exc
    adapters = ((config.adapter,) if config.adapter else ()) + config.more_adapters
    clash = [n for i, n in enumerate(adapters) if n in adapters[:i] or n in (BASE, RAG, FINETUNED, BOTH)]
    if clash:
        raise CompareError(f"The adapter {clash[0]!r} is named twice or like an arm; each adapter once.")
    for name in adapters:
        try:
            adapter = models.get(name)
        except ModelError as exc:
            raise CompareError(f"The adapter {name!r} is not installed: {exc}") from exc
        if adapter.kind != "adapter":
            raise CompareError(f"{adapter.name} is a model, not a LoRA adapter.")
        if adapter.base_model != base.name:
            raise CompareError(f"The adapter {adapter.name} was trained for {adapter.base_model}, not for "
                               f"{base.name}: choose {adapter.base_model} as the base model, or another adapter.")
    for name in (*config.other_models, *([config.judge] if config.judge else [])):
        try:
            models.get(name)
        except ModelError as exc:
            what = "judge" if name == config.judge else "model"
            raise CompareError(f"The {what} model {name!r} is not installed; add it on the Models page "
                               f"(bunko models add/download) or choose another. ({exc})") from exc
    for name in config.libraries:
        lib = libraries(name)
        if lib.indexed_at is None or not lib.chunks:
            raise CompareError(f"The library {lib.name!r} is not indexed yet (or still indexing): wait until "
                               "indexing has finished, then start the comparison.")


def _boot_id() -> str:
    """This boot of the machine (Linux), so a pid left from before a restart is not taken for
    a process that reuses the number."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _write_pid(path: Path | None) -> None:
    if path is not None:
        try:
            path.write_text(f"{os.getpid()} {_boot_id()}", encoding="ascii")
        except OSError:
            log.info("cannot write %s; while this run works, others see it as interrupted", path)


def _remove(path: Path | None) -> None:
    if path is not None:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.info("cannot remove %s", path)


def _pid_alive(path: Path | None) -> bool:
    """Whether the process named in `path` still runs; True when it cannot be told."""
    if path is None:
        return True
    try:
        pid_text, _, boot = path.read_text(encoding="ascii").strip().partition(" ")
        pid = int(pid_text)
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return True
    if boot and boot != _boot_id():
        return False  # written before the machine restarted
    if os.name == "nt":
        return True  # os.kill(pid, 0) would end the process there, not ask about it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: it exists
    return True
