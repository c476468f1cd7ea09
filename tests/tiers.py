"""The two tiers of the suite (tests/conftest.py calls `mark_tiers` at collection).

A test is end-to-end (marker `e2e`) when it uses a fixture in E2E_FIXTURES, lives in a module of
E2E_MODULES, is named in E2E_TESTS, or is marked `slow` (every slow test is end-to-end); a test
may also carry @pytest.mark.e2e itself. Everything else is the fast tier, which runs on fakes
(tests/fakes.py) and must stay under two minutes on two cores: `guard_fast_tier` fails a fast
test that starts a llama.cpp model, so a new test that needs one says so here.

The names are kept here rather than as decorators in the test files so that the split is one
list to read; a name here that the run no longer collects is reported as a warning.
"""

from __future__ import annotations

import pytest

# Real parts a fixture brings: the trainer's environment and real training, sshd.
E2E_FIXTURES = frozenset({"trainer_python", "mascot_db", "mascot_training", "sshd", "_sshd_server"})

# Modules whose every test runs a real model, server or tool.
E2E_MODULES = frozenset({
    "tests/engine/test_answers.py",          # SmolLM2 answering with the e5 embedder
    "tests/engine/test_chat.py",
    "tests/engine/test_compare_lab.py",
    "tests/engine/test_finetune_draft.py",
    "tests/engine/test_finetune_loop.py",
    "tests/engine/test_remote_llama_server.py",  # llama-server
    "tests/engine/test_remote_lora.py",
    "tests/engine/test_repetition.py",
    "tests/engine/test_side_by_side.py",
    "tests/engine/test_worker.py",           # the llama.cpp worker process
    "tests/engine/test_offline_native.py",   # strace
    "tests/engine/test_ocr.py",              # the OCR models
    "tests/engine/test_ocr_index.py",
    "tests/desktop/test_screenshot.py",      # screenshots
    "tests/desktop/test_page_screenshots.py",
    "tests/desktop/test_side_by_side_window.py",
})

# Single tests that run a real model (found by `guard_fast_tier` and by --durations).
E2E_TESTS = frozenset({
})


def _module(item) -> str:
    return item.nodeid.split("::", 1)[0]


def _name(item) -> str:
    return item.nodeid.split("[", 1)[0]


def is_e2e(item) -> bool:
    return bool(item.get_closest_marker("e2e") or item.get_closest_marker("slow")
                or E2E_FIXTURES & set(getattr(item, "fixturenames", ()))
                or _module(item) in E2E_MODULES or _name(item) in E2E_TESTS)


def mark_tiers(config, items) -> None:
    modules = {_module(item) for item in items}
    names = {_name(item) for item in items}
    for item in items:
        if is_e2e(item) and not item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.e2e)
    stale = sorted(n for n in E2E_TESTS if n.split("::", 1)[0] in modules and n not in names)
    if stale:
        config.issue_config_time_warning(pytest.PytestConfigWarning(
            f"tests/tiers.py names tests that no longer exist: {', '.join(stale)}"), stacklevel=2)
