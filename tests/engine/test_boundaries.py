"""The one door (docs/architecture.md, rule 1): engine/ never imports Qt or desktop/;
desktop/ reaches the engine only through engine.api, engine.types and engine.errors;
inside engine/, each package imports only the layers below its own."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# From the top down. A package may import its own modules and anything in a lower layer;
# packages in one layer do not import each other. Imports inside functions count too.
LAYERS = [
    ["engine.cli"],
    ["engine.bench", "engine.mcp"],
    ["engine.serve"],
    ["engine.api"],
    ["engine.lab"],
    ["engine.finetune"],   # above the chat: RAG-style training data is built with the chat's own prompt
    ["engine.chat"],
    ["engine.library"],
    ["engine.search", "engine.llm"],
    # model files and how they arrive (engine.models) sit below inference (engine.llm)
    ["engine.ingest", "engine.embed", "engine.store", "engine.hosts", "engine.models"],
    # shared by all: values, errors, cancel, paths, prompt files, time formatting
    ["engine"],
    # sha256 of files: imports nothing of Bunko's
    ["engine.hashing"],
]


def imports(folder: str) -> list[tuple[Path, str]]:
    found = []
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def engine_imports() -> list[tuple[str, str]]:
    """(importer, imported) for every engine module, relative imports resolved."""
    found = []
    for path in (ROOT / "engine").rglob("*.py"):
        if "trainer" in path.parts:  # runs on the training host, never imported
            continue
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                found += [(name, f"{base}.{alias.name}") for alias in node.names]
    return [(a, b) for a, b in found if b.split(".")[0] == "engine"]


def layer_of(module: str) -> tuple[int, str]:
    for depth, layer in enumerate(LAYERS):
        for package in layer:
            if package != "engine" and (module == package or module.startswith(package + ".")):
                return depth, package
    return LAYERS.index(["engine"]), "engine"


def layer_violations(pairs: list[tuple[str, str]]) -> list[str]:
    bad = []
    for importer, imported in pairs:
        (mine, my_package), (theirs, their_package) = layer_of(importer), layer_of(imported)
        if theirs < mine or (theirs == mine and their_package != my_package):
            bad.append(f"{importer} imports {imported}")
    return bad


def test_engine_never_imports_qt_or_desktop() -> None:
    bad = [(p, m) for p, m in imports("engine") if m.split(".")[0] in {"PySide6", "PyQt5", "PyQt6", "shiboken6", "desktop"}]
    assert not bad, bad


def test_desktop_uses_only_the_public_api() -> None:
    allowed = {"engine", "engine.api", "engine.types", "engine.errors"}
    launcher = ROOT / "desktop" / "launcher.py"  # above both: it starts the app or the CLI
    bad = [(p, m) for p, m in imports("desktop") if m.split(".")[0] == "engine" and m not in allowed
           and (p, m) != (launcher, "engine.cli")]
    assert not bad, bad


def test_engine_layers_import_only_downwards() -> None:
    pairs = engine_imports()
    assert len(pairs) > 200  # the walk found the engine
    assert layer_violations(pairs) == []


def test_the_layer_check_catches_an_upward_or_sideways_import() -> None:
    assert layer_violations([("engine.store.db", "engine.api.Engine")]) == ["engine.store.db imports engine.api.Engine"]
    assert layer_violations([("engine.chat.service", "engine.finetune.jobs")])  # same layer, other package
    assert layer_violations([("engine.errors", "engine.search.keyword")])
    assert not layer_violations([("engine.chat.service", "engine.chat.prompt"), ("engine.api", "engine.errors"),
                                 ("engine.cli.commands", "engine.bench"), ("engine.cancel", "engine.errors")])
    assert layer_violations([("engine.hashing", "engine.errors")])   # the bottom layer imports nothing above it
    assert not layer_violations([("engine.embed.onnx_embedder", "engine.hashing"), ("engine.paths", "engine.hashing")])


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in (ROOT / "engine").iterdir() if (p / "__init__.py").is_file()}
    placed = {name.split(".")[1] for layer in LAYERS for name in layer if "." in name}
    assert packages == placed - {"api"}
    assert (ROOT / "engine" / "api.py").is_file()


def test_every_cli_command_has_help() -> None:
    from engine.cli.commands import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():
        assert command.description or sub._name_parser_map[name].format_help(), name
    assert {"index", "search", "libraries", "remove", "eval", "bench"} <= set(sub.choices)
