"""`bunko bench finetune`: LoRA training speed on one host (this computer or a GPU server over
SSH), through the real job runner, same model, data, rank, sequence length, batch and steps:

- Bunko's trainer against the same PEFT step loop without Bunko's wrapper
  (trainer/peft_reference.py: no progress lines, yielding, checkpoints or scheduler), run on the
  same job's packed batches right after it, in the same run: the goal is ≥ 0.9×;
- the estimate measured before the job started (`--calibrate`) against its real wall time;
- Unsloth against plain transformers + PEFT (training tokens/s after loading, peak GPU memory).
  Unsloth needs CUDA: on a host without an NVIDIA GPU only PEFT runs and the gap is stated.
"""

from __future__ import annotations

import time

from .. import paths
from ..api import Engine, probe_host
from ..errors import BunkoError
from ..finetune import trainer_env
from ..finetune.measure import estimate_error, measure
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
                      save_every=10 ** 6, threads=args.threads)
    name = f"bench-{backend}-{int(time.time())}"
    base = engine.models.get(args.base) if args.base else engine.models.default()
    job = engine.jobs.create(name, base.name, examples(), settings, host)
    try:
        measured = None
        if not args.no_estimate:
            say(f"{backend}: timing the first steps on {host.label}…")
            measured = measure(engine.jobs, job.id, secrets, steps=2)
        say(f"{backend}: {args.steps} steps on {host.label}…")
        engine.jobs.start(job.id, secrets)
        job = engine.jobs.follow(job.id, secrets)
        steps = engine.jobs.events(job.id, "step")
        if job.status != "done":
            return {"backend": backend, "status": job.status, "error": job.error}
        row = {"backend": backend, "status": "done", "tokens_per_s": steps[-1].tokens_per_s,
               "peak_gpu_bytes": job.result.get("peak_gpu_bytes"), "seconds": job.result.get("seconds"),
               "wall_s": job.result.get("wall_s"), "final_loss": job.loss, "load_4bit": settings.load_4bit,
               "estimate_s": measured["estimate_s"] if measured else None, "estimate_error": estimate_error(job),
               "threads": next((e.threads for e in reversed(engine.jobs.events(job.id, "start"))), None)}
        if backend == "peft" and not args.no_reference:
            say(f"reference: the same {args.steps} steps in a plain PEFT loop…")
            row["reference"] = _reference(engine, job, secrets)
        return row
    finally:
        if engine.jobs.get(job.id).status == "done":
            engine.models.remove(name)
        if not engine.jobs.get(job.id).active:
            engine.jobs.clean(job.id, secrets, forget=True)


def _reference(engine, job, secrets) -> dict:
    """The plain PEFT loop on the same job folder, spec and host (trainer/peft_reference.py)."""
    import json

    host = engine.jobs._connect(job, secrets)
    try:
        where = engine.jobs._job_dir(job, host)
        script = host.join(where, "peft_reference.py")
        host.put(trainer_env.TRAINER_DIR / "peft_reference.py", script)
        done = host.run([trainer_env.env_python(host), script, "--spec", host.join(where, "spec.json")],
                        timeout=6 * 3600)
    finally:
        host.close()
    for line in reversed(done.out.splitlines()):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == "reference":
            return event
    return {"error": (done.err.strip().splitlines() or ["no output"])[-1][:300]}


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
    ref = p.get("reference") or {}
    vs_ref = ratio(p.get("tokens_per_s"), ref.get("tokens_per_s"))
    result = {"bench": "finetune", "host": host_spec.label, "gpus": report.gpus, "machine": machine(),
              "base": args.base or "default",
              "settings": {"steps": args.steps, "seq_len": args.seq_len, "batch": args.batch, "rank": args.rank,
                           "threads": args.threads or "cores - 1"},
              "runs": rows,
              "bunko_vs_plain_peft": {"tokens_per_s": vs_ref, "goal": 0.9,
                                      "met": None if vs_ref is None else vs_ref >= 0.9},
              "estimate_error": {r["backend"]: r.get("estimate_error") for r in rows if r.get("estimate_error")
                                 is not None},
              "unsloth_vs_peft": {"tokens_per_s": ratio(u.get("tokens_per_s"), p.get("tokens_per_s")),
                                  "peak_gpu_memory": ratio(u.get("peak_gpu_bytes"), p.get("peak_gpu_bytes"))}}
    lines = [[r["backend"], r["status"], fmt(r.get("tokens_per_s"), 1),
              fmt(r["peak_gpu_bytes"] / 2 ** 20, 0) if r.get("peak_gpu_bytes") else "-",
              fmt(r.get("wall_s"), 1), fmt(r.get("estimate_s"), 1),
              f"{r['estimate_error']:+.0%}" if r.get("estimate_error") is not None else "-",
              fmt(r.get("final_loss"), 4), (r.get("error") or "")[:60]] for r in rows]
    if ref:
        lines.append(["plain PEFT loop", "done" if "tokens_per_s" in ref else "failed", fmt(ref.get("tokens_per_s"), 1),
                      "-", "-", "-", "-", fmt(ref.get("final_loss"), 4),
                      (ref.get("error") or f"same job's steps, no Bunko wrapper ({fmt(ref.get('seconds'), 1)} s)")[:60]])
    for line, r in zip(lines, rows):
        line.insert(3, fmt(r.get("threads")))
    if ref:
        lines[-1].insert(3, fmt(ref.get("threads")))
    text = table(["trainer", "status", "tokens/s", "threads", "peak GPU MiB", "wall s", "estimate s", "est. error",
                  "final loss", "note"], lines)
    text += (f"\nBunko's trainer / the plain PEFT loop: tokens/s {fmt(vs_ref)}× (goal ≥ 0.9)")
    text += (f"\nUnsloth / PEFT: tokens/s {fmt(result['unsloth_vs_peft']['tokens_per_s'])}×, "
             f"peak GPU memory {fmt(result['unsloth_vs_peft']['peak_gpu_memory'])}×  (host {host_spec.label}, "
             f"GPU {', '.join(g['name'] for g in report.gpus) or 'none'})")
    emit(result, args.json, text)
    return 0 if all(r["status"] in ("done", "skipped") for r in rows) else 1
