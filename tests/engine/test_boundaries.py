"""The one door (DESIGN.md rule 1): engine/ never imports Qt or desktop/;
desktop/ reaches the engine only through engine.api, engine.types and engine.errors."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports(folder: str) -> list[tuple[Path, str]]:
    found = []
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


def test_engine_never_imports_qt_or_desktop() -> None:
    bad = [(p, m) for p, m in imports("engine") if m.split(".")[0] in {"PySide6", "PyQt5", "PyQt6", "shiboken6", "desktop"}]
    assert not bad, bad


def test_desktop_uses_only_the_public_api() -> None:
    allowed = {"engine", "engine.api", "engine.types", "engine.errors"}
    bad = [(p, m) for p, m in imports("desktop") if m.split(".")[0] == "engine" and m not in allowed]
    assert not bad, bad


def test_every_cli_command_has_help() -> None:
    from engine.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():
        assert command.description or sub._name_parser_map[name].format_help(), name
    assert {"index", "search", "libraries", "remove", "eval", "bench"} <= set(sub.choices)
