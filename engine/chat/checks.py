"""Checks on the model's own text after the quote: its language, a refusal, a repeat.

A 0.5B model asked in Japanese sometimes answers with an English phrase
("All ownership rules") or with simplified-Chinese characters that Japanese
does not use (各值 for 各値); it also often writes 「資料には書かれていません」
under a quote that answers the question, or says again what the quote says.
In each case the quote answers better alone, so the model's text is left out
and a notice says why.
"""

from __future__ import annotations

import re
import unicodedata

from .quotes import problem
from .sentences import content

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,]+[A-Za-z][A-Za-z'’-]*)+")
_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.DOTALL)
_MARKERS = re.compile(r"[\[［【][\d０-９,\s、\-–^]*[\]］】]")
_KANA = re.compile(r"[\u3040-\u30ff]")

# 「資料には書かれていません」, 「データには記載がありません」, "the sources do not say".
_REFUSAL_JA = re.compile(r"(?:資料|データ|文書|情報|ソース|文章)(?:には|に|の中に|では)?(?:[^。]{0,12})?"
                         r"(?:書かれて(?:い|お)りません|書かれていません|記載(?:が|は)?(?:ありません|されていません|ない)"
                         r"|含まれていません|見つかりません|ありません|わかりません|分かりません)"
                         r"|(?:答え|回答)(?:は|が)(?:[^。]{0,8})?(?:ありません|わかりません|見つかりません)")
_REFUSAL_EN = re.compile(r"\b(?:(?:the )?(?:sources?|documents?|data|passages?|context)"
                         r"(?: provided)? (?:do(?:es)? not|don't|doesn't) (?:contain|say|mention|include|state)"
                         r"|not (?:mentioned|stated|found|given) in the (?:sources?|documents?|data|passages?)"
                         r"|(?:i )?(?:cannot|can't|could not) find)\b", re.IGNORECASE)

MIN_FOREIGN_LETTERS = 10   # a Latin run shorter than this (a name, "OK") is not a language change
ADDS_LITTLE = 0.85         # share of the text's words already in the quote, above which it adds nothing


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", _MARKERS.sub("", text))


def not_japanese(text: str, context: str) -> str | None:
    """Why `text` (the model's answer to a Japanese question) is not plain Japanese, or None.

    "chinese": a Han character outside Japanese use (not in the JIS sets of cp932)
    that the sources and question (`context`) do not have; "english": a run of
    Latin words that `context` does not have (code in backticks is left alone)."""
    prose = _CODE.sub(" ", text)
    seen = _plain(context)
    for ch in set(_HAN.findall(prose)):
        try:
            ch.encode("cp932")
        except UnicodeEncodeError:
            if ch not in seen:
                return "chinese"
    lowered = seen.lower()
    for run in _LATIN_RUN.findall(_plain(prose)):
        letters = sum(c.isalpha() for c in run)
        if letters >= MIN_FOREIGN_LETTERS and run.lower().strip(" ,") not in lowered:
            return "english"
    return None


def not_english(text: str) -> str | None:
    """"japanese" when the model answered an English question in Japanese (kana in the text)."""
    return "japanese" if _KANA.search(_CODE.sub(" ", text)) else None


def refuses(text: str) -> bool:
    """The text says the sources hold no answer."""
    plain = _plain(text)
    return bool(_REFUSAL_JA.search(plain) or _REFUSAL_EN.search(plain))


def adds_nothing(text: str, quoted: str) -> bool:
    """Nearly every meaningful piece of `text` is already in the quote."""
    words = content(_MARKERS.sub("", text))
    if not words:
        return True
    return len(words & content(quoted)) / len(words) >= ADDS_LITTLE


LEFT_OUT = {  # why the model's text after the quote was left out (the app words these itself)
    "empty": "The model's own text was left out: it said nothing but a source number.",
    "contradicts": "The model's own text was left out: it gave a number that the quoted sentence "
                   "and the sources do not have.",
    "refused": "The model's own text was left out: it said the sources do not answer this, yet the quoted "
               "sentence comes from them; check the quote against the question.",
    "repeats": "The model's own text was left out: it only repeated the quoted sentence.",
    "chinese": "The model's own text was left out: it was not written in Japanese (it used Chinese characters).",
    "english": "The model's own text was left out: it was not written in Japanese (it switched to English).",
    "japanese": "The model's own text was left out: it answered an English question in Japanese.",
}
FOREIGN = ("Parts of this answer are not in the question's language; the model may have misread the "
           "sources. A larger model answers better (see the Models page).")


def left_out(question: str, lang: str, text: str, found, sources) -> str | None:
    """Why the model's text should not stand (after the quote, or alone), or None when it may."""
    if found:
        why = problem(text, found, sources)
        if why:
            return why
        if refuses(text):
            return "refused"
    if not text:
        return None
    context = question + "\n" + "\n".join(s.text for s in sources)
    why = not_japanese(text, context) if lang == "ja" else not_english(text)
    if why:
        return why
    if found and adds_nothing(text, " ".join(q.text for q in found)):
        return "repeats"
    return None
