"""The documentation keeps up with the code: every command and option in `--help` and in
docs/cli.md, a README short enough to read to the end, links that lead somewhere, and the
README's test command the one CI runs.

`python tests/engine/test_docs.py` prints the reference section of docs/cli.md from the
commands' own help, to paste there after adding a command or an option."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CLI_DOC = DOCS / "cli.md"
README_MAX_LINES = 150


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str | None, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:  # argparse keeps subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            found += [(name, helps.get(name), sub) for name, sub in action.choices.items()]
    return found


def _commands(parser: argparse.ArgumentParser, prefix: str = "bunko") -> list[tuple[str, str | None]]:
    found = []
    for name, help_text, sub in _subcommands(parser):
        found.append((f"{prefix} {name}", help_text))
        found.extend(_commands(sub, f"{prefix} {name}"))
    return found


def _options(parser: argparse.ArgumentParser, prefix: str = "bunko") -> list[tuple[str, str]]:
    """(command, long option) for every documented option of every command."""
    found = [(prefix, option) for action in parser._actions
             if action.help != argparse.SUPPRESS and not isinstance(action, argparse._HelpAction)
             for option in action.option_strings if option.startswith("--")]
    for name, _, sub in _subcommands(parser):
        found.extend(_options(sub, f"{prefix} {name}"))
    return found


def _row(action: argparse.Action) -> str:
    flag = action.nargs == 0
    if action.option_strings:
        name = ", ".join(f"`{o}`" if flag else f"`{o} {action.metavar or action.dest.upper()}`"
                         for o in action.option_strings)
    else:
        name = f"`{action.metavar or action.dest.upper()}`"
    text = (action.help or "").replace("%(default)s", str(action.default))
    if action.choices and not isinstance(action.choices, dict):
        text += (" " if text else "") + "(" + ", ".join(f"`{c}`" for c in action.choices) + ")"
    return f"| {name} | {text.replace('|', '/')} |"


def reference(parser: argparse.ArgumentParser | None = None, prefix: str = "bunko") -> str:
    """The reference section of docs/cli.md: one heading and one table per command."""
    if parser is None:
        from engine.cli.commands import build_parser

        parser = build_parser()
    out: list[str] = []
    for name, help_text, sub in _subcommands(parser):
        command = f"{prefix} {name}"
        out.append(f"### {command}\n")
        about = (help_text or "").strip()
        if sub.description and sub.description.strip() != about:
            about = f"{about.rstrip('.')}. {sub.description.strip()}" if about else sub.description.strip()
        out.append(about[:1].upper() + about[1:] + "\n")
        rows = [a for a in sub._actions if a.help != argparse.SUPPRESS
                and not isinstance(a, (argparse._SubParsersAction, argparse._HelpAction))]
        if rows:
            out += ["| argument | meaning |", "|---|---|", *map(_row, rows), ""]
        deeper = reference(sub, command)
        if deeper:
            out.append(deeper)
    return "\n".join(out)


def test_every_command_has_help_and_is_in_docs_cli():
    from engine.cli.commands import build_parser

    doc = CLI_DOC.read_text(encoding="utf-8")
    commands = _commands(build_parser())
    assert len(commands) > 10
    for command, help_text in commands:
        assert help_text, f"{command} has no help text"
        assert f"### {command}\n" in doc, f"{command} is not in docs/cli.md (python tests/engine/test_docs.py)"


def test_every_option_is_in_docs_cli():
    from engine.cli.commands import build_parser

    doc = CLI_DOC.read_text(encoding="utf-8")
    sections = {m.group(1): m.end() for m in re.finditer(r"^### (bunko[^\n]*)\n", doc, re.M)}
    options = _options(build_parser())
    assert len(options) > 100
    for command, option in options:
        if command == "bunko":
            assert f"`{option}" in doc, f"{option} is not in docs/cli.md"
            continue
        start = sections.get(command)
        assert start is not None, f"{command} has no section in docs/cli.md"
        end = doc.find("\n### ", start)
        assert f"`{option}" in doc[start:end if end > 0 else None], \
            f"{command} {option} is not in docs/cli.md (python tests/engine/test_docs.py)"


def test_the_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/"


def test_links_to_docs_lead_somewhere():
    pages = [README, *sorted(DOCS.rglob("*.md"))]
    assert len(pages) >= 10
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (page.parent / target).is_file(), f"{page.relative_to(ROOT)} links to missing {target}"
    linked = set(re.findall(r"\]\((docs/[^)#\s]+\.md)", README.read_text(encoding="utf-8")))
    for doc in DOCS.glob("*.md"):
        assert f"docs/{doc.name}" in linked, f"README.md does not lead to docs/{doc.name}"


def test_the_readme_test_command_is_the_one_ci_runs():
    readme = README.read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in re.findall(r"```sh\n(.*?)\n```", readme, re.S)
                   if line.endswith("python -m pytest"))
    steps = command.split(" && ")
    # CI builds llama-server between installing and testing; every step must be there, in order.
    positions = [ci.find(step) for step in steps]
    assert -1 not in positions, f"a step of the README's test command is not in .ci/run: {steps}"
    assert positions == sorted(positions)
    assert ci.rstrip().endswith(steps[-1])


def test_nothing_cites_a_design_file_that_is_not_in_the_project():
    name = "DESIGN" + ".md"  # a private notes file of the first authors; docs/architecture.md replaces it
    bad = [str(path.relative_to(ROOT)) for folder in ("engine", "desktop", "tests", "packaging", "docs")
           for path in (ROOT / folder).rglob("*") if path.suffix in {".py", ".md", ".sh"}
           and name in path.read_text(encoding="utf-8", errors="replace")]
    bad += [page for page in ("README.md",) if name in (ROOT / page).read_text(encoding="utf-8")]
    assert not bad, f"cite docs/architecture.md instead: {bad}"


def test_the_reference_knows_every_kind_of_argument():
    parser = argparse.ArgumentParser(prog="t")
    sub = parser.add_subparsers(dest="command").add_parser("go", help="do it", description="Does it well.")
    sub.add_argument("target", help="where")
    sub.add_argument("--fast", action="store_true", help="quickly")
    sub.add_argument("--mode", choices=["a", "b"], help="which one")
    text = reference(parser, "t")
    assert text.startswith("### t go\n")
    assert "Do it. Does it well." in text
    assert "| `TARGET` | where |" in text and "| `--fast` | quickly |" in text
    assert "| `--mode MODE` | which one (`a`, `b`) |" in text


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(reference())
