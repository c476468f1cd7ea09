"""Finding the encoding of a text file, with Japanese files in mind.

Files from Japanese offices come as UTF-8, Shift_JIS (really Windows cp932,
with ①, 髙 and friends), EUC-JP from old Unix systems, ISO-2022-JP from mail,
and UTF-16 from Windows tools. charset-normalizer alone guesses short Japanese
texts badly (EUC-JP "テスト" comes back as Big5), so Japanese candidates are
decoded strictly and the results scored by how Japanese they look;
charset-normalizer only gets the files no Japanese encoding can read.
"""

from __future__ import annotations

import codecs
import functools
import logging
import re
from dataclasses import dataclass

from engine.errors import ParseError

log = logging.getLogger(__name__)

_BOMS = (  # UTF-32 first: its LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_JAPANESE = ("cp932", "euc_jp")
# What detect() only answers when the bytes leave little doubt.
_CONFIDENT = frozenset({
    "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
    "cp932", "euc_jp", "iso2022_jp",
})
_ISO2022_ESCAPES = (b"\x1b$B", b"\x1b$@", b"\x1b(J", b"\x1b(I", b"\x1b$(D")
# Enough text to judge an encoding by; scoring all of a big file is slow.
_SCORE_SAMPLE = 20_000
# Below this a strictly decoded Japanese candidate is more likely an accident.
_MIN_JAPANESE_SCORE = 0.6

BINARY_MESSAGE = "looks like a binary file, not text"


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    warning: str | None = None


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode file bytes to text; return (text, Python codec name).

    Raises ParseError when the bytes look binary rather than text.
    """
    result = detect(data)
    return result.text, result.encoding


def detect(data: bytes) -> Decoded:
    """Like decode_bytes, but also says when some bytes had to be replaced."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_with_bom(data, encoding)
    if b"\x00" in data:
        return _decode_nul_bearing(data)
    if _looks_binary(data):
        # Japanese UTF-16 without BOM is full of control-range bytes.
        utf16 = _best_japanese(data, utf16_only=True)
        if utf16 is not None:
            return utf16
        raise ParseError(BINARY_MESSAGE)
    if b"\x1b" in data and any(e in data for e in _ISO2022_ESCAPES):
        text = _try(data, "iso2022_jp")
        if text is not None:
            return Decoded(text, "iso2022_jp")
    text = _try(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8")
    # Before the Japanese codecs: UTF-8 Japanese read as cp932 is the classic
    # "縺ゅ" mojibake, made of kanji that would score well.
    nearly_utf8 = _nearly(data, "utf-8")
    if nearly_utf8 is not None:
        return nearly_utf8
    japanese = _best_japanese(data)
    if japanese is not None:
        return japanese
    return _decode_other(data)


def decode_html(data: bytes) -> Decoded:
    """Decode an HTML page: a BOM wins, then a <meta> charset, then detection.

    Japanese pages often say `<meta charset="Shift_JIS">`; that is read as
    cp932 because the files are written by Windows tools with its extensions.
    A declaration can also be wrong (iso-8859-1 on a Shift_JIS page is a
    classic), so a Western one gives way to a confident detection.
    """
    declared = None
    if not any(data.startswith(bom) for bom, _ in _BOMS):
        declared = declared_charset(data)
    if declared is None:
        return detect(data)
    text = _try(data, declared)
    if text is not None and declared not in _WESTERN:
        return Decoded(text, declared)
    try:
        found: Decoded | None = detect(data)
    except ParseError:
        found = None
    if found is not None and found.encoding in _CONFIDENT and not found.warning:
        return found
    if text is not None:
        return Decoded(text, declared)
    log.info("declared charset %s does not fit the bytes", declared)
    nearly = _nearly(data, declared)
    if nearly is not None:
        return nearly
    if found is not None:
        return found
    raise ParseError(BINARY_MESSAGE)


_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(
    rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.IGNORECASE
)
# Web labels mapped to the codec that really decodes such pages.
_ALIASES = {
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "ms_kanji": "cp932", "csshiftjis": "cp932", "windows-31j": "cp932",
    "cp932": "cp932", "ms932": "cp932",
    "euc-jp": "euc_jp", "x-euc-jp": "euc_jp", "euc_jp": "euc_jp",
    "iso-2022-jp": "iso2022_jp", "csiso2022jp": "iso2022_jp",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
    "ascii": "cp1252", "windows-1252": "cp1252",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030",
    "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
    # A page that reached us as bytes without a BOM cannot really be UTF-16.
    "utf-16": "utf-8", "utf-16le": "utf-8", "utf-16be": "utf-8",
}


def declared_charset(data: bytes) -> str | None:
    """The codec named by a <meta> or XML declaration near the top, if Python knows it."""
    head = data[:4096]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    if not match:
        return None
    label = match.group(1).decode("ascii", "ignore").strip().lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode_with_bom(data: bytes, encoding: str) -> Decoded:
    text = _try(data, encoding)
    if text is not None:
        return Decoded(text, encoding)
    # A BOM followed by a damaged body: keep what can be read, say so.
    return Decoded(data.decode(encoding, "replace"), encoding, _REPLACED_WARNING)


def _decode_nul_bearing(data: bytes) -> Decoded:
    """NUL bytes mean UTF-16 without a BOM, or a binary file.

    ASCII characters in UTF-16 have a NUL in every other byte, so the NULs
    gather on one side: odd positions for little-endian, even for big-endian.
    """
    sample = data[:_SCORE_SAMPLE]
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    pairs = max(len(sample) // 2, 1)
    # Japanese UTF-16 has few NULs (only its ASCII does), so the bar is low;
    # binary files have NULs on both sides.
    if len(data) % 2 == 0 and max(even, odd) >= 0.05 * pairs and min(even, odd) <= 0.02 * pairs:
        encoding = "utf-16-le" if odd > even else "utf-16-be"
        text = _try(data, encoding)
        if text is not None and not _looks_binary_text(text[:_SCORE_SAMPLE]):
            return Decoded(text, encoding)
    # A log file padded with NULs after a crash is still a text file; a real
    # binary file also has other control bytes or fails to decode.
    stripped = data.replace(b"\x00", b"")
    if stripped and not _looks_binary(stripped):
        text = _try(stripped, "utf-8")
        found = Decoded(text, "utf-8") if text is not None else _best_japanese(stripped)
        if found is not None:
            return Decoded(found.text, found.encoding, "NUL bytes in the file were left out")
    raise ParseError(BINARY_MESSAGE)


def _looks_binary(data: bytes) -> bool:
    """Control bytes other than tab, newlines, form feed and escape are rare in text."""
    sample = data[:_SCORE_SAMPLE]
    if not sample:
        return False
    controls = sum(sample.count(b) for b in range(32) if b not in (9, 10, 12, 13, 27))
    return controls > 0.05 * len(sample)


def _looks_binary_text(text: str) -> bool:
    if not text:
        return False
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\x0c\x1b")
    return controls > 0.05 * len(text)


def _best_japanese(data: bytes, utf16_only: bool = False) -> Decoded | None:
    """Decode with each Japanese candidate and keep the most Japanese-looking.

    UTF-16 without a BOM is a candidate too (pure Japanese UTF-16 has no NUL
    bytes to give it away), scored a little lower so cp932/EUC-JP win ties.
    """
    candidates = [] if utf16_only else [(encoding, 1.0) for encoding in _JAPANESE]
    if len(data) % 2 == 0:
        candidates += [("utf-16-le", 0.9), ("utf-16-be", 0.9)]
    best: tuple[float, str, str] | None = None
    for encoding, factor in candidates:  # cp932 first: it wins ties
        text = _try(data, encoding)
        if text is None or (factor < 1 and _looks_binary_text(text[:_SCORE_SAMPLE])):
            continue
        score = japanese_score(text[:_SCORE_SAMPLE]) * factor
        log.debug("decoded as %s, score %.2f", encoding, score)
        if best is None or score > best[0]:
            best = (score, encoding, text)
    if best is None or best[0] < _MIN_JAPANESE_SCORE:
        return None
    return Decoded(best[2], best[1])


def japanese_score(text: str) -> float:
    """How much `text` reads like Japanese (0..1), judged by its non-ASCII characters.

    A wrong codec still decodes many byte strings, but gives telltale output:
    EUC-JP read as cp932 is half-width katakana and rare kanji; Latin text
    read as cp932 is rare kanji and private-use characters, each alone
    between ASCII letters ("It痴 the"). Real Japanese is kana and common
    (JIS level 1) kanji, in runs.
    """
    total = 0.0
    count = 0
    length = len(text)
    for index, ch in enumerate(text):
        if ch < "\x80":
            continue
        count += 1
        weight = _char_weight(ch)
        # The ends of the sample count as non-ASCII: no penalty for "あ" alone.
        before = text[index - 1] if index else "\u3000"
        after = text[index + 1] if index + 1 < length else "\u3000"
        if before < "\x80" and after < "\x80":
            weight *= 0.5  # alone among ASCII: a stray byte more often than a word
        total += weight
    if count == 0:
        return 1.0
    return total / count


@functools.lru_cache(maxsize=8192)
def _char_weight(ch: str) -> float:
    code = ord(ch)
    if 0x3040 <= code <= 0x30FF or 0x3000 <= code <= 0x303F:
        return 1.0  # kana and Japanese punctuation
    if 0x4E00 <= code <= 0x9FFF:
        return _kanji_weight(ch)
    if 0xFF01 <= code <= 0xFF5E:
        return 0.9  # full-width ASCII
    if 0xFF61 <= code <= 0xFF9F:
        return 0.7  # half-width katakana: old systems still write it
    if 0x2000 <= code <= 0x27BF:
        return 0.6  # punctuation, ①, arrows, maths, box drawing, shapes
    if 0xF900 <= code <= 0xFAFF:
        return 0.4  # compatibility kanji (IBM extensions in cp932)
    if 0x0391 <= code <= 0x0451:
        return 0.4  # Greek and Cyrillic, both in JIS X 0208
    if 0xA0 <= code <= 0x24F:
        return 0.2
    return 0.0  # private use, C1 controls, Hangul, anything else


def _kanji_weight(ch: str) -> float:
    """Common kanji (JIS level 1) score high; level 2 and beyond-JIS ones low.

    The level is read off the EUC-JP lead byte: rows 16-47 are level 1.
    """
    try:
        lead = ch.encode("euc_jp")[0]
    except UnicodeEncodeError:
        return 0.3  # outside JIS X 0208 (e.g. 髙): real, but rare
    if 0xB0 <= lead <= 0xCF:
        return 1.0
    if 0xD0 <= lead <= 0xF4:
        return 0.5
    return 0.3


_REPLACED_WARNING = "some bytes could not be decoded and were replaced"


def _nearly(data: bytes, encoding: str) -> Decoded | None:
    """Text in `encoding` with a few broken bytes (a file cut short, one bad
    paste) is still in that encoding; decode it with the bad bytes replaced."""
    text = data.decode(encoding, "replace")
    bad = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    good = non_ascii - bad
    if good >= 10 and bad <= 0.01 * good + 1:
        return Decoded(text, encoding, _REPLACED_WARNING)
    return None


def _decode_other(data: bytes) -> Decoded:
    """The non-Japanese remainder: ask charset-normalizer, else Windows Western."""
    guess = _charset_normalizer_guess(data)
    if guess is not None:
        return guess
    text = _try(data, "cp1252")
    if text is not None:
        return Decoded(text, "cp1252")
    return Decoded(data.decode("latin-1"), "latin-1")


# For Western European text these guesses are often a near miss (cp1250 for
# French); cp1252 is the better bet on Windows machines, so leave them out.
_WESTERN = frozenset({
    "cp1250", "cp1252", "cp1254", "cp1257", "cp437", "cp850", "cp858", "ascii",
    "iso8859-1", "iso8859-2", "iso8859-9", "iso8859-13", "iso8859-15", "iso8859-16",
    "mac-roman", "mac-latin2", "mac-turkish", "mac-iceland",
})


def _charset_normalizer_guess(data: bytes) -> Decoded | None:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
    except Exception:  # a guess is optional; never fail a file over it
        log.debug("charset-normalizer failed", exc_info=True)
        return None
    if best is None or not best.encoding:
        return None
    encoding = codecs.lookup(best.encoding).name
    if encoding in _WESTERN or encoding.startswith("utf"):
        return None
    text = _try(data, encoding)
    if text is None:
        return None
    return Decoded(text, encoding)
