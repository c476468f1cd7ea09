"""The trainer's data: chat examples read, tokenized with the base's own template (only the
assistant's turns are learnt), packed into rows, and cut into batches. A module of the trainer
(it is uploaded next to bunko_train.py and imports nothing from Bunko either).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path


def read_jsonl(path: Path) -> list[list[dict]]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line)["messages"])
    return rows


def encode(tokenizer, messages: list[dict], seq_len: int) -> tuple[list[int], list[int]]:
    """Token ids and labels: only the assistant's turns are learnt (-100 elsewhere)."""
    ids: list[int] = []
    labels: list[int] = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        before = tokenizer.apply_chat_template(messages[:i], add_generation_prompt=True, tokenize=True)
        upto = tokenizer.apply_chat_template(messages[: i + 1], tokenize=True)
        before, upto = _ids(before), _ids(upto)
        if not ids:
            ids, labels = list(before), [-100] * len(before)
        else:  # the prompt part after the previous answer
            extra = before[len(ids):]
            ids += extra
            labels += [-100] * len(extra)
        answer = upto[len(before):]
        ids += answer
        labels += answer
    return ids[:seq_len], labels[:seq_len]


def _ids(value) -> list[int]:
    if isinstance(value, dict) or hasattr(value, "keys"):  # transformers 5 may return a BatchEncoding
        value = value["input_ids"]
    return list(value)


def pack(encoded, seq_len: int, seed: int) -> list[tuple[list[int], list[int], list[int]]]:
    """Examples joined into rows of at most `seq_len` tokens (ids, labels, position ids), so a
    batch is not mostly padding when lengths differ. An example is never split across rows; its
    positions start at 0, as they would alone. The order is shuffled by the seed first."""
    order = list(range(len(encoded)))
    random.Random(seed).shuffle(order)
    rows: list[tuple[list[int], list[int], list[int]]] = []
    ids: list[int] = []
    labels: list[int] = []
    pos: list[int] = []
    for i in order:
        e_ids, e_labels = encoded[i]
        if ids and len(ids) + len(e_ids) > seq_len:
            rows.append((ids, labels, pos))
            ids, labels, pos = [], [], []
        ids, labels, pos = ids + list(e_ids), labels + list(e_labels), pos + list(range(len(e_ids)))
    if ids:
        rows.append((ids, labels, pos))
    return rows


def packed_batches(rows, batch_size: int, pad_id: int, seed: int, epoch: int):
    """Batches of packed rows: (ids, labels, attention mask, position ids)."""
    import torch

    order = list(range(len(rows)))
    random.Random(seed + epoch).shuffle(order)
    for start in range(0, len(order), batch_size):
        chunk = [rows[i] for i in order[start:start + batch_size]]
        width = max(len(r[0]) for r in chunk)
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        labels = torch.full((len(chunk), width), -100, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        positions = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, (i, lab, pos) in enumerate(chunk):
            ids[row, :len(i)] = torch.tensor(i)
            labels[row, :len(lab)] = torch.tensor(lab)
            mask[row, :len(i)] = 1
            positions[row, :len(pos)] = torch.tensor(pos)
        yield ids, labels, mask, positions


def batches(encoded, batch_size: int, pad_id: int, seed: int, epoch: int):
    import torch

    order = list(range(len(encoded)))
    random.Random(seed + epoch).shuffle(order)
    for start in range(0, len(order), batch_size):
        chunk = [encoded[i] for i in order[start:start + batch_size]]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        labels = torch.full((len(chunk), width), -100, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, (i, lab) in enumerate(chunk):
            ids[row, :len(i)] = torch.tensor(i)
            labels[row, :len(lab)] = torch.tensor(lab)
            mask[row, :len(i)] = 1
        yield ids, labels, mask


class Data:
    """The job's examples, tokenized and (by default) packed, and the step count they make."""

    def __init__(self, spec: dict, tokenizer) -> None:
        cfg = spec.get("train", {})
        self.seed = int(cfg.get("seed", 0))
        self.seq_len = int(cfg.get("seq_len", 512))
        self.batch = int(cfg.get("batch", 4))
        self.accum = int(cfg.get("grad_accum", 1))
        self.pad_id = tokenizer.pad_token_id
        data = spec["data"]
        self.encoded = [encode(tokenizer, m, self.seq_len) for m in read_jsonl(Path(data["train"]))]
        self.held = [encode(tokenizer, m, self.seq_len) for m in read_jsonl(Path(data["eval"]))] \
            if data.get("eval") else []
        self.packed = bool(cfg.get("packing", True))
        self.rows = pack(self.encoded, self.seq_len, self.seed) if self.packed else None
        units = len(self.rows) if self.rows is not None else len(self.encoded)
        self.per_epoch = math.ceil(units / self.batch / self.accum)
        self.total = int(cfg.get("max_steps") or self.per_epoch * int(cfg.get("epochs", 3)))

    def epoch(self, n: int):
        """(ids, labels, mask, position ids or None) per micro-batch of epoch `n`."""
        if self.packed:
            yield from packed_batches(self.rows, self.batch, self.pad_id, self.seed, n)
        else:
            for ids, labels, mask in batches(self.encoded, self.batch, self.pad_id, self.seed, n):
                yield ids, labels, mask, None

    def steps(self, start_epoch: int = 0):
        """Lists of `accum` micro-batches, one per optimizer step, epoch after epoch."""
        epoch = start_epoch
        while True:
            group = []
            for micro in self.epoch(epoch):
                group.append(micro)
                if len(group) == self.accum:
                    yield epoch, group
                    group = []
            epoch += 1
