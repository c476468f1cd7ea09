"""`bunko bench index` and `bunko bench search`: speed, memory and scale, each against a reference
measured in the same run (the embedder alone, an exact brute-force search, an empty store).

Progress goes to stderr; stdout carries the table, or with --json exactly one JSON object.
"""

from __future__ import annotations


def run_bench(args, **front_end) -> int:
    """`front_end`: what only the command line can give (the finetune bench's host and prompts)."""
    what = getattr(args, "what", None)
    if what == "index" and getattr(args, "hostile_folder", False):
        from .hostile_folder import run_hostile_folder_bench

        return run_hostile_folder_bench(args)
    if what == "index":
        from .index_bench import run_index_bench

        return run_index_bench(args)
    if what == "embed":
        from .embed_bench import run_embed_bench

        return run_embed_bench(args)
    if what == "search":
        from .search_bench import run_search_bench

        return run_search_bench(args)
    if what == "chat":
        from .chat_bench import run_chat_bench

        return run_chat_bench(args)
    if what == "contention":
        from .contention_bench import run_contention_bench

        return run_contention_bench(args)
    if what == "finetune":
        from .finetune_bench import run_finetune_bench

        return run_finetune_bench(args, **front_end)
    if what == "download":
        from .download_bench import run_download_bench

        return run_download_bench(args)
    if what == "compare":
        from .compare_bench import run_compare_bench

        return run_compare_bench(args)
    if what in ("mcp", "serve"):
        from .mcp_bench import run_mcp_bench, run_serve_bench

        return run_mcp_bench(args) if what == "mcp" else run_serve_bench(args)
    raise ValueError(f"unknown bench {what!r}; use 'index', 'search', 'chat', 'contention', 'finetune', "
                     "'download', 'compare', 'mcp' or 'serve'")
