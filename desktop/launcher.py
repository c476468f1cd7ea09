"""The `bunko` entry point: the desktop app with no arguments, the command line otherwise.

`bunko bench ui` is answered here because it needs Qt, which the engine's CLI never imports.
"""

from __future__ import annotations

import importlib.util
import os
import sys

# The launcher sits above the engine's CLI and the app alike: the one desktop file that
# reaches past engine.api (tests/engine/test_boundaries.py allows exactly this import).
from engine.cli import main as run_cli

INSTALL_HINT = ("The desktop app needs PySide6, which is not installed. Install it with\n"
                "    pip install PySide6-Essentials\n"
                "and run `bunko` again. Meanwhile, the command line works:\n")


def _no_display() -> bool:
    """On Linux without X11 or Wayland Qt would abort with a trace; say it in words instead."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        if importlib.util.find_spec("PySide6") is None:
            print(INSTALL_HINT, file=sys.stderr)
            return run_cli([])
        if _no_display():
            print("Bunko's window needs a graphical desktop, and none was found (DISPLAY is not set). "
                  "The command line works:\n", file=sys.stderr)
            run_cli([])
            return 1
        from desktop.app import main as app_main

        return app_main([sys.argv[0]])
    if argv[:2] == ["bench", "ui"]:
        if importlib.util.find_spec("PySide6") is None:
            print(INSTALL_HINT, file=sys.stderr)
            return 2
        from desktop.bench_ui import main as bench_main

        return bench_main(argv[2:])
    return run_cli(argv)


if __name__ == "__main__":
    sys.exit(main())
