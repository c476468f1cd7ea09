"""The sentence that answers: quoted from the sources, ahead of the model's own words.

On 100 Japanese reading-comprehension questions the sentence of the top passage
most similar to the question (by the embedder) held the answer 68 % of the
time, where a 0.5B model answered 5 of 30 and often wrote nothing but "[1]".
So an answer from documents starts with that sentence, quoted and marked with
its source number, and the model's text follows and builds on it.

Most similar is not the same as answering: on manuals and rules the sentence
most like the question is often its heading or the sentence that announces
the answer (「次のとおりとする。」, "Let's look at the rules"). So candidates
are scored for answering, not only for likeness: headings and code are left
out (code stays in for a question about a command); a sentence that announces
passes its likeness on to what follows it, and the list under it is a
candidate of its own; a sentence that only repeats the question's words, or is
a fragment cut at a comma, counts less; one that holds what the question asks
for (a number, a time, a rule, a command) counts more. What each weight buys
is measured with `bunko eval answers` (see docs/measurements.md).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from ..search.keyword import tokenize
from .sentences import Unit, content, ends_mid_sentence, flat, list_under, units

QUOTE_PASSAGES = 2      # the top passages whose sentences are candidates
MAX_QUOTE = 160         # a longer sentence is cut at a clause boundary near this length
MAX_LIST_ITEMS = 8      # items of a list quoted together under the sentence that announces them

# How much each trait of a sentence moves its score (cosines of one question's
# candidates lie within about 0.1 of each other).
W_NEW = 0.04            # times the share of its words that the question does not have
W_ASKED = 0.03          # it holds the kind of thing asked for
P_ANNOUNCES = 0.04      # it only announces what follows
P_FRAGMENT = 0.03       # it stops at a comma
P_RANK = 0.01           # per place its passage is below the first
W_COVER = 0.04          # times the share of the question's words (by length) it has

_CLAUSE = re.compile(r"[、，,；;]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MARKERS = re.compile(r"[\[［【][\d０-９,\s、\-–^]*[\]］】]")
_PUNCT_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)

# What a question asks for, and what a sentence that gives it holds. A question about an
# amount of money wants yen, not any number; "steps" outranks "rule" (「どうすればいいですか」).
_UNIT = r"(?:円|日|時間|時|分|か月|ヶ月|カ月|箇月|年|歳|回|人|名|泊|週|件|個|倍|割|%|％|km|キロ|メートル|m\b)"
_ASKS = {
    "money": re.compile(r"いくら|何円|金額|費用は|上限|\bhow much\b|\bcost\b|\bprice\b|\ballowance\b", re.IGNORECASE),
    "number": re.compile(r"何" + _UNIT + r"|何(?:か月|ヶ月|パーセント)|どのくらい|どれくらい|どれだけ|何歳|何人"
                         r"|\bhow (?:many|long|old|far|often)\b|\bwhat (?:percentage|number)\b", re.IGNORECASE),
    "time": re.compile(r"いつ|何年|何月|何時|何曜|\bwhen\b|\bwhat (?:year|date|time|day)\b", re.IGNORECASE),
    "steps": re.compile(r"どうすれば|どうやって|どのように|方法|手順|手続|申し込|申請|\bhow (?:do|can|to|should)\b",
                        re.IGNORECASE),
    "rule": re.compile(r"規則|ルール|条件|できますか|いいですか|よいですか|使えますか|もらえますか|認められ|可能ですか"
                       r"|必要|しなければ|べき|禁止|許可|どう(?:扱|な)|\b(?:rules?|allowed|may i|can i|must|required?"
                       r"|policy)\b", re.IGNORECASE),
    "command": re.compile(r"コマンド|実行|インストール|\b(?:command|run|install|type)\b", re.IGNORECASE),
}
_GIVES = {
    "money": re.compile(r"\d[\d,.]*\s*(?:円|万円|yen|ドル)|[¥$€]\s*\d|[一二三四五六七八九十百千万]+円", re.IGNORECASE),
    "number": re.compile(r"\d[\d,.]*\s*" + _UNIT + r"|[一二三四五六七八九十百千万]+" + _UNIT + r"|\d+(?![\d条項号])"),
    "time": re.compile(r"\d+\s*(?:年|月|日|時|分|世紀)|[一二三四五六七八九十]+(?:年|月|日|時)|世紀|時代|曜日|末日"
                       r"|\b(?:1[0-9]|20)\d\d\b|\b(?:january|february|march|april|may|june|july|august|september"
                       r"|october|november|december|monday|tuesday|wednesday|thursday|friday)\b", re.IGNORECASE),
    "rule": re.compile(r"なければならない|てはならない|ものとする|とする|できる|できない|認め|限り|禁止|許可|原則"
                       r"|\b(?:must|shall|may|required|not allowed|only|never)\b", re.IGNORECASE),
    "steps": re.compile(r"申請|届出|届け出|提出|承認|許可|手続|してください|行う|\b(?:submit|request|ask|use|go to|fill)\b",
                        re.IGNORECASE),
    "command": re.compile(r"`|\$ |^\s*[a-z][\w.-]* [\w-]"),
}
_OUTRANKS = {"money": "number", "steps": "rule"}  # when both match, only the first counts
@dataclass(frozen=True)
class Quote:
    number: int        # the source it comes from, [n]
    text: str          # the sentence as it stands in the source (on one line)
    start: int         # where it starts in the source's text (for highlighting)
    score: float       # cosine similarity to the question (or to what it answers, for a list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class _Candidate:
    number: int
    rank: int          # 0 for the first passage
    start: int
    text: str
    unit: Unit
    after: int | None = None    # the announcing candidate it follows (or, for a list, that heads it)
    items: int = 0              # list items gathered under an announcing sentence


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text` (headings and list items included), spaces trimmed."""
    return [(u.start, u.end) for u in units(text)]


def asks(question: str) -> set[str]:
    """What the question asks for: money, number, time, rule, steps, command (none: a name, a definition)."""
    found = {kind for kind, pattern in _ASKS.items() if pattern.search(question)}
    return found - {_OUTRANKS[k] for k in found if k in _OUTRANKS}


def _candidates(sources, passages: int, wanted: set[str]) -> list[_Candidate]:
    out: list[_Candidate] = []
    for rank, s in enumerate(list(sources)[:passages]):
        found = units(s.text)
        index: dict[int, int] = {}  # unit's place in `found` -> its candidate's place in `out`
        for i, u in enumerate(found):
            if u.short or u.kind == "heading" or (u.kind == "code" and "command" not in wanted):
                continue
            c = _Candidate(s.number, rank, u.start, flat(s.text[u.start:u.end]), u)
            if out and out[-1].number == s.number and out[-1].unit.strong and not out[-1].items:
                c.after = len(out) - 1
            index[i] = len(out)
            out.append(c)
        for i, u in enumerate(found):  # the list an announcing sentence introduces, as one candidate
            if not u.announces or i not in index:
                continue
            items = [t for t in (flat(s.text[v.start:v.end]) for v in list_under(found, i)) if t][:MAX_LIST_ITEMS]
            if len(items) >= 2:
                head = flat(s.text[u.start:u.end])
                out.append(_Candidate(s.number, rank, u.start, head + " " + " / ".join(items), u,
                                      after=index[i], items=len(items)))
    return out


def _terms(text: str) -> set[str]:
    return set(tokenize(text))


def _score(c: _Candidate, like: float, q_terms: set[str], q_words: set[str], wanted: set[str]) -> float:
    terms = _terms(c.text)
    new = len(terms - q_terms) / len(terms) if terms else 0.0
    has = content(c.text)
    cover = sum(len(w) for w in q_words & has) / max(1, sum(len(w) for w in q_words))
    score = like + W_NEW * new + W_COVER * cover - P_RANK * c.rank
    if wanted and any(_GIVES[k].search(c.text) for k in wanted):
        score += W_ASKED
    if c.unit.strong and not c.items:
        score -= P_ANNOUNCES
    if ends_mid_sentence(c.text):
        score -= P_FRAGMENT
    return score


def pick(question: str, sources, embedder, passages: int = QUOTE_PASSAGES) -> list[Quote]:
    """The sentence of the top `passages` sources that best answers the question ([] if none)."""
    wanted = asks(question)
    candidates = _candidates(sources, passages, wanted)
    if not candidates or embedder is None:
        return []
    q = np.asarray(embedder.embed_queries([question.strip()])[0], np.float32)
    vecs = np.asarray(embedder.embed_passages([c.text for c in candidates]), np.float32)
    sims = [float(x) for x in vecs @ q]
    q_terms, q_words = _terms(question), content(question)
    scores: list[float] = []
    likeness: list[float] = []
    for i, c in enumerate(candidates):
        # what follows an announcing sentence (the next sentence, or the list under it) is as
        # like the question as the announcement is: it is what the announcement is about
        like = max(sims[i], likeness[c.after]) if c.after is not None else sims[i]
        likeness.append(like)
        scores.append(_score(c, like, q_terms, q_words, wanted))
    best = int(np.argmax(scores))
    c = candidates[best]
    return [Quote(c.number, _shorten(c.text), c.start, round(likeness[best], 4))]


def _shorten(sentence: str) -> str:
    """A very long sentence cut after a clause (or a list item) near MAX_QUOTE characters,
    marked with an ellipsis."""
    sentence = re.sub(r"\s+", " ", sentence).strip()
    if len(sentence) <= MAX_QUOTE:
        return sentence
    cuts = [m.start() for m in re.finditer(" / ", sentence, 0)] + [m.end() for m in _CLAUSE.finditer(sentence)]
    cuts = [x for x in cuts if x <= MAX_QUOTE]
    end = max(cuts) if cuts and max(cuts) > MAX_QUOTE // 2 else MAX_QUOTE
    return sentence[:end].rstrip("、，, /") + "…"


def block(quotes: list[Quote], lang: str) -> str:
    """The quotes as Markdown block quotes with their source numbers, then a blank line."""
    if not quotes:
        return ""
    left, right = ("「", "」") if lang == "ja" else ("“", "”")
    return "".join(f"> {left}{q.text}{right} [{q.number}]\n\n" for q in quotes)


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def problem(answer: str, quotes: list[Quote], sources) -> str | None:
    """Why the model's text should not stand after the quote, or None when it may.

    "empty": nothing but spaces, punctuation or citation markers ("[1]").
    "contradicts": it states a number that neither the quote nor any source has,
    where the quote itself gives numbers (the model made one up or misread it).
    """
    if not _PUNCT_OR_SPACE.sub("", _MARKERS.sub("", answer)):
        return "empty"
    quoted = " ".join(q.text for q in quotes)
    quote_numbers = set(_NUMBER.findall(_plain(quoted)))
    if quote_numbers:
        seen = " ".join(f"{getattr(s, 'label', '')} {s.text}" for s in sources) + " " + quoted
        known = set(_NUMBER.findall(_plain(seen)))
        said = set(_NUMBER.findall(_plain(_MARKERS.sub("", answer))))
        if said - known:
            return "contradicts"
    return None
