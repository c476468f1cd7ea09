"""RAG-style training examples (RAFT, Zhang et al. 2024) from question/answer pairs and a library.

A model fine-tuned on bare question→answer pairs never learns to read passages, so
in the comparison's "both" arm it is handed sources it was not taught to use. Here
each pair becomes the very prompt the chat sends for RAG (engine.chat.prompt: the
system text, the numbered sources, the question) with k passages retrieved the way
the chat retrieves them. The passage holding the answer (the *gold* one) is there
in `gold_share` of the examples and left out of the rest, where only distractors
remain; the answer names its source as the chat does ("[n]") and quotes the
sentence that supports it.

Gold passage: the chunk a pair was drafted from when that is known (`_chunk`),
else the best-ranked retrieved chunk whose text contains the answer. Passages
that are gold for a held-out question never appear in a training prompt, so the
comparison's "new" questions stay unseen. The same pairs, library and seed give
the same examples.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..cancel import CancelToken
from ..chat import prompt as chat_prompt
from ..chat.quotes import MAX_QUOTE, Quote, block
from ..chat.sentences import content, flat, units
from ..resources import language_of
from ..types import Progress, SearchHit, Source
from .dataset import Dataset, RowProblem, approx_tokens

log = logging.getLogger(__name__)

FORMATS = ("plain", "raft", "both")
# What the chat's RAG prompt asks the model to say when the sources lack the answer.
NOT_IN_SOURCES = {"ja": "資料には書かれていません。", "en": "The sources do not contain the answer."}
EXTRA_HITS = 6     # retrieved beyond k, to replace the gold passage and held-out passages

Search = Callable[[str, int], Sequence[SearchHit]]
ChunkHits = Callable[[list[int]], Sequence[SearchHit]]


@dataclass(frozen=True)
class RaftOptions:
    format: str = "raft"          # plain | raft | both
    k: int = 4                    # passages per prompt, as the chat's default
    gold_share: float = 0.8       # share of examples whose prompt holds the gold passage
    seed: int = 0
    when_absent: str = "answer"   # without the gold passage: "answer" from memory (RAFT) or "decline"
    max_tokens: int | None = None  # distractors go (lowest-ranked first) until a prompt fits

    def check(self) -> None:
        from ..errors import DatasetError

        if self.format not in FORMATS:
            raise DatasetError(f"Unknown training format {self.format!r}; use plain, raft or both.")
        if not 1 <= self.k <= 20:
            raise DatasetError(f"Passages per example must be between 1 and 20, not {self.k}.")
        if not 0.0 <= self.gold_share <= 1.0:
            raise DatasetError(f"The gold share is a fraction between 0 and 1, not {self.gold_share}.")
        if self.when_absent not in ("answer", "decline"):
            raise DatasetError("Without the gold passage the answer is 'answer' or 'decline'.")


def normalise(text: str) -> str:
    """For finding an answer inside a passage: width, case and spaces do not matter."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def question_answer(example: dict) -> tuple[str, str] | None:
    """The pair of a one-turn example (a system message may come first), else None."""
    body = [m for m in example["messages"] if m["role"] != "system"]
    if len(body) != 2 or body[0]["role"] != "user" or body[1]["role"] != "assistant":
        return None
    return body[0]["content"], body[1]["content"]


def supporting_sentence(passage: str, answer: str) -> str:
    """The sentence of `passage` that holds `answer` (or shares most of its words), on one line."""
    spans = [(u.start, u.end) for u in units(passage) if u.kind != "code"] or [(0, len(passage))]
    target = normalise(answer)
    best = next((s for s in spans if target and target in normalise(passage[s[0]:s[1]])), None)
    if best is None:
        words = content(answer)
        best = max(spans, key=lambda s: len(words & content(passage[s[0]:s[1]])))
    sentence = flat(passage[best[0]:best[1]])
    return sentence if len(sentence) <= MAX_QUOTE else sentence[:MAX_QUOTE].rstrip("、，, ") + "…"


def target(answer: str, passage: str | None, number: int | None, lang: str, when_absent: str) -> str:
    """The assistant's turn: the answer first with its source number, as the chat's prompt asks,
    then the supporting sentence quoted the way the chat quotes. Without the gold passage: the
    answer alone (nothing to cite) or the chat's "not in the sources"."""
    if passage is None or number is None:
        return answer.strip() if when_absent == "answer" else NOT_IN_SOURCES[lang]
    quote = block([Quote(number, supporting_sentence(passage, answer), 0, 0.0)], lang).strip()
    return f"{answer.strip()} [{number}]\n\n{quote}"


def find_gold(answer: str, hits: Sequence[SearchHit]) -> SearchHit | None:
    """The best-ranked hit whose text contains the answer."""
    want = normalise(answer)
    if not want:
        return None
    return next((h for h in hits if want in normalise(h.text)), None)


def _key(seed: int, question: str) -> random.Random:
    digest = hashlib.blake2b(f"{seed}\0{question}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _gold_of(example: dict, answer: str, hits: Sequence[SearchHit], chunk_hits: ChunkHits | None):
    chunk = example.get("_chunk")
    if chunk is not None:
        found = next((h for h in hits if h.chunk_id == chunk), None)
        if found is None and chunk_hits is not None:
            found = next(iter(chunk_hits([int(chunk)])), None)
        if found is not None:
            return found
    return find_gold(answer, hits)


def messages_for(question: str, sources: list[Source], answer_text: str) -> list[dict]:
    """The chat's own prompt for `question` with `sources` (RAG on), and the answer to learn."""
    system = chat_prompt.default_system_prompt(question)
    user = chat_prompt.user_text(question, [chat_prompt.PromptSource(s.number, s.label, s.text) for s in sources],
                                 rag=True)
    return [{"role": "system", "content": system}, {"role": "user", "content": user},
            {"role": "assistant", "content": answer_text}]


def summary(ds: Dataset) -> dict:
    """Counts for a report: RAG-style examples, how many hold the gold passage, distractors cut to fit."""
    made = [e for e in ds.examples if e.get("_kind") == "raft"]
    return {"raft_examples": len(made), "plain_examples": len(ds.examples) - len(made),
            "with_gold": sum(1 for e in made if e["_raft"]["gold_number"]),
            "cut_to_fit": sum(1 for e in made if e["_raft"].get("dropped")), "problems": len(ds.problems)}


def build(pairs: list[dict], search: Search, options: RaftOptions | None = None, held_out: Sequence[dict] = (),
          chunk_hits: ChunkHits | None = None, progress: Callable[[Progress], None] | None = None,
          cancel: CancelToken | None = None) -> Dataset:
    """Training examples from `pairs` (the training split only). `search(question, k)` is the
    chat's retrieval; `held_out` pairs are searched only to keep their gold passages out."""
    o = options or RaftOptions()
    o.check()
    out = Dataset([], source="raft")
    if o.format in ("plain", "both"):
        out.examples += [dict(e, _kind="plain") for e in pairs]
    if o.format == "plain":
        return out
    total = len(held_out) + len(pairs)
    done = 0

    def tick(item=None) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(Progress(done=done, total=total, unit="questions", item=item))

    banned: set[int] = set()
    for e in held_out:
        if cancel is not None and cancel.cancelled:
            return out
        qa = question_answer(e)
        if qa:
            gold = _gold_of(e, qa[1], search(qa[0], o.k + EXTRA_HITS), chunk_hits)
            if gold is not None:
                banned.add(gold.chunk_id)
        tick()
    found = []   # (example, question, answer, gold hit, other hits, the gold's retrieval rank)
    for e in pairs:
        if cancel is not None and cancel.cancelled:
            return out
        line = e.get("_line", 0)
        qa = question_answer(e)
        if qa is None:
            out.problems.append(RowProblem(line, "several turns: only one question and its answer can be "
                                                 "given passages"))
            tick()
            continue
        hits = list(search(qa[0], o.k + EXTRA_HITS))
        gold = _gold_of(e, qa[1], hits, chunk_hits)
        hits = [h for h in hits if h.chunk_id not in banned]
        if gold is None:
            out.problems.append(RowProblem(line, "no passage of the library contains the answer: no RAG-style "
                                                 "example"))
        elif gold.chunk_id in banned:
            out.problems.append(RowProblem(line, "its passage answers a held-out question: left out so that "
                                                 "question stays new"))
        else:
            rank = next((i for i, h in enumerate(hits) if h.chunk_id == gold.chunk_id), None)
            found.append((e, qa[0], qa[1], gold, [h for h in hits if h.chunk_id != gold.chunk_id], rank))
        tick()
    with_gold = _with_gold(found, o)
    for i, (e, question, answer, gold, others, rank) in enumerate(found):
        example = _one(e, question, answer, gold, others, rank, i in with_gold, o)
        out.examples.append(example)
    log.info("RAFT: %d examples from %d pairs (%d with the gold passage), %d passages held back, %d problems",
             len(found), len(pairs), len(with_gold), len(banned), len(out.problems))
    return out


def _with_gold(found: list, o: RaftOptions) -> set[int]:
    """Which examples get their gold passage: exactly round(share × n), chosen by the seed."""
    order = sorted(range(len(found)), key=lambda i: _key(o.seed, found[i][1]).random())
    return set(order[:round(o.gold_share * len(found))])


def _one(e: dict, question: str, answer: str, gold: SearchHit, others: list[SearchHit], rank: int | None,
         has_gold: bool, o: RaftOptions) -> dict:
    rng = _key(o.seed + 1, question)
    if has_gold:
        chosen = others[:o.k - 1]
        # where retrieval put it, as the chat would show it; elsewhere a place chosen by the seed
        at = rank if rank is not None and rank < o.k else rng.randrange(len(chosen) + 1)
        chosen.insert(at, gold)
    else:
        chosen = others[:o.k]
    lang = language_of(question)
    wanted = len(chosen)
    while True:
        sources = [Source.from_hit(n, h) for n, h in enumerate(chosen, 1)]
        number = next((s.number for s in sources if s.chunk_id == gold.chunk_id), None)
        messages = messages_for(question, sources,
                                target(answer, gold.text if number else None, number, lang, o.when_absent))
        size = approx_tokens("\n".join(m["content"] for m in messages))
        removable = [h for h in chosen if h.chunk_id != gold.chunk_id]
        if o.max_tokens is None or size <= o.max_tokens or not removable:
            break
        chosen.remove(removable[-1])   # like the chat: the lowest-ranked distractor goes first
    return {"messages": messages, "_line": e.get("_line", 0), "_kind": "raft",
            "_raft": {"gold_chunk": gold.chunk_id, "gold_number": number,
                      "chunks": [h.chunk_id for h in chosen], "dropped": wanted - len(chosen)}}
