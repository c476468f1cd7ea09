"""`.gitignore`-style ignore files: which entries of a library folder to leave out.

The usual rules: a pattern is relative to the folder of the file it is in; one with
no `/` but a trailing one matches a name at any depth below that folder, one with a
`/` elsewhere is anchored there. `*` and `?` stop at `/`; `**` spans folders (`**/x`,
`x/**`, `a/**/b`); `[...]` is a class; a trailing `/` matches folders only; `!`
brings back what an earlier pattern left out; the last pattern that matches wins,
and a deeper file's patterns come after its parents'. `#` starts a comment, `\\`
escapes a leading `#` or `!` and a trailing space. As with git, nothing inside a
left-out folder can be brought back: the walk never enters it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAX_IGNORE_BYTES = 256 * 1024  # an ignore file larger than this is not a person's list of patterns


@dataclass(frozen=True)
class Rule:
    base: str  # the folder of the ignore file, relative to the library root ('' for the root)
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool
    source: str  # the ignore file, relative to the root
    pattern: str  # as written, for the reason shown
    body: str = ""  # the regex without its end anchor, for RuleSet's combined ones


def _class(pattern: str, i: int) -> tuple[str, int]:
    """The regex of a `[...]` class starting at `i`, and the index past it."""
    j = i + 1
    if j < len(pattern) and pattern[j] in "!^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 1
    if j >= len(pattern):
        return re.escape("["), i + 1  # no closing bracket: a literal '['
    body = pattern[i + 1:j]
    negate = body[:1] in ("!", "^")
    if negate:
        body = body[1:]
    body = body.replace("[", "\\[")  # a backslash escapes as in a regex
    return ("[^/" + body + "]" if negate else "(?!/)[" + body + "]"), j + 1


MAX_WILDCARDS = 4  # '*' (not '**/') per pattern; 5 took 20 ms, 8 took 1.8 s on a 40-character name


def body_wildcards(pattern: str) -> int:
    """The '*' runs of a pattern that can backtrack: '**/' and a trailing '/**' do not."""
    return len(re.findall(r"\*+", re.sub(r"(^|/)\*\*(/|$)", "/", pattern)))


def _translate(pattern: str) -> str:
    """The regex body for a pattern already stripped of `!`, its leading and trailing `/`."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                start_ok = i == 0 or pattern[i - 1] == "/"
                end = i + 2
                if start_ok and end == n:
                    out.append(".*")  # 'x/**': everything inside
                    i = end
                    continue
                if start_ok and pattern.startswith("/", end):
                    out.append("(?:.*/)?")  # '**/': any number of folders, none included
                    i = end + 1
                    continue
                out.append("[^/]*")  # any other '**' is an ordinary '*'
                i = end
                while i < n and pattern[i] == "*":
                    i += 1
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            part, i = _class(pattern, i)
            out.append(part)
            continue
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def parse_line(line: str, base: str, source: str) -> Rule | None:
    """One line of an ignore file in folder `base` as a rule, or None (blank, comment, bad)."""
    line = line.rstrip("\r\n")
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    if not line or line.startswith("#"):
        return None
    written = line
    negate = line.startswith("!")
    if negate:
        line = line[1:]
    elif line.startswith(("\\!", "\\#")):
        line = line[1:]
    dir_only = line.endswith("/") and not line.endswith("\\/")
    line = line.rstrip("/") if dir_only else line
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    if not line:
        return None
    if body_wildcards(line) > MAX_WILDCARDS:
        # Python's regex backtracks on many stars in a row: '*a*a*a*a*a*a*b' took seconds per
        # path. Real ignore files use two or three; a hostile one must not stall the scan.
        log.info("ignoring a pattern with more than %d wildcards in %s: %r", MAX_WILDCARDS, source, written)
        return None
    body = _translate(line)
    if not anchored:
        body = "(?:.*/)?" + body  # a bare name matches at any depth
    try:
        regex = re.compile(body + r"\Z", re.DOTALL)
    except re.error:
        log.info("ignoring a pattern that cannot be read in %s: %r", source, written)
        return None
    return Rule(base, regex, negate, dir_only, source, written, body)


def parse(text: str, base: str, source: str) -> list[Rule]:
    rules = []
    for line in text.splitlines():
        rule = parse_line(line, base, source)
        if rule is not None:
            rules.append(rule)
    return rules


def read_rules(folder: Path, base: str, names: tuple[str, ...]) -> list[Rule]:
    """The rules of the ignore files `names` in `folder` (rel path `base`), in that order.
    A missing or unreadable file gives none, and a link is not followed (it could lead
    out of the library); a bad one never stops a scan."""
    rules: list[Rule] = []
    for name in names:
        path = folder / name
        try:
            if path.is_symlink() or not path.is_file():
                continue
            if path.stat().st_size > MAX_IGNORE_BYTES:
                log.info("not reading %s: over %d bytes", path, MAX_IGNORE_BYTES)
                continue
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError as exc:
            log.info("cannot read %s: %s", path, exc)
            continue
        rules.extend(parse(text, base, f"{base}/{name}" if base else name))
    return rules


class _Group:
    """Consecutive rules of one ignore file that all leave out, or all bring back: one
    combined regex tells whether any of them matches, so a path costs one regex per group
    rather than one per pattern."""

    def __init__(self, rules: list[Rule]) -> None:
        self.base, self.negate, self.rules = rules[0].base, rules[0].negate, rules
        self.any = re.compile("|".join(f"(?:{r.body})\\Z" for r in rules), re.DOTALL)
        files = [r for r in rules if not r.dir_only]
        self.files = re.compile("|".join(f"(?:{r.body})\\Z" for r in files), re.DOTALL) if files else None


class RuleSet:
    """The rules in force in one folder: its parents' ignore files' and its own, in order."""

    def __init__(self, rules: tuple[Rule, ...] = ()) -> None:
        self.rules = rules
        self._groups: list[_Group] = []
        start = 0
        for i in range(1, len(rules) + 1):
            if i == len(rules) or (rules[i].base, rules[i].negate) != (rules[start].base, rules[start].negate):
                self._groups.append(_Group(list(rules[start:i])))
                start = i

    def __bool__(self) -> bool:
        return bool(self.rules)

    def extend(self, more: list[Rule]) -> RuleSet:
        return RuleSet(self.rules + tuple(more)) if more else self

    def match(self, rel: str, is_dir: bool) -> Rule | None:
        """The rule that leaves `rel` (relative to the root, '/' separated) out, or None when
        no rule does or the last one that matches brings it back."""
        for group in reversed(self._groups):  # the last match wins: look from the end
            if group.base:
                if not rel.startswith(group.base + "/"):
                    continue
                sub = rel[len(group.base) + 1:]
            else:
                sub = rel
            regex = group.any if is_dir else group.files
            if regex is None or not regex.match(sub):
                continue
            if group.negate:
                return None
            return next(r for r in reversed(group.rules) if (is_dir or not r.dir_only) and r.regex.match(sub))
        return None


def match(rules: tuple[Rule, ...] | list[Rule], rel: str, is_dir: bool) -> Rule | None:
    """`RuleSet(rules).match(rel, is_dir)`, rule by rule: the plain reading of the rules,
    which the tests hold the combined one to."""
    found: Rule | None = None
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.base:
            if not rel.startswith(rule.base + "/"):
                continue
            sub = rel[len(rule.base) + 1:]
        else:
            sub = rel
        if rule.regex.match(sub):
            found = rule
    return None if found is None or found.negate else found
