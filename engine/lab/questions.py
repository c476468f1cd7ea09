"""Question sets for the comparison lab: a question, one or more reference answers and,
optionally, the document the answer comes from.

Three ways in: a JSONL or CSV file (UTF-8 or Shift_JIS, read like training data), the
held-out split of a fine-tune job, or pairs drafted from a library and reviewed. A bad
row never stops the import: it is listed with its line number and the reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DatasetError
from ..finetune.dataset import Dataset, RowProblem, _text_of, jsonl_records
from ..finetune.compare import held_out_questions

_QUESTION_KEYS = ("question", "q", "query", "prompt", "質問", "問題", "問い", "設問")
_REFERENCE_KEYS = ("answers", "references", "reference", "answer", "a", "expected", "回答", "答え", "解答", "正解")
_SOURCE_KEYS = ("source", "document", "doc", "file", "path", "出典", "文書")
MAX_QUESTIONS = 10_000


@dataclass(frozen=True)
class Question:
    key: str                        # stable id: a hash of the text unless the file gives one
    text: str
    references: tuple[str, ...]
    source: str | None = None       # the document (path inside a library) the answer comes from

    def as_dict(self) -> dict:
        return {"key": self.key, "question": self.text, "references": list(self.references),
                "source": self.source}


@dataclass
class QuestionSet:
    questions: list[Question]
    problems: list[RowProblem] = field(default_factory=list)
    source: str = ""


def question_key(text: str) -> str:
    return hashlib.blake2b(text.strip().encode("utf-8"), digest_size=6).hexdigest()


def make(text: str | None, references, source: str | None = None, key: str | None = None) -> Question:
    """A checked question; DatasetError says what is wrong."""
    text = (text or "").strip() if isinstance(text, str) else ""
    if not text:
        raise DatasetError("no question")
    if isinstance(references, (str, int, float)):   # one answer, maybe a number: {"answer": 42}
        references = [references]
    refs = tuple(str(r).strip() for r in (references or []) if isinstance(r, (str, int, float)) and str(r).strip())
    if not refs:
        raise DatasetError("no reference answer")
    return Question(str(key) if key else question_key(text), text, refs, (source or None))


def _pick(record: dict, keys: tuple[str, ...]):
    folded = {str(k).strip().lower(): v for k, v in record.items()}
    for key in keys:
        if key in folded and folded[key] not in (None, ""):
            return folded[key]
    return None


def _from_record(record) -> Question:
    if not isinstance(record, dict):
        raise DatasetError("not a JSON object")
    if "messages" in record:  # a training example: last user turn, last assistant turn
        msgs = record["messages"]
        users = [m.get("content") for m in msgs[:-1] if isinstance(m, dict) and m.get("role") == "user"]
        last = msgs[-1] if msgs and isinstance(msgs[-1], dict) else {}
        if not users or last.get("role") != "assistant":
            raise DatasetError("'messages' must end with a user question and an assistant answer")
        return make(users[-1], last.get("content"))
    refs = _pick(record, _REFERENCE_KEYS)
    if isinstance(refs, dict) and "text" in refs:  # SQuAD-style {"text": [...]} answers
        refs = refs["text"]
    return make(_pick(record, _QUESTION_KEYS), refs, _pick(record, _SOURCE_KEYS), record.get("id") or record.get("_id"))


def read_jsonl(lines, source: str = "") -> QuestionSet:
    qs = QuestionSet([], source=source)
    for n, record in jsonl_records(lines, qs.problems):
        try:
            qs.questions.append(_from_record(record))
        except DatasetError as exc:
            qs.problems.append(RowProblem(n, str(exc)))
    return qs


def read_csv(text: str, source: str = "", delimiter: str | None = None) -> QuestionSet:
    """A question column, one or more answer columns (answer, answer2, … or one cell with
    answers separated by '|'), an optional source column."""
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise DatasetError(f"{source or 'The file'} is empty.")
    head = [h.strip().lower() for h in rows[0]]
    q = next((head.index(k) for k in _QUESTION_KEYS if k in head), None)
    refs = [i for i, h in enumerate(head) if any(h == k or (h.startswith(k) and h[len(k):].strip("_ ").isdigit())
                                                    for k in _REFERENCE_KEYS)]
    src = next((head.index(k) for k in _SOURCE_KEYS if k in head), None)
    if q is None or not refs:
        raise DatasetError(f"{source or 'The CSV'} needs a question and an answer column (headers such as "
                           f"question/answer or 質問/回答); it has: {', '.join(rows[0])}")
    qs = QuestionSet([], source=source)
    for n, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= q:
            qs.problems.append(RowProblem(n, f"{len(row)} columns, fewer than the header's"))
            continue
        answers = [part for i in refs if i < len(row) for part in row[i].split("|")]
        try:
            qs.questions.append(make(row[q], answers, row[src] if src is not None and src < len(row) else None))
        except DatasetError as exc:
            qs.problems.append(RowProblem(n, str(exc)))
    return qs


def read_file(path: str | Path) -> QuestionSet:
    """A question file; DatasetError only when nothing in it can be read."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DatasetError(f"There is no file {path}.")
    text = _text_of(path)  # UTF-8 or Shift_JIS, size-limited, as for training data
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        qs = read_csv(text, path.name, "\t" if suffix == ".tsv" else None)
    elif suffix in (".jsonl", ".json", ".ndjson"):
        qs = read_jsonl(text.splitlines(), path.name)
    else:
        raise DatasetError(f"{path.name}: use a .jsonl file (question, answers, source) or a .csv with "
                           "question and answer columns.")
    return _checked(qs)


def _checked(qs: QuestionSet) -> QuestionSet:
    seen: set[str] = set()
    kept = []
    for question in qs.questions:
        if question.key in seen:
            continue  # the same question twice would count twice in every arm
        seen.add(question.key)
        kept.append(question)
    if len(kept) > MAX_QUESTIONS:
        raise DatasetError(f"{qs.source}: {len(kept)} questions; the lab takes at most {MAX_QUESTIONS}.")
    qs.questions = kept
    return qs


def from_job(job_dir: str | Path, limit: int = 200) -> QuestionSet:
    """The held-out split of a fine-tune job (its training questions if it held none out)."""
    pairs = held_out_questions(Path(job_dir), limit)
    qs = QuestionSet([make(q, a) for q, a in pairs if q.strip() and a.strip()], source=f"held out of {job_dir}")
    if not qs.questions:
        raise DatasetError(f"The job folder {job_dir} has no questions to compare on.")
    return _checked(qs)


def from_dataset(ds: Dataset) -> QuestionSet:
    """Reviewed examples (drafted from a library, or any training data) as questions."""
    qs = QuestionSet([], list(ds.problems), ds.source)
    for example in ds.examples:
        try:
            qs.questions.append(_from_record(example))
        except DatasetError as exc:
            qs.problems.append(RowProblem(example.get("_line", 0), str(exc)))
    return _checked(qs)
