"""ruff and mypy, as configured in pyproject.toml, find nothing (docs/architecture.md, house style).

Each is skipped, saying why, where it is not installed (`pip install -e ".[test]"` brings both)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINTED = ["engine", "desktop", "tests", "packaging"]


def _tool(name: str) -> list[str]:
    """The tool beside this Python (the project's venv), else on PATH; skip when neither has it."""
    beside = Path(sys.executable).with_name(name)
    if beside.is_file():
        return [str(beside)]
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return [found]


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_ruff_finds_nothing():
    done = _run([*_tool("ruff"), "check", "--no-cache", *LINTED], timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_is_configured_to_catch_an_unused_import(tmp_path):
    # The check above can only fail if the configuration is read: a file with a finding, checked
    # with the project's settings, must be reported.
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n", encoding="utf-8")
    done = _run([*_tool("ruff"), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(bad)],
                timeout=60)
    assert done.returncode == 1 and "F401" in done.stdout


def test_mypy_finds_nothing_in_the_engine():
    # mypy's own cache (.mypy_cache) keeps a second run to a few seconds; it checks each file's hash.
    done = _run([*_tool("mypy")], timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Success" in done.stdout
