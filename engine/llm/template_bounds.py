"""How large a chat template's text operation would make its result, worked out before it runs.

A filter such as `replace`, `indent` or `wordwrap`, or `str()` of a list holding one long
text many times, is a single C call: once it starts, neither the clock checks nor the
watchdog can stop it, and it may allocate gigabytes. So the sandbox asks here first how
long the result can be, from the lengths of the inputs, and refuses what would be too long.
"""

from __future__ import annotations

import itertools
import re

from jinja2 import TemplateError

MAX_TEXT = 512 * 1024    # characters one text operation may produce


class Exhausted(TemplateError):
    """A template went over its budget."""


_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"\S+")

# filters whose result can be longer than `str(value)` by at most this factor (escapes, json, utf-8 quoting)
_GROWTH = {"urlencode": 12, "tojson": 6, "e": 6, "escape": 6, "forceescape": 6, "xmlattr": 6, "urlize": 4,
           "upper": 3, "lower": 3, "title": 3, "capitalize": 3, "pprint": 2}
# filters that turn their value into text (the others only count, pick or reorder)
STRINGIFYING = frozenset(["string", "join", "format", "replace", "indent", "center", "wordwrap", "truncate",
                          "trim", "striptags", "safe", "wordcount", "filesizeformat", *_GROWTH])


def text_length(value, limit: int = MAX_TEXT) -> int:
    """An upper estimate of len(str(value)), stopping as soon as it passes `limit` (so a list
    of a million references to one long text costs a few steps, not the text)."""
    total = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, (bool, type(None), float)):
            total += 24
        elif isinstance(v, int):
            total += v.bit_length() // 3 + 2
        elif isinstance(v, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(v)
            stack.extend(itertools.islice(v, limit))
        elif isinstance(v, dict):
            total += 2 + 4 * len(v)
            stack.extend(itertools.islice(itertools.chain.from_iterable(v.items()), limit))
        else:   # Undefined, Markup, a namespace, a loop: small, or text already counted as a value
            total += len(str(v)) if isinstance(v, (bytes, bytearray)) else 64
        if total > limit:
            return total
    return total


def refuse_if_long(length: int, what: str) -> None:
    if length > MAX_TEXT:
        raise Exhausted(f"{what} would make a text of over {MAX_TEXT:,} characters")


def format_length(fmt, args) -> int:
    """An upper bound for `fmt % args` and `fmt.format(*args)`: every number written in the
    format may be a width, and every argument may be written in full."""
    fmt = str(fmt) if isinstance(fmt, str) else ""
    widths = sum(int(d) if len(d) < 12 else MAX_TEXT + 1 for d in _DIGITS.findall(fmt))
    numbers = sum(abs(a) for a in _flat(args) if isinstance(a, int) and not isinstance(a, bool) and a < 1 << 40)
    return len(fmt) + widths + numbers + text_length(args)


def _flat(args):
    if isinstance(args, dict):
        return list(args.values())
    if isinstance(args, (list, tuple)):
        return list(args)
    return [args]


def replace_length(s: str, old, new, count=None) -> int:
    old, new = str(old), str(new)
    n = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        n = min(n, count)
    return len(s) + n * max(0, len(new) - len(old))


def indent_length(s: str, width) -> int:
    w = width if isinstance(width, int) and not isinstance(width, bool) else len(str(width))
    return len(s) + (s.count("\n") + 1) * max(w, 0)


def wordwrap_length(s: str, width: int, wrapstring) -> int:
    lines = sum(1 for _ in _WORD.finditer(s)) + len(s) // max(int(width), 1) + s.count("\n") + 1
    return len(s) + lines * len(str(wrapstring) if wrapstring is not None else "\n")


def _arg(rest, kwargs, i: int, name: str, default=None):
    return rest[i] if len(rest) > i else kwargs.get(name, default)


def check_filter(name: str, value, rest: tuple, kwargs: dict) -> None:
    """Refuse a filter call whose result would be too long, before it is made."""
    if name not in STRINGIFYING:
        return
    base = len(value) if isinstance(value, str) else text_length(value)
    refuse_if_long(base * _GROWTH.get(name, 1) + text_length(rest) + text_length(kwargs), f"the {name} filter")
    if not isinstance(value, str):
        return
    if name == "replace":
        refuse_if_long(replace_length(value, _arg(rest, kwargs, 0, "old", ""), _arg(rest, kwargs, 1, "new", ""),
                                      _arg(rest, kwargs, 2, "count")), "the replace filter")
    elif name == "indent":
        refuse_if_long(indent_length(value, _arg(rest, kwargs, 0, "width", 4)), "the indent filter")
    elif name == "center":
        width = _arg(rest, kwargs, 0, "width", 80)
        refuse_if_long(max(len(value), width if isinstance(width, int) else 0), "the center filter")
    elif name == "wordwrap":
        refuse_if_long(wordwrap_length(value, _arg(rest, kwargs, 0, "width", 79) or 1,
                                       _arg(rest, kwargs, 2, "wrapstring")), "the wordwrap filter")
    elif name == "format":
        refuse_if_long(format_length(value, kwargs or rest), "the format filter")
    elif name == "tojson":
        indent = _arg(rest, kwargs, 0, "indent")
        if isinstance(indent, int) and indent > 0:
            refuse_if_long(base * 6 * (indent + 1), "the tojson filter")


def check_method(owner: str, name: str, args: tuple, kwargs: dict) -> None:
    """The same for the methods of a text (`s.replace(...)`, `s.center(...)`, …)."""
    numbers = [a for a in (*args, *kwargs.values()) if isinstance(a, int) and not isinstance(a, bool)]
    if name in ("center", "ljust", "rjust", "zfill") and numbers:
        refuse_if_long(max(numbers), f"{name}()")
    elif name == "expandtabs":
        refuse_if_long(len(owner) + owner.count("\t") * max([8, *numbers]), "expandtabs()")
    elif name == "replace" and len(args) >= 2:
        refuse_if_long(replace_length(owner, args[0], args[1], args[2] if len(args) > 2 else None), "replace()")
    elif name in ("format", "format_map"):
        refuse_if_long(format_length(owner, list(args) + list(kwargs.values())), f"{name}()")
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((text_length(v) for v in args[0].values()), default=1)
        refuse_if_long(len(owner) * max(longest, 1), "translate()")
    elif name == "join" and args:
        refuse_if_long(text_length(args[0]) + len(owner) * _count(args[0]), "join()")


def _count(items) -> int:
    return len(items) if isinstance(items, (list, tuple, dict, set, frozenset, str)) else 0


def bounded_items(items, limit: int) -> list:
    """An iterable made a list, refused when it has more than `limit` items."""
    out = list(itertools.islice(iter(items), limit + 1))
    if len(out) > limit:
        raise Exhausted(f"it goes over more than {limit:,} items")
    return out
