"""The `bunko` command line: it translates arguments and errors at the edge; the engine does the work."""

from .commands import build_parser, main

__all__ = ["build_parser", "main"]
