"""The `bunko` entry point: the desktop app with no arguments, the command line otherwise."""

from __future__ import annotations

import sys

from engine.api import run_cli


def main() -> int:
    argv = sys.argv[1:]
    if not argv:
        try:
            from desktop.app import main as app_main  # the GUI arrives with PySide6
        except ImportError:
            print("The desktop app is not available in this install; showing the command line.\n",
                  file=sys.stderr)
            return run_cli([])
        return app_main()
    return run_cli(argv)


if __name__ == "__main__":
    sys.exit(main())
