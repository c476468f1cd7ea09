"""`bunko finetune`: prepare data, run, follow, cancel and clean LoRA training jobs.

The work is in engine.jobs; this file turns arguments into calls and events into
lines. A job outlives the command: Ctrl-C while following leaves it training.
"""

from __future__ import annotations

import getpass
import dataclasses
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from ..cancel import CancelToken
from ..errors import BunkoError, FinetuneError, HostKeyUnknownError, PassphraseNeededError
from .common import open_engine, print_table
from .finetune_format import format_options, held_out_extra, preview, training_set, write_held
from .job_printer import JobPrinter
from ..timefmt import clock
from ..timefmt import size as size_text


def parse_host(text: str | None, args=None):
    """'local' (default), an alias from ~/.ssh/config, or user@host[:port]."""
    from ..hosts.hosts import HostSpec

    extra: dict[str, Any] = {}
    if args is not None:
        for key, attr in (("key_file", "key"), ("python", "python"), ("env_python", "env_python"),
                          ("root", "remote_dir"), ("ssh_config", "ssh_config")):
            if getattr(args, attr, None):
                extra[key] = str(getattr(args, attr))
    if not text or text == "local":
        return HostSpec(**{k: v for k, v in extra.items() if k in ("python", "env_python")})
    spec = HostSpec.parse(text, **extra)
    if spec is None:
        raise FinetuneError(f"{text!r} is not a host: use local, an alias from ~/.ssh/config, or user@host[:port].")
    return spec


def with_secrets(action, args):
    """Run action(secrets), asking for a passphrase or a host key decision when needed."""
    from ..hosts.hosts import Secrets

    secrets = Secrets(accept_fingerprint=getattr(args, "accept_host_key", None))
    for _ in range(4):
        try:
            return action(secrets)
        except PassphraseNeededError as exc:
            if not sys.stdin.isatty():
                raise
            secrets.passphrase = getpass.getpass(f"{exc}\nPassphrase: ")   # memory only
        except HostKeyUnknownError as exc:
            if not sys.stdin.isatty():
                raise FinetuneError(f"{exc}\nTo accept it without a prompt: --accept-host-key {exc.fingerprint}") from exc
            print(str(exc), file=sys.stderr)
            if input("Accept this host key? [y/N] ").strip().lower() not in ("y", "yes"):
                raise FinetuneError("The host key was not accepted; nothing was done.") from exc
            secrets.accept_fingerprint = exc.fingerprint
    raise FinetuneError("Could not log in.")


# -- prepare ---------------------------------------------------------------------------------

def _load_data(args):
    from ..finetune.dataset import Dataset, read_file

    combined = Dataset([], source=", ".join(str(p) for p in args.files))
    for path in args.files:
        ds = read_file(path)
        combined.examples += ds.examples
        combined.problems += [type(p)(p.line, f"{Path(path).name}: {p.reason}") for p in ds.problems]
    return combined


def cmd_prepare(args) -> int:
    from ..finetune.dataset import approx_tokens, write_jsonl

    if not args.files and not args.conversations:
        raise FinetuneError("Name files to prepare, or --conversations for this app's own chats.")
    ds = _load_data(args)
    if args.conversations:
        with open_engine(args) as engine:
            own = engine.jobs.training_examples()
        ds.examples += own.examples
        ds.problems += own.problems
    train, held = ds.split(args.eval_share)
    held = held_out_extra(args, held)
    built = None
    if args.format != "plain":
        from ..finetune.raft import summary

        with open_engine(args) as engine:
            built = training_set(engine, args, train, held, args.seq_len)
        shown = type(ds)(built.examples, source=ds.source)
    else:
        shown = ds
    long_rows = shown.check_lengths(approx_tokens, args.seq_len)   # the trainer cuts at the real count
    lengths = shown.token_lengths(approx_tokens)
    report = {"examples": len(ds.examples), "train": len(train), "held_out": len(held), "format": args.format,
              "bad_rows": [{"line": p.line, "reason": p.reason} for p in ds.problems],
              "too_long": [{"line": p.line, "reason": p.reason} for p in long_rows],
              "mean_tokens": round(sum(lengths) / len(lengths), 1) if lengths else 0,
              "max_tokens": max(lengths) if lengths else 0, "output": str(args.output) if args.output else None}
    if built is not None:
        report["training_examples"] = len(built.examples)
        report["raft"] = summary(built)
        report["raft_problems"] = [{"line": p.line, "reason": p.reason} for p in built.problems]
        report["preview"] = [e["messages"] for e in built.examples[:args.preview]]
    if args.output:
        if built is None:
            write_jsonl(ds.examples, args.output)
        else:   # the training split in its format; the held-out pairs beside it, plain, for comparing
            write_jsonl(built.examples, args.output)
            report["held_out_output"] = str(write_held(args.output, held))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0 if ds.examples else 1
    print(f"{len(ds.examples)} examples ({len(train)} to train, {len(held)} held out for the comparison), "
          f"{len(ds.problems)} bad rows; about {report['mean_tokens']:.0f} tokens each, at most {report['max_tokens']}.")
    for p in ds.problems:
        print(f"  line {p.line}: {p.reason}")
    if built is not None:
        r = report["raft"]
        print(f"{len(built.examples)} training examples ({args.format}): {r['raft_examples']} RAG-style with "
              f"{args.passages} passages from {args.library}, {r['with_gold']} of them with the passage that holds "
              f"the answer; {r['cut_to_fit']} had distractors cut to fit --seq-len {args.seq_len}.")
        for p in built.problems:
            print(f"  line {p.line}: {p.reason}")
        preview(built.examples, args.preview)
    if long_rows:
        print(f"{len(long_rows)} examples are longer than --seq-len {args.seq_len} and will be cut:")
        for p in long_rows[:20]:
            print(f"  line {p.line}: {p.reason}")
    if args.output and built is None:
        print(f"Wrote {args.output}; train with: bunko finetune run --data {args.output}")
    elif args.output:
        files = " ".join(str(f) for f in args.files)
        print(f"Wrote {args.output} and the held-out pairs to {report['held_out_output']}; train with: bunko "
              f"finetune run --data {files} --library {args.library} --format {args.format} (it builds the same "
              "examples)")
    return 0 if ds.examples else 1


# -- run and follow ------------------------------------------------------------------------

def _settings(args):
    from ..finetune.presets import preset

    changes = {k: v for k, v in (("rank", args.rank), ("alpha", args.alpha), ("learning_rate", args.lr),
                                 ("epochs", args.epochs), ("seq_len", args.seq_len), ("batch", args.batch),
                                 ("max_steps", args.max_steps), ("save_every", args.save_every)) if v is not None}
    if args.no_4bit:
        changes["load_4bit"] = False
    return preset(args.preset, **changes)


def _follow(engine, job, args, secrets) -> int:
    printer = JobPrinter(args.json)
    cancel = CancelToken()
    try:
        job = engine.jobs.follow(job.id, secrets, printer, cancel)
    except KeyboardInterrupt:
        cancel.cancel()
        print(f"\nStopped following. {job.name} goes on training on {job.host.label}; see it with "
              f"`bunko finetune status {job.name} --follow`, stop it with `bunko finetune cancel {job.name}`.",
              file=sys.stderr)
        return 130
    return _final(job, args)


def _final(job, args) -> int:
    if args.json:
        print(json.dumps(_job_dict(job), ensure_ascii=False, default=str))
    elif job.status == "done":
        print(f"Done: adapter {job.adapter!r} on {job.base_model} (final loss {job.loss}). "
              f"Chat with it: bunko ask QUESTION --adapter {job.adapter} --no-rag")
    elif job.status in ("failed", "cancelled"):
        print(f"{job.name}: {job.status}. {job.error or ''}\nResume with `bunko finetune resume {job.name}`; "
              f"remove its files on the host with `bunko finetune clean {job.name}`.", file=sys.stderr)
    return 0 if job.status == "done" else 1


def cmd_run(args) -> int:
    from ..finetune.dataset import read_file

    ds = read_file(args.data)
    for p in ds.problems:
        print(f"skipped line {p.line}: {p.reason}", file=sys.stderr)
    train, held = ds.split(args.eval_share)
    held = held_out_extra(args, held)
    host = parse_host(args.host, args)
    settings = _settings(args)
    with open_engine(args) as engine:
        base = engine.models.get(args.base) if args.base else engine.models.default()
        name = args.name or f"{base.name}-lora-{datetime.now():%Y%m%d-%H%M}"
        built = training_set(engine, args, train, held, settings.seq_len)
        for p in built.problems:
            print(f"no RAG-style example for line {p.line}: {p.reason}", file=sys.stderr)
        info = {"sources": [str(args.data)], "bad_rows": len(ds.problems), "format": args.format}
        if args.format != "plain":
            from ..finetune.raft import summary

            info.update(library=args.library, raft=summary(built), gold_share=args.gold_share,
                        passages=args.passages, seed=args.seed)
        job = engine.jobs.create(name, base.name, built.examples, settings, host, held_out=held,
                                     data_info=info)
        print(f"Job {job.name} (id {job.id}): {len(built.examples)} examples ({args.format}), {len(held)} held "
              f"out, on {host.label}.", file=sys.stderr)
        return _start_and_follow(engine, job, args)


def _start_and_follow(engine, job, args) -> int:
    printer = JobPrinter(args.json)
    holder = {}
    if getattr(args, "estimate", False) or getattr(args, "estimate_only", False):
        e = with_secrets(lambda s: engine.jobs.measure(job.id, s), args)
        print(f"Measured on {job.host.label}: {e['load_s']:.0f} s to load, {e['step_s'][-1]:.1f} s a step "
              f"({e['threads'] or 'GPU'} threads); {e['total_steps']} steps: about {clock(e['estimate_s'])} in all.",
              file=sys.stderr)
        if getattr(args, "estimate_only", False):
            return 0

    def start(secrets):
        holder["secrets"] = secrets
        return engine.jobs.start(job.id, secrets, printer)

    job = with_secrets(start, args)
    if args.detach:
        print(f"{job.name} is training on {job.host.label}; `bunko finetune status {job.name}` shows how far.",
              file=sys.stderr)
        return 0
    return _follow(engine, job, args, holder["secrets"])


def cmd_resume(args) -> int:
    with open_engine(args) as engine:
        return _start_and_follow(engine, engine.jobs.get(args.job), args)


# -- looking at jobs -------------------------------------------------------------------------

def _job_dict(job) -> dict:
    return {"id": job.id, "name": job.name, "base_model": job.base_model, "host": job.host.label,
            "status": job.status, "step": job.step, "total_steps": job.total_steps, "loss": job.loss,
            "eta_s": job.eta_s, "error": job.error, "error_kind": job.error_kind, "adapter": job.adapter,
            "settings": job.settings.to_dict(), "data": job.data, "result": job.result,
            "created_at": job.created_at, "finished_at": job.finished_at}


def cmd_list(args) -> int:
    with open_engine(args) as engine:
        jobs = engine.jobs.list()
    if args.json:
        print(json.dumps([_job_dict(j) for j in jobs], ensure_ascii=False, indent=2, default=str))
        return 0
    if not jobs:
        print("No fine-tuning jobs yet. Start one with: bunko finetune run --data FILE.jsonl")
        return 0
    head = ("ID", "NAME", "BASE", "WHERE", "STATUS", "STEP", "LOSS", "CREATED")
    rows = [(str(j.id), j.name, j.base_model, j.host.label, j.status,
             f"{j.step}/{j.total_steps}" if j.total_steps else "-", f"{j.loss:.4f}" if j.loss is not None else "-",
             f"{j.created_at:%Y-%m-%d %H:%M}") for j in jobs]
    print_table(head, rows)
    return 0


def cmd_status(args) -> int:
    if not args.job:
        return cmd_list(args)
    with open_engine(args) as engine:
        job = engine.jobs.get(args.job)
        if args.follow and job.active:
            return with_secrets(lambda s: _follow(engine, job, args, s), args)
        if job.status in ("running", "converting"):
            try:
                job = with_secrets(lambda s: engine.jobs.sync(job.id, secrets=s), args)
            except BunkoError as exc:
                print(f"(could not reach {job.host.label}: {exc}; showing what was last seen)", file=sys.stderr)
        if args.json:
            print(json.dumps(_job_dict(job), ensure_ascii=False, indent=2, default=str))
            return 0
        print(f"{job.name} (id {job.id}) on {job.host.label}: {job.status}")
        print(f"  base {job.base_model}; preset {job.settings.preset}, rank {job.settings.rank}, "
              f"lr {job.settings.learning_rate}, {job.data.get('train', '?')} examples")
        if job.total_steps:
            eta = f", about {clock(job.eta_s)} left" if job.eta_s and job.active else ""
            print(f"  step {job.step}/{job.total_steps}, loss {job.loss}{eta}")
        if job.error:
            print(f"  {job.error}")
        if job.adapter:
            print(f"  adapter {job.adapter!r}: bunko ask QUESTION --adapter {job.adapter} --no-rag")
    return 0


def cmd_logs(args) -> int:
    with open_engine(args) as engine:
        job = engine.jobs.get(args.job)
        if job.status in ("running", "converting"):
            try:
                with_secrets(lambda s: engine.jobs.sync(job.id, secrets=s), args)
            except BunkoError as exc:
                print(f"(could not reach {job.host.label}: {exc}; the log as last copied)", file=sys.stderr)
        text = engine.jobs.log_text(job.id, args.lines)
        print(text if text else "(no output yet)")
    return 0


def cmd_cancel(args) -> int:
    with open_engine(args) as engine:
        job = with_secrets(lambda s: engine.jobs.cancel(args.job, s), args)
    print(f"{job.name}: {job.status} at step {job.step}. Nothing of it runs on {job.host.label} any more; "
          f"`bunko finetune resume {job.name}` continues from its last checkpoint.")
    return 0


def cmd_clean(args) -> int:
    with open_engine(args) as engine:
        job = engine.jobs.get(args.job)
        with_secrets(lambda s: engine.jobs.clean(job.id, s, forget=args.forget), args)
    print(f"Removed {job.name}'s files on {job.host.label}" + (" and forgot the job." if args.forget else "."))
    return 0


def cmd_compare(args) -> int:
    with open_engine(args) as engine:
        rows = engine.jobs.before_after(args.job, n=args.n)
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        print(f"Q: {r.question}\n  expected: {r.expected}\n  before:   {r.before}\n  after:    {r.after}\n")
    return 0


def cmd_check(args) -> int:
    from ..api import probe_host

    report = with_secrets(lambda s: probe_host(parse_host(args.host, args), s), args)
    if args.json:
        print(json.dumps(report.__dict__, ensure_ascii=False, indent=2))
        return 0 if report.ok else 1
    gpus = ", ".join(f"{g['name']} ({g['memory_mib'] / 1024:.0f} GiB, {g['free_mib'] / 1024:.0f} free)"
                     for g in report.gpus) or "none"
    print(f"{report.label}: {report.system}\n  Python {report.python or 'not found'}\n  GPU {gpus}"
          + (f", driver {report.driver}" if report.driver else "")
          + f"\n  free disk {size_text(report.disk_free_bytes) if report.disk_free_bytes else '?'}"
          f"\n  trainer environment {'ready' if report.env_ready else 'not set up yet (made on the first run)'}")
    for w in report.warnings:
        print("  note: " + w)
    for p in report.problems:
        print("  PROBLEM: " + p)
    return 0 if report.ok else 1


def cmd_setup(args) -> int:
    from ..api import setup_trainer

    kind = "cpu" if args.cpu else "cuda" if args.cuda else None
    started = time.monotonic()

    def line(progress) -> None:
        if args.verbose or not sys.stderr.isatty():
            print(progress.message, file=sys.stderr)
        else:
            sys.stderr.write("\r\033[K" + progress.message[:100])

    with_secrets(lambda s: setup_trainer(parse_host(args.host, args), s, kind, line), args)
    print(f"\nThe trainer's environment is ready ({time.monotonic() - started:.0f} s).")
    return 0


# -- the parser ---------------------------------------------------------------------------------

def _host_options(p) -> None:
    p.add_argument("--host", default="local", help="local (default), an alias from ~/.ssh/config, or user@host[:port]")
    p.add_argument("--key", type=Path, help="SSH private key (default: ~/.ssh/config, the agent, your keys)")
    p.add_argument("--ssh-config", type=Path, help="another ssh_config than ~/.ssh/config")
    p.add_argument("--python", help="the Python that makes the trainer's environment there (default python3)")
    p.add_argument("--env-python", help="use this existing Python environment (with torch) instead of making one")
    p.add_argument("--remote-dir", help="Bunko's folder on the host (default ~/.bunko)")
    p.add_argument("--accept-host-key", metavar="SHA256:...", help="accept an unknown host with this fingerprint")


def add_finetune_parser(sub) -> None:
    p = sub.add_parser("finetune", help="teach a model your data with LoRA, here or on a GPU server over SSH")
    fsub = p.add_subparsers(dest="finetune_command", metavar="ACTION", required=True)

    q = fsub.add_parser("prepare", help="check and join training data (JSONL messages/ShareGPT, CSV Q&A)")
    q.add_argument("files", nargs="*", type=Path)
    q.add_argument("--conversations", action="store_true", help="add this app's own conversations")
    q.add_argument("--eval-share", type=float, default=0.1, help="share held out for the comparison (0.1)")
    q.add_argument("--seq-len", type=int, default=512, help="warn about examples longer than this (tokens)")
    q.add_argument("-o", "--output", type=Path, help="write the good examples here (JSONL)")
    format_options(q)
    q.add_argument("--preview", type=int, default=2, metavar="N", help="show N built examples (2)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_prepare)

    for name, helptext, func in (("run", "start a training job and follow it", cmd_run),
                                 ("resume", "start a failed or cancelled job again from its checkpoint", cmd_resume)):
        r = fsub.add_parser(name, help=helptext)
        if name == "run":
            r.add_argument("--data", type=Path, required=True, help="training examples (JSONL or CSV)")
            r.add_argument("--base", help="the model to teach (default: the default model)")
            r.add_argument("--name", help="job and adapter name (default: <base>-lora-<date>)")
            r.add_argument("--eval-share", type=float, default=0.1)
            r.add_argument("--preset", choices=("quick", "balanced", "thorough"), default="quick")
            for opt, typ in (("--rank", int), ("--alpha", float), ("--lr", float), ("--epochs", int),
                             ("--seq-len", int), ("--batch", int), ("--max-steps", int), ("--save-every", int)):
                r.add_argument(opt, type=typ)
            r.add_argument("--no-4bit", action="store_true", help="load the base in 16 bits on the GPU")
            format_options(r)
            r.add_argument("--estimate", action="store_true",
                           help="time a few of the job's steps on the host first and print the estimate")
            r.add_argument("--estimate-only", action="store_true", help="measure and print the estimate, not train")
            _host_options(r)
        else:
            r.add_argument("job")
            r.add_argument("--accept-host-key", metavar="SHA256:...")
        r.add_argument("--detach", action="store_true", help="start it and return; follow later with status")
        r.add_argument("--json", action="store_true", help="events as JSON lines, then the job")
        r.set_defaults(func=func)

    s = fsub.add_parser("status", help="a job's state (syncs with its host)")
    s.add_argument("job", nargs="?")
    s.add_argument("--follow", action="store_true", help="follow it to the end")
    s.add_argument("--json", action="store_true")
    s.add_argument("--accept-host-key", metavar="SHA256:...")
    s.set_defaults(func=cmd_status)
    s = fsub.add_parser("list", help="all jobs")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)
    s = fsub.add_parser("logs", help="the trainer's output")
    s.add_argument("job")
    s.add_argument("--lines", type=int, default=200)
    s.set_defaults(func=cmd_logs, accept_host_key=None)
    s = fsub.add_parser("cancel", help="stop a job's trainer (its whole process group)")
    s.add_argument("job")
    s.set_defaults(func=cmd_cancel, accept_host_key=None)
    s = fsub.add_parser("clean", help="remove a job's files on its host")
    s.add_argument("job")
    s.add_argument("--forget", action="store_true", help="also forget the job here (the adapter stays)")
    s.set_defaults(func=cmd_clean, accept_host_key=None)
    s = fsub.add_parser("compare", help="held-out questions answered without and with the adapter")
    s.add_argument("job")
    s.add_argument("-n", type=int, default=4)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_compare)
    s = fsub.add_parser("check", help="Test connection: Python, GPU, driver, disk on a host")
    _host_options(s)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_check)
    s = fsub.add_parser("setup", help="make the trainer's environment on a host (needs the internet there)")
    _host_options(s)
    kind = s.add_mutually_exclusive_group()
    kind.add_argument("--cpu", action="store_true", help="torch for the CPU only")
    kind.add_argument("--cuda", action="store_true", help="torch with CUDA and Unsloth")
    s.set_defaults(func=cmd_setup)
