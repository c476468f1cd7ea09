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
import unicodedata
from dataclasses import dataclass

MIN_SENTENCE = 6        # characters; shorter pieces ("1.", "* 日当") are not quoted on their own

_END = re.compile(r"[。！？!?]+[」』）)]*|\.(?=\s|$)")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s|$)|^ {0,3}(?:=+|-+)\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ITEM = re.compile(r"^\s*(?:[-*+・•●○◆■□]\s+|\d{1,3}[.)．）]\s*|[（(]\d{1,3}[)）]\s*|[①-⑳]\s*)")
_TABLE = re.compile(r"^\s*\|")
_RULE_LINE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_WORD = re.compile(r"\w")
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
    indent: int = 0     # columns before its line's text (a tab is 4): nested list items have more
    strong: bool = False  # announces and says nothing else (「見ていきましょう。」); else only a list follows

    @property
    def short(self) -> bool:
        """Too short to quote alone ("* 日当"); kept for the list it belongs to."""
        return self.end - self.start < MIN_SENTENCE


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
            if fence is None and mark:   # no fence open: this line opens one
                fence = mark.group(1)[0]
            elif mark and mark.group(1)[0] == fence:
                fence = None
            elif line.strip():
                yield a, b, "code"
            continue
        if not line.strip() or _RULE_LINE.match(line):
            yield from close()
            continue
        kind = ("heading" if _HEADING.match(line) or _is_title(text, a, b, open_block) else "table"
                if _TABLE.match(line) else "item" if _ITEM.match(line) else "text")
        if kind == "text" and open_block and open_block[2] in ("text", "item"):
            open_block[1] = b  # a wrapped line goes on the sentence it continues
            continue
        yield from close()
        if kind in ("heading", "table"):
            yield a, b, kind
        else:
            open_block.extend([a, b, kind])
    yield from close()


_PUNCT = re.compile(r"[。、，,.!?！？:：;；」）)]")
TITLE_MAX = 30          # characters of a line that may be a title (a plain-text heading)


def _is_title(text: str, a: int, b: int, open_block: list) -> bool:
    """A short line with no punctuation that starts a block and has text right under it: a
    plain-text heading or a passage's title ("エアバスベルーガ"), not the start of a sentence."""
    line = text[a:b].strip()
    return (not open_block and 0 < len(line) <= TITLE_MAX and not _PUNCT.search(line)
            and b < len(text) and bool(text[b + 1:b + 2].strip()))


def units(text: str) -> list[Unit]:
    """Every sentence of `text` in order: those of at least MIN_SENTENCE characters, and list
    items of any length (see Unit.short)."""
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
            one = kind if first or kind != "item" else "text"
            if e - s < (1 if one == "item" else MIN_SENTENCE) or not _WORD.search(text, s, e):
                continue
            first = False
            strong = one in ("text", "item") and announces(text[s:e])
            out.append(Unit(s, e, one, strong, n, _indent(text, a) if one == "item" else 0, strong))
    for i, u in enumerate(out):  # a weak announcement counts when a list follows it
        if (not u.announces and u.kind in ("text", "item") and i + 1 < len(out) and out[i + 1].kind == "item"
                and out[i + 1].block != u.block and announces(text[u.start:u.end], weak=True)):
            out[i] = Unit(u.start, u.end, u.kind, True, u.block, u.indent)
    return out


def _indent(text: str, start: int) -> int:
    """Columns before the text of the line that holds `start`, a tab counted as 4."""
    begin = text.rfind("\n", 0, start) + 1
    end = text.find("\n", begin)
    line = text[begin:end if end >= 0 else len(text)]
    lead = line[:len(line) - len(line.lstrip(" \t"))]
    return len(lead.expandtabs(4))


def list_under(found: list[Unit], i: int) -> list[Unit]:
    """The list items right after unit `i` (an announcing sentence) that belong to it: all of a
    list that follows prose; those nested deeper, when the sentence is itself a list item."""
    head = found[i]
    items = []
    for v in found[i + 1:]:
        if v.block == head.block:
            continue  # the rest of the announcing item's own text
        if v.kind != "item" or (head.kind == "item" and v.indent <= head.indent):
            break
        items.append(v)
    return items


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


_CONTENT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[\u30a0-\u30ffー]{2,}|[A-Za-z]{2,}|\d+(?:[.,]\d+)*")


def content(text: str) -> set[str]:
    """What carries meaning in `text`: each kanji, katakana words, Latin words, numbers (not the
    kana of particles and endings), NFKC-normalised and lower-cased."""
    return {w.lower() for w in _CONTENT.findall(unicodedata.normalize("NFKC", text))}
