"""`bunko bench finetune`: the trainer with Unsloth against plain transformers + PEFT, same
model, data, rank, sequence length, batch and steps, on one host (this computer or a GPU
server over SSH), through the real job runner. Reported: training tokens/s (after the
model is loaded) and peak GPU memory, Unsloth as a ratio of PEFT measured in the same run.
Unsloth needs CUDA: on a host without an NVIDIA GPU only PEFT runs and the gap is stated.
"""

from __future__ import annotations

import time

from .. import paths
from ..api import Engine, probe_host
from ..errors import BunkoError
from ..finetune.presets import preset
from .common import emit, fmt, machine, pool_sentences, ratio, say, table


def examples(count: int = 64) -> list[dict]:
    """Question/answer pairs of a few hundred tokens, Japanese and English mixed."""
    pool = pool_sentences()
    rows = []
    for i in range(count):
        answer = " ".join(pool[(i * 7 + j) % len(pool)] for j in range(8))
        rows.append({"messages": [{"role": "user", "content": f"Summarise section {i} of the handbook."},
                                  {"role": "assistant", "content": answer}]})
    return rows


def _one(engine, backend: str, host, args, secrets) -> dict:
    settings = preset("quick", max_steps=args.steps, seq_len=args.seq_len, batch=args.batch, rank=args.rank,
                      alpha=2 * args.rank, backend=backend, load_4bit=backend == "unsloth" and not args.no_4bit,
                      save_every=10 ** 6)
    name = f"bench-{backend}-{int(time.time())}"
    base = engine.models.get(args.base) if args.base else engine.models.default()
    job = engine.jobs.create(name, base.name, examples(), settings, host)
    say(f"{backend}: {args.steps} steps on {host.label}…")
    try:
        engine.jobs.start(job.id, secrets)
        job = engine.jobs.follow(job.id, secrets)
        steps = engine.jobs.events(job.id, "step")
        if job.status != "done":
            return {"backend": backend, "status": job.status, "error": job.error}
        return {"backend": backend, "status": "done", "tokens_per_s": steps[-1].tokens_per_s,
                "peak_gpu_bytes": job.result.get("peak_gpu_bytes"), "seconds": job.result.get("seconds"),
                "final_loss": job.loss, "load_4bit": settings.load_4bit}
    finally:
        if engine.jobs.get(job.id).status == "done":
            engine.models.remove(name)
        if not engine.jobs.get(job.id).active:
            engine.jobs.clean(job.id, secrets, forget=True)


def run_finetune_bench(args, host_spec, with_secrets) -> int:
    """`host_spec` and `with_secrets` (which asks for a passphrase or a host key at the
    terminal) come from the command line that calls this."""
    with Engine.open(getattr(args, "db", None) or paths.default_db_path()) as engine:
        report, secrets = with_secrets(lambda s: (probe_host(host_spec, s), s), args)
        rows = []
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            if backend == "unsloth" and not report.gpus:
                rows.append({"backend": backend, "status": "skipped",
                             "error": f"Unsloth needs an NVIDIA GPU; {report.label} has none"})
                continue
            try:
                rows.append(_one(engine, backend, host_spec, args, secrets))
            except BunkoError as exc:
                rows.append({"backend": backend, "status": "failed", "error": str(exc)})
    by = {r["backend"]: r for r in rows}
    u, p = by.get("unsloth", {}), by.get("peft", {})
    result = {"bench": "finetune", "host": host_spec.label, "gpus": report.gpus, "machine": machine(),
              "settings": {"steps": args.steps, "seq_len": args.seq_len, "batch": args.batch, "rank": args.rank},
              "runs": rows,
              "unsloth_vs_peft": {"tokens_per_s": ratio(u.get("tokens_per_s"), p.get("tokens_per_s")),
                                  "peak_gpu_memory": ratio(u.get("peak_gpu_bytes"), p.get("peak_gpu_bytes"))}}
    text = table(["backend", "status", "tokens/s", "peak GPU MiB", "seconds", "final loss", "note"],
                 [[r["backend"], r["status"], fmt(r.get("tokens_per_s"), 1),
                   fmt(r["peak_gpu_bytes"] / 2 ** 20, 0) if r.get("peak_gpu_bytes") else "-",
                   fmt(r.get("seconds"), 1), fmt(r.get("final_loss"), 4), (r.get("error") or "")[:60]]
                  for r in rows])
    text += (f"\nUnsloth / PEFT: tokens/s {fmt(result['unsloth_vs_peft']['tokens_per_s'])}×, "
             f"peak GPU memory {fmt(result['unsloth_vs_peft']['peak_gpu_memory'])}×  (host {host_spec.label}, "
             f"GPU {', '.join(g['name'] for g in report.gpus) or 'none'})")
    emit(result, args.json, text)
    return 0 if all(r["status"] in ("done", "skipped") for r in rows) else 1
