"""Training data for LoRA: conversation logs read into one form, checked row by row.

Accepted files: JSONL in OpenAI `messages` form, ShareGPT `conversations` form,
Alpaca `instruction`/`input`/`output` or `prompt`/`completion`; CSV or TSV with a
question and an answer column (English or Japanese headers; UTF-8 or Shift_JIS).
Every example becomes `{"messages": [{"role", "content"}, ...]}` ending with an
assistant turn. A bad row never stops the import: it is listed with its line
number and the reason, and the good rows are kept.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterable

from ..errors import DatasetError

log = logging.getLogger(__name__)

ROLES = ("system", "user", "assistant")
_SHAREGPT_ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant",
                   "assistant": "assistant", "bot": "assistant", "model": "assistant"}
_QUESTION_HEADERS = ("question", "q", "prompt", "instruction", "input", "user", "質問", "問題", "問い", "設問")
_ANSWER_HEADERS = ("answer", "a", "response", "output", "completion", "assistant", "回答", "答え", "解答", "応答")
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class RowProblem:
    line: int          # 1-based line (JSONL) or row (CSV, the header is line 1)
    reason: str


@dataclass
class Dataset:
    examples: list[dict]
    problems: list[RowProblem] = field(default_factory=list)
    source: str = ""

    def split(self, eval_share: float = 0.1, minimum: int = 1) -> tuple[list[dict], list[dict]]:
        """Train and held-out examples. The choice hangs on each example's text, so it
        does not change when rows are added or reordered."""
        if not self.examples or eval_share <= 0:
            return list(self.examples), []
        ranked = sorted(self.examples, key=_fingerprint)
        n_eval = max(minimum, round(len(ranked) * eval_share)) if len(ranked) >= 10 else 0
        held = {id(e) for e in ranked[:n_eval]}
        return [e for e in self.examples if id(e) not in held], [e for e in self.examples if id(e) in held]

    def token_lengths(self, count: Callable[[str], int]) -> list[int]:
        return [count(_flat(e)) for e in self.examples]

    def check_lengths(self, count: Callable[[str], int], max_tokens: int) -> list[RowProblem]:
        """Examples longer than the training sequence; the trainer would cut their answers."""
        out = []
        for e, n in zip(self.examples, self.token_lengths(count)):
            if n > max_tokens:
                out.append(RowProblem(e.get("_line", 0), f"{n} tokens, longer than the sequence length "
                                                         f"{max_tokens}: the end of the answer would be lost"))
        return out

    def summary(self, count: Callable[[str], int] | None = None) -> dict:
        turns = [sum(1 for m in e["messages"] if m["role"] == "assistant") for e in self.examples]
        out = {"examples": len(self.examples), "problems": len(self.problems), "answers": sum(turns)}
        if count and self.examples:
            lengths = self.token_lengths(count)
            out.update(tokens_min=min(lengths), tokens_median=int(statistics.median(lengths)),
                       tokens_max=max(lengths), tokens_total=sum(lengths))
        return out


def _fingerprint(example: dict) -> str:
    return hashlib.blake2b(_flat(example).encode("utf-8"), digest_size=8).hexdigest()


def _flat(example: dict) -> str:
    return "\n".join(m["content"] for m in example["messages"])


def approx_tokens(text: str) -> int:
    """A tokenizer-free guess, good enough to warn about long rows and to estimate: about 3.5
    characters per token in English, about one per character in Japanese (split finely)."""
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return math.ceil(ascii_chars / 3.5 + (len(text) - ascii_chars))


def example_tokens(example: dict) -> int:
    return approx_tokens(_flat(example))


def clean_example(example: dict) -> dict:
    """Without the bookkeeping keys, as the trainer reads it."""
    return {"messages": [{"role": m["role"], "content": m["content"]} for m in example["messages"]]}


# -- checking one example ---------------------------------------------------------

def check_messages(messages) -> list[dict]:
    """The messages of one example, or DatasetError saying what is wrong with them."""
    if not isinstance(messages, list) or not messages:
        raise DatasetError("no messages")
    out = []
    for i, m in enumerate(messages, 1):
        if not isinstance(m, dict):
            raise DatasetError(f"message {i} is not an object")
        role, content = m.get("role"), m.get("content")
        if role is None:
            raise DatasetError(f"message {i} has no role")
        if role not in ROLES:
            raise DatasetError(f"message {i} has the role {role!r}; use system, user or assistant")
        if isinstance(content, list):  # OpenAI content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str) or not content.strip():
            raise DatasetError(f"message {i} ({role}) is empty")
        out.append({"role": role, "content": content.strip()})
    if out[0]["role"] == "system":
        body = out[1:]
    else:
        body = out
    if not body or body[-1]["role"] != "assistant":
        raise DatasetError("the last message must be the assistant's answer")
    if not any(m["role"] == "user" for m in body):
        raise DatasetError("there is no user message")
    if any(m["role"] == "system" for m in body):
        raise DatasetError("a system message may only come first")
    for a, b in zip(body, body[1:]):
        if a["role"] == b["role"]:
            raise DatasetError(f"two {a['role']} messages follow each other")
    return out


def _from_record(record) -> list[dict]:
    if not isinstance(record, dict):
        raise DatasetError("the line is not a JSON object")
    if "messages" in record:
        return check_messages(record["messages"])
    if "conversations" in record:
        turns = record["conversations"]
        if not isinstance(turns, list):
            raise DatasetError("conversations is not a list")
        converted = []
        for i, t in enumerate(turns, 1):
            if not isinstance(t, dict) or ("from" not in t and "role" not in t):
                raise DatasetError(f"turn {i} has no 'from'")
            who = str(t.get("from", t.get("role"))).lower()
            if who not in _SHAREGPT_ROLES:
                raise DatasetError(f"turn {i} is from {who!r}; use human, gpt or system")
            converted.append({"role": _SHAREGPT_ROLES[who], "content": t.get("value", t.get("content"))})
        return check_messages(converted)
    if "instruction" in record and "output" in record:
        question = record["instruction"] + (("\n\n" + record["input"]) if record.get("input") else "")
        return check_messages([{"role": "user", "content": question},
                               {"role": "assistant", "content": record["output"]}])
    if "prompt" in record and "completion" in record:
        return check_messages([{"role": "user", "content": record["prompt"]},
                               {"role": "assistant", "content": record["completion"]}])
    raise DatasetError("no 'messages', 'conversations', 'instruction'/'output' or 'prompt'/'completion'")


# -- reading files -------------------------------------------------------------------

def _text_of(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DatasetError(f"{path.name} is {size / 1e6:.0f} MB; the limit is {MAX_FILE_BYTES // 10**6} MB.")
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DatasetError(f"{path.name} is neither UTF-8 nor Shift_JIS text.")


def jsonl_records(lines: Iterable[str], problems: list[RowProblem]):
    """(line number, parsed value) for each non-blank line; a line that is not JSON goes to
    `problems` with its number instead."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(RowProblem(n, f"not valid JSON ({exc.msg} at column {exc.colno})"))


def read_jsonl(lines: Iterable[str], source: str = "") -> Dataset:
    ds = Dataset([], source=source)
    for n, record in jsonl_records(lines, ds.problems):
        try:
            ds.examples.append({"messages": _from_record(record), "_line": n})
        except DatasetError as exc:
            ds.problems.append(RowProblem(n, str(exc)))
    return ds


def _column(headers: list[str], names: tuple[str, ...]) -> int | None:
    folded = [h.strip().lower() for h in headers]
    for name in names:
        if name in folded:
            return folded.index(name)
    return None


def read_csv(text: str, source: str = "", delimiter: str | None = None) -> Dataset:
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise DatasetError(f"{source or 'The file'} is empty.")
    q, a = _column(rows[0], _QUESTION_HEADERS), _column(rows[0], _ANSWER_HEADERS)
    if q is None or a is None:
        raise DatasetError(f"{source or 'The CSV'} needs a question and an answer column "
                           f"(headers such as question/answer or 質問/回答); it has: {', '.join(rows[0])}")
    ds = Dataset([], source=source)
    for n, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(q, a):
            ds.problems.append(RowProblem(n, f"{len(row)} columns, fewer than the header's"))
            continue
        try:
            ds.examples.append({"messages": check_messages([{"role": "user", "content": row[q]},
                                                            {"role": "assistant", "content": row[a]}]),
                                "_line": n})
        except DatasetError as exc:
            ds.problems.append(RowProblem(n, str(exc)))
    return ds


def read_file(path: str | Path) -> Dataset:
    """A dataset file of any accepted kind; DatasetError only when nothing can be read."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DatasetError(f"There is no file {path}.")
    text = _text_of(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        ds = read_csv(text, path.name, "\t" if suffix == ".tsv" else None)
    elif suffix in (".jsonl", ".json", ".ndjson"):
        ds = read_jsonl(text.splitlines(), path.name)
    else:
        raise DatasetError(f"{path.name}: use a .jsonl file (OpenAI messages or ShareGPT) or a .csv with "
                           "question and answer columns.")
    log.info("%s: %d examples, %d bad rows", path.name, len(ds.examples), len(ds.problems))
    return ds


def from_conversations(conversations) -> Dataset:
    """Examples from the app's own conversations (a list of lists of Message): each
    complete answer with the questions and answers before it."""
    ds = Dataset([], source="conversations")
    for messages in conversations:
        turns: list[dict[str, str]] = []
        for m in messages:
            if m.role == "assistant" and m.status != "complete":
                if turns and turns[-1]["role"] == "user":
                    turns.pop()  # a stopped or failed answer teaches nothing; its question goes too
                continue
            if m.role in ("user", "assistant") and m.content.strip():
                turns.append({"role": m.role, "content": m.content.strip()})
        while turns and turns[-1]["role"] != "assistant":
            turns.pop()
        if turns:
            try:
                ds.examples.append({"messages": check_messages(turns), "_line": 0})
            except DatasetError as exc:
                ds.problems.append(RowProblem(0, str(exc)))
    return ds


def write_jsonl(examples: Iterable[dict], path: str | Path) -> int:
    """The trainer's input: one example per line, written to a temporary file then renamed."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for e in examples:
            f.write(json.dumps(clean_example(e), ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n
