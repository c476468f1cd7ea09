"""The .gitignore-style matcher (engine/ingest/ignore.py), case by case: the pattern, the
folder of the ignore file, the path met, whether it is a folder, and whether it is left out."""

from __future__ import annotations

import pytest

from engine.ingest import ignore

# (patterns, base folder of the ignore file, path relative to the root, is a folder, left out)
CASES = [
    # a bare name matches at any depth below the file's folder
    (["*.log"], "", "a.log", False, True),
    (["*.log"], "", "deep/er/a.log", False, True),
    (["*.log"], "", "a.log.txt", False, False),
    (["secret.txt"], "", "x/secret.txt", False, True),
    (["secret.txt"], "", "x/not-secret.txt", False, False),
    # '*' and '?' stop at '/'
    (["docs/*.md"], "", "docs/a.md", False, True),
    (["docs/*.md"], "", "docs/sub/a.md", False, False),
    (["a?c.txt"], "", "abc.txt", False, True),
    (["a?c.txt"], "", "a/c.txt", False, False),
    # a leading or middle '/' anchors the pattern to the file's folder
    (["/build.md"], "", "build.md", False, True),
    (["/build.md"], "", "sub/build.md", False, False),
    (["sub/x.md"], "", "sub/x.md", False, True),
    (["sub/x.md"], "", "other/sub/x.md", False, False),
    # patterns are relative to the folder of their file
    (["x.md"], "proj", "proj/x.md", False, True),
    (["x.md"], "proj", "x.md", False, False),
    (["/x.md"], "proj", "proj/x.md", False, True),
    (["/x.md"], "proj", "proj/y/x.md", False, False),
    (["*.md"], "proj", "project/a.md", False, False),
    # a trailing '/' matches folders only
    (["out/"], "", "out", True, True),
    (["out/"], "", "out", False, False),
    (["out/"], "", "a/b/out", True, True),
    (["out"], "", "out", False, True),
    # '**'
    (["**/logs"], "", "logs", True, True),
    (["**/logs"], "", "a/b/logs", True, True),
    (["**/logs/today.txt"], "", "x/logs/today.txt", False, True),
    (["cache/**"], "", "cache/a/b.txt", False, True),
    (["cache/**"], "", "cache", True, False),
    (["a/**/b.txt"], "", "a/b.txt", False, True),
    (["a/**/b.txt"], "", "a/x/y/b.txt", False, True),
    (["a/**/b.txt"], "", "z/a/x/b.txt", False, False),
    (["foo**bar"], "", "fooXbar", False, True),
    (["foo**bar"], "", "foo/bar", False, False),
    # negation: the last match wins
    (["*.txt", "!keep.txt"], "", "keep.txt", False, False),
    (["*.txt", "!keep.txt"], "", "drop.txt", False, True),
    (["!keep.txt", "*.txt"], "", "keep.txt", False, True),
    (["*.txt", "!keep.txt", "keep.txt"], "", "keep.txt", False, True),
    # comments, blanks, escapes, trailing spaces
    (["# a.txt"], "", "# a.txt", False, False),
    (["# comment", "", "   ", "a.txt"], "", "a.txt", False, True),
    (["\\#hash.txt"], "", "#hash.txt", False, True),
    (["\\!bang.txt"], "", "!bang.txt", False, True),
    (["a.txt   "], "", "a.txt", False, True),
    (["a.txt\\ "], "", "a.txt ", False, True),
    (["a.txt\\ "], "", "a.txt", False, False),
    # character classes
    (["file[0-9].txt"], "", "file7.txt", False, True),
    (["file[0-9].txt"], "", "fileX.txt", False, False),
    (["file[!0-9].txt"], "", "fileX.txt", False, True),
    (["file[!0-9].txt"], "", "file7.txt", False, False),
    (["[abc"], "", "[abc", False, True),  # no closing bracket: literal
    # Japanese names, dots and other regex characters are literal
    (["議事録*.txt"], "", "総務/議事録2024.txt", False, True),
    (["a+b(1).md"], "", "a+b(1).md", False, True),
    (["a.md"], "", "aXmd", False, False),
]


@pytest.mark.parametrize("patterns,base,rel,is_dir,left_out", CASES)
def test_pattern_table(patterns, base, rel, is_dir, left_out):
    rules = ignore.parse("\n".join(patterns), base, f"{base}/.gitignore" if base else ".gitignore")
    assert (ignore.match(rules, rel, is_dir) is not None) is left_out
    assert ignore.RuleSet(tuple(rules)).match(rel, is_dir) == ignore.match(rules, rel, is_dir)


def test_the_combined_rule_set_agrees_with_the_rules_one_by_one():
    """The scan's RuleSet tests a group of patterns with one regex; on every path of a small
    tree, for folders and files, it names the same rule as the plain reading."""
    outer = ignore.parse("*.log\nbuild/\n!keep.log\n/top.md\ndocs/**/draft*\n!docs/x/draft1.md\n# c\ntmp\n",
                         "", ".gitignore")
    inner = ignore.parse("!*.log\nsecret/\n*.md\n!README.md\n", "docs", "docs/.gitignore")
    rules = tuple(outer) + tuple(inner)
    ruleset = ignore.RuleSet(tuple(outer)).extend(inner)
    names = ["a.log", "keep.log", "build", "top.md", "README.md", "draft1.md", "draft2.md", "secret", "tmp", "x"]
    folders = ["", "docs", "docs/x", "src", "src/build"]
    checked = 0
    for folder in folders:
        for name in names:
            rel = f"{folder}/{name}" if folder else name
            for is_dir in (False, True):
                assert ruleset.match(rel, is_dir) == ignore.match(rules, rel, is_dir), (rel, is_dir)
                checked += 1
    assert checked == 100 and ruleset.match("docs/a.log", False) is None
    assert ruleset.match("docs/x/draft2.md", False).source == "docs/.gitignore"


def test_the_matching_rule_names_its_file_and_pattern():
    rules = ignore.parse("# build output\n*.log\n", "sub", "sub/.gitignore")
    rule = ignore.match(rules, "sub/x/debug.log", False)
    assert rule is not None and rule.source == "sub/.gitignore" and rule.pattern == "*.log"


def test_a_deeper_file_overrides_its_parent():
    outer = ignore.parse("*.md\n", "", ".gitignore")
    inner = ignore.parse("!README.md\n", "pkg", "pkg/.gitignore")
    rules = tuple(outer) + tuple(inner)
    assert ignore.match(rules, "pkg/README.md", False) is None
    assert ignore.match(rules, "pkg/other.md", False) is not None
    assert ignore.match(rules, "README.md", False) is not None


def test_a_crlf_file_and_a_link_and_a_huge_file(tmp_path):
    (tmp_path / ".gitignore").write_bytes(b"a.txt\r\n!b.txt\r\n")
    rules = ignore.read_rules(tmp_path, "", (".gitignore",))
    assert [r.pattern for r in rules] == ["a.txt", "!b.txt"]
    outside = tmp_path / "outside"
    outside.write_text("*\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / ".gitignore").symlink_to(outside)  # never followed: it could lead out of the library
    assert ignore.read_rules(sub, "sub", (".gitignore",)) == []
    (sub / ".bunkoignore").write_bytes(b"x" * (ignore.MAX_IGNORE_BYTES + 1))
    assert ignore.read_rules(sub, "sub", (".bunkoignore",)) == []


def test_a_pattern_of_many_stars_is_dropped_not_left_to_backtrack() -> None:
    import time

    from engine.ingest import ignore

    assert ignore.parse_line("*a*a*a*a*a*a*a*b", "", ".gitignore") is None
    kept = ignore.parse_line("*a*a*a*b", "", ".gitignore")   # four: still a rule, and quick
    assert kept is not None
    started = time.perf_counter()
    assert kept.regex.match("a" * 60) is None
    assert time.perf_counter() - started < 0.5
    assert ignore.parse_line("**/node_modules/**", "", ".gitignore") is not None
