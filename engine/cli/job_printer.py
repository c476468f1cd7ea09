"""A fine-tuning job's events as lines for `bunko finetune run|status --follow`."""

from __future__ import annotations

import json
import sys

from ..timefmt import clock
from ..timefmt import size as size_text


class JobPrinter:
    """Trainer events as lines: a step line per step (one redrawn line on a terminal)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json, self.tty = as_json, sys.stderr.isatty() and not as_json
        self._last_upload = -1

    def __call__(self, progress) -> None:
        e = progress.item
        if self.as_json:
            print(json.dumps(e.raw, ensure_ascii=False), flush=True)
            return
        kind = e.kind
        if kind == "step":
            eta = f"  time left {clock(e.eta_s)}" if e.eta_s is not None else ""
            loss = e.loss if e.loss is not None else float("nan")
            line = (f"step {e.step}/{e.total if e.total is not None else '?'}  loss {loss:.4f}  "
                    f"{e.tokens_per_s or 0:.0f} tokens/s{eta}")
            self._line(line, final=e.step == e.total)
        elif kind == "upload":
            pct = int(100 * e.done / e.total) if e.total else 100
            if pct // 10 != self._last_upload:
                self._last_upload = pct // 10
                self._line(f"uploading the base model: {pct}% of {size_text(e.total or 0)}", final=pct == 100)
        elif kind == "status":
            text = {"setup": "setting up the trainer's environment on the host (first time: minutes)",
                    "uploading": "uploading the data", "running": "training started",
                    "converting": "converting the adapter for llama.cpp",
                    "connection_lost": f"connection lost — retrying in {e.retry_s:.0f} s; "
                                       "training goes on on the host",
                    "reconnected": "reconnected"}.get(e.status, e.status)
            if e.status != "done":
                self._line(text, final=True)
        elif kind == "setup":
            if self.tty:
                self._line(("pip: " + (e.line or ""))[:100], final=False)
        elif kind == "start":
            resumed = f", resumed at step {e.resumed_from}" if e.resumed_from else ""
            self._line(f"{e.examples} examples, {e.total_steps} steps on "
                       f"{'the GPU' if e.cuda else 'the CPU'} with {e.backend}{resumed}", final=True)
        elif kind == "error":
            self._line(f"trainer error ({e.error_kind}): {e.message[:300]}", final=True)
        elif kind == "probe":
            for w in e.report.get("warnings", []):
                self._line("note: " + w, final=True)

    def _line(self, text: str, final: bool) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()
