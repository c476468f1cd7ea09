"""Every command is documented: in `--help` and in the README."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.commands import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands(parser: argparse.ArgumentParser, prefix: str = "bunko") -> list[tuple[str, str | None]]:
    found = []
    for action in parser._actions:  # argparse keeps subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                found.append((f"{prefix} {name}", helps.get(name)))
                found.extend(_commands(sub, f"{prefix} {name}"))
    return found


def test_every_command_has_help_and_is_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    commands = _commands(build_parser())
    assert len(commands) > 10
    for command, help_text in commands:
        assert help_text, f"{command} has no help text"
        assert command in readme, f"{command} is not in the README"
