"""The sentences of a passage, each with what it is: prose, a heading, a list item, code,
a table row, and whether it only announces what follows.

A passage from a Markdown manual is not running prose: lines wrap inside a
sentence, a heading sits on its own line, a rule is often a list under a
sentence that ends in 「次のとおりとする。」 or ":". Quoting needs to know which
is which, so that it quotes the rule and not its heading or the sentence that
announces it, and never a sentence cut at a line wrap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_SENTENCE = 6        # characters; shorter pieces ("1.", "* 日当") are not quoted on their own

_END = re.compile(r"[。！？!?]+[」』）)]*|\.(?=\s|$)")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s|$)|^ {0,3}(?:=+|-+)\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ITEM = re.compile(r"^\s*(?:[-*+・•●○◆■□]\s+|\d{1,3}[.)．）]\s*|[（(]\d{1,3}[)）]\s*|[①-⑳]\s*)")
_TABLE = re.compile(r"^\s*\|")
_RULE_LINE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")

# A sentence that announces what follows rather than saying it. Strong: it says nothing else
# (「見ていきましょう。」, "Let's look at ...", a sentence ending in ":"). Weak: 「次のとおりとする。」,
# "as follows": it announces only when a list follows it.
_STRONG_JA = re.compile(r"(?:ましょう|見ていきます|説明します|紹介します|解説します|取り上げます)[。！]?$"
                        r"|^(?:この|本)(?:章|節|項)では|[:：]$")
_WEAK_JA = re.compile(r"(?:次|以下|下記)(?:の|に)")
_STRONG_EN = re.compile(r"^(?:now,? )?(?:let's|let us|we'll|we will|in this (?:chapter|section)\b)|:$",
                        re.IGNORECASE)
_WEAK_EN = re.compile(r"\b(?:as follows|the following|below)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Unit:
    start: int          # in the passage's text
    end: int
    kind: str           # text | item | heading | code | table
    announces: bool     # only says that something follows
    block: int          # which paragraph or list item it belongs to (items of one list differ)


def _lines(text: str):
    """(start, end) of each line of `text`, without its line break."""
    pos = 0
    for line in text.split("\n"):
        yield pos, pos + len(line)
        pos += len(line) + 1


def _blocks(text: str):
    """(start, end, kind) of each block: a paragraph (wrapped lines joined), a list item,
    a heading, a table row, a code line."""
    fence = None
    open_block: list = []  # [start, end, kind] of the paragraph or item still growing

    def close():
        if open_block:
            yield tuple(open_block)
            open_block.clear()

    for a, b in _lines(text):
        line = text[a:b]
        mark = _FENCE.match(line)
        if fence is not None or mark:
            yield from close()
            if fence is None:
                fence = mark.group(1)[0]
            elif mark and mark.group(1)[0] == fence:
                fence = None
            elif line.strip():
                yield a, b, "code"
            continue
        if not line.strip() or _RULE_LINE.match(line):
            yield from close()
            continue
        kind = ("heading" if _HEADING.match(line) else "table" if _TABLE.match(line)
                else "item" if _ITEM.match(line) else "text")
        if kind == "text" and open_block and open_block[2] in ("text", "item"):
            open_block[1] = b  # a wrapped line goes on the sentence it continues
            continue
        yield from close()
        if kind in ("heading", "table"):
            yield a, b, kind
        else:
            open_block.extend([a, b, kind])
    yield from close()


def units(text: str) -> list[Unit]:
    """Every sentence of `text` of at least MIN_SENTENCE characters, in order."""
    out: list[Unit] = []
    for n, (a, b, kind) in enumerate(_blocks(text)):
        if kind != "text" and kind != "item":
            spans = [(a, b)]
        else:
            spans, s = [], a
            for m in _END.finditer(text, a, b):
                spans.append((s, m.end()))
                s = m.end()
            spans.append((s, b))
        first = True
        for s, e in spans:
            piece = text[s:e]
            lead = len(piece) - len(piece.lstrip())
            s, e = s + lead, s + lead + len(piece.strip())
            if e - s < MIN_SENTENCE:
                continue
            one = kind if first or kind != "item" else "text"
            first = False
            out.append(Unit(s, e, one, one in ("text", "item") and announces(text[s:e]), n))
    for i, u in enumerate(out):  # a weak announcement counts when a list follows it
        if (not u.announces and u.kind in ("text", "item") and i + 1 < len(out) and out[i + 1].kind == "item"
                and out[i + 1].block != u.block and announces(text[u.start:u.end], weak=True)):
            out[i] = Unit(u.start, u.end, u.kind, True, u.block)
    return out


def announces(sentence: str, weak: bool = False) -> bool:
    """The sentence announces what follows; `weak`: also by 「次のとおり」 or "as follows"
    (which only announce when a list follows)."""
    s = flat(sentence)
    ja = bool(_CJK.search(s))
    if (_STRONG_JA if ja else _STRONG_EN).search(s):
        return True
    return weak and bool((_WEAK_JA if ja else _WEAK_EN).search(s))


def flat(piece: str) -> str:
    """A piece of a passage on one line: wrapped lines joined (with no space between
    Japanese characters), list markers and Markdown emphasis taken off."""
    lines = [ln.strip() for ln in piece.split("\n")]
    out = lines[0] if lines else ""
    for ln in lines[1:]:
        if not ln:
            continue
        joint = "" if (out and _CJK.match(out[-1])) or _CJK.match(ln[0]) else " "
        out += joint + ln
    out = _ITEM.sub("", out, count=1) if _ITEM.match(out) else out
    return out.replace("**", "").replace("__", "").strip()


def ends_mid_sentence(sentence: str) -> bool:
    """A piece that stops at a comma: a fragment of a sentence cut by the chunker."""
    return flat(sentence).rstrip()[-1:] in ("、", "，", ",", "；", ";")
