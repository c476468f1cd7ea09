"""Numbered citations: the forms small models write, and the streaming filter
agreeing with clean() however the answer is cut into pieces."""

from __future__ import annotations

import random

import pytest

from engine.chat.citations import MAX_MARKER, CitationStream, clean, find_citations

ANSWERS = [
    "The warranty lasts two years [1]. Returns are accepted within 30 days [2, 3].",
    "Tokyo is large [2, 9]. It has many trains [9]. See also [1][3] and [1-3].",
    "東京は日本の首都です【1】。人口は約1400万人です［２］。詳細は［１，３］と【5】を参照。",
    "Footnote style works too[^1], as do [^2] and [^1, ^3]. Bad: [0], [4-7], [^8].",
    "A [link](https://example.com) and array[i] and dict[key] stay; [ ] and [] too.",
    "Code is left alone: `a[0]` and `x[12]`, but prose [12] goes.\n"
    "```python\nvalues = a[0] + b[1, 2]\n```\nAfter the fence [3] counts [0].",
    "A long one [1, 2, 3, 4, 5, 6, 7, 8, 9] is text. Unclosed at the end [2",
    "Ranges: [3–1] [2 - 3] [1~2] [1〜3]. Mixed【1, 2］. Spaces [ 1 ,2 ].",
    "Trailing space then nothing [9] ",
    "Years [2023-2024] and odd [1,,2] and [1 2] and [,] and [-] and [1-] here.",
    "Stray backtick ` then [9] on the same line\nnext line [9] and [1].",
    "[9] at the very start, [1] later, ``double `tick` [9]`` then [2].",
]


def stream(text: str, n: int, cuts: list[int]) -> str:
    s = CitationStream(n)
    bounds = [0, *sorted(cuts), len(text)]
    out = [s.feed(text[a:b]) for a, b in zip(bounds, bounds[1:])]
    return "".join(out) + s.flush()


@pytest.mark.parametrize(
    "text, n, expected",
    [
        ("Big [1].", 3, "Big [1]."),
        ("Big [2, 9].", 3, "Big [2]."),
        ("Big [9].", 3, "Big."),
        ("Big [0] and [1,2]", 3, "Big and [1, 2]"),
        ("A [1][3] B", 3, "A [1][3] B"),
        ("A [1-3] B", 3, "A [1, 2, 3] B"),
        ("A [2-9] B", 3, "A [2, 3] B"),
        ("A [^1] B [^2, ^3]", 3, "A [1] B [2, 3]"),
        ("東京【1】と［１］、［２，３］", 3, "東京[1]と[1]、[2, 3]"),
        ("東京【９】です", 3, "東京です"),
        ("[link](url) array[i] [x] [a-b]", 3, "[link](url) array[i] [x] [a-b]"),
        ("no sources [1].", 0, "no sources."),
        ("dup [1, 1, 2]", 3, "dup [1, 2]"),
        ("`a[0]` a[0]", 3, "`a[0]` a"),
        ("```\nb[9]\n```\n[9] [1]", 3, "```\nb[9]\n```\n [1]"),
        ("[1, 2, 3, 4, 5, 6, 7, 8, 9]", 3, "[1, 2, 3, 4, 5, 6, 7, 8, 9]"),
    ],
)
def test_clean(text: str, n: int, expected: str) -> None:
    assert clean(text, n) == expected
    assert stream(text, n, []) == expected


def test_find_citations_in_order_of_first_appearance() -> None:
    assert find_citations(ANSWERS[1], 3) == [2, 1, 3]
    assert find_citations(ANSWERS[2], 3) == [1, 2, 3]
    assert find_citations("[3] then [1-2] then [3, 1]", 3) == [3, 1, 2]
    assert find_citations("`x[1]` [2]\n```\n[3]\n```", 3) == [2]
    assert find_citations("nothing here [9] [0]", 3) == []
    assert find_citations("[1]", 0) == []


@pytest.mark.parametrize("text", ANSWERS)
@pytest.mark.parametrize("n", [0, 1, 3])
def test_stream_equals_clean_for_random_splits(text: str, n: int) -> None:
    expected = clean(text, n)
    rng = random.Random(f"{text}/{n}")
    assert stream(text, n, list(range(1, len(text)))) == expected  # one character at a time
    for _ in range(200):
        cuts = rng.sample(range(1, len(text)), rng.randint(0, min(len(text) - 1, 12)))
        assert stream(text, n, cuts) == expected, cuts


def test_stream_equals_clean_on_random_text() -> None:
    # Random strings over the characters that matter find the corner cases
    # the hand-written answers miss.
    alphabet = list("ab 1239,-^`\n[]［］【】０２，－〜") + ["```", " [", "[1]", "[9]"]
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        n = rng.randint(0, 3)
        cuts = rng.sample(range(1, len(text)), rng.randint(0, max(0, min(len(text) - 1, 8)))) if len(text) > 1 else []
        assert stream(text, n, cuts) == clean(text, n), (text, n, cuts)


def test_plain_text_passes_through_at_once() -> None:
    s = CitationStream(3)
    assert s.feed("Hello, wor") == "Hello, wor"
    assert s.feed("ld.") == "ld."
    assert s.feed("[l") == "[l"  # a Markdown link, not a citation
    assert s.feed("ink](url)") == "ink](url)"
    assert s.feed("a[i") == "a[i"
    assert s.flush() == ""


def test_an_open_marker_is_held_then_released() -> None:
    s = CitationStream(3)
    assert s.feed("Big [") == "Big"
    assert s.feed("2, ") == ""
    assert s.feed("9] next") == " [2] next"
    assert s.feed(" [9") == ""
    assert s.feed("].") == "."
    assert s.flush() == ""


def test_holding_is_bounded() -> None:
    s = CitationStream(3)
    held = "[" + "1" * (MAX_MARKER - 2)
    assert s.feed(held) == ""
    assert s.feed("1") == held + "1"  # too long to be a citation: plain text
    assert s.feed("]") == "]"


def test_flush_releases_an_unclosed_marker() -> None:
    s = CitationStream(3)
    assert s.feed("the end [1, ") == "the end"
    assert s.flush() == " [1, "
    assert s.flush() == ""
