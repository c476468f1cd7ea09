"""What every `bunko` command shares: opening the engine and printing results."""

from __future__ import annotations

import json
from collections.abc import Sequence


def open_engine(args):
    """The engine on `--db` (default: the user's database) with `--embedder` if given."""
    from ..api import Engine

    return Engine.open(getattr(args, "db", None), getattr(args, "embedder", None))


def print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def print_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Left-aligned columns two spaces apart, the header first."""
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
