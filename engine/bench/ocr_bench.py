"""`bunko bench ocr` and `bunko eval ocr`.

The bench reads generated scanned pages (engine/bench/ocr_pages.py) through the
whole pipeline (the worker process, orientation, detection, recognition,
reading order) and, in the same run, through the two models alone on the same
pages (detection once, recognition of the boxes found, no orientation check,
no ordering, no process boundary): the ratio is the pipeline's overhead.

The eval indexes a folder of scans with truth.jsonl into a fresh library and
reports, per layout, the character error rate, the share of answers found word
for word, the share of questions whose page comes back in the top 4, and
seconds per page.
"""

from __future__ import annotations

import io
import json
import tempfile
import time
from pathlib import Path

from ..errors import DatasetError
from ..store import scalar
from . import common
from . import ocr_pages as gen


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def run_ocr_bench(args) -> int:
    from ..ingest.ocr import detect, models, recognize
    from ..ingest.ocr.client import OcrWorker, read_pages
    from ..ingest.ocr.page import cap

    threads = args.threads
    pages = gen.standard_pages(args.seed)
    common.say(f"{len(pages)} generated pages; warming up the OCR worker and the models")
    worker = OcrWorker(threads=threads)
    det = models.session(models.DET, threads)
    rec = models.session(models.REC, threads)
    rows, per_page = [], []
    try:
        read_pages(worker, "image", _png(pages[0].image), None)  # start-up is not a page's time
        for page in pages:
            data = _png(page.image)
            t0 = time.perf_counter()
            _, result = read_pages(worker, "image", data, None)
            pipeline_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            image = cap(page.image)
            boxes = detect.detect(det, image)
            recognize.recognize(rec, [recognize.crop(image, b, b.h > 1.5 * b.w) for b in boxes])
            models_s = time.perf_counter() - t0
            text = result[1]["text"]
            per_page.append({"page": page.name, "layout": page.layout, "degrade": page.degrade,
                             "rotation": page.rotation, "cer": round(gen.cer(text, page.text), 4),
                             "confidence": result[1]["confidence"], "pipeline_s": round(pipeline_s, 3),
                             "models_s": round(models_s, 3)})
            common.say(f"  {page.name}: CER {per_page[-1]['cer']:.3f}, {pipeline_s:.2f} s")
        peak = _peak_mb(worker.pid)
    finally:
        worker.close()
    layouts: dict[str, dict] = {}
    for layout in sorted({p["layout"] for p in per_page}) + ["all"]:
        chosen = [p for p in per_page if layout in ("all", p["layout"])]
        pipeline = sum(p["pipeline_s"] for p in chosen)
        alone = sum(p["models_s"] for p in chosen)
        layouts[layout] = {"pages": len(chosen), "cer": round(sum(p["cer"] for p in chosen) / len(chosen), 4),
                           "pages_per_min": round(60 * len(chosen) / pipeline, 2) if pipeline else None,
                           "models_pages_per_min": round(60 * len(chosen) / alone, 2) if alone else None,
                           "overhead": common.ratio(pipeline, alone)}
    a4 = next((p for p in per_page if p["page"] == "a4_full"), None)
    summary = {"bench": "ocr", "threads": threads, "machine": common.machine(), "layouts": layouts,
              "pages": per_page, "goal_overhead": 1.2, "worker_peak_mb": peak,
              "a4_s_per_page": a4["pipeline_s"] if a4 else None,
              "meets_goal": (layouts["all"]["overhead"] or 99) <= 1.2}
    rows = [[name, v["pages"], f"{v['cer']:.3f}", v["pages_per_min"], v["models_pages_per_min"], v["overhead"]]
            for name, v in layouts.items()]
    text = ("OCR on generated scanned pages: the whole pipeline against the models alone, same pages, same run\n\n"
            + common.table(["layout", "pages", "CER", "pages/min", "models alone pages/min", "overhead ×"], rows)
            + f"\n\nA4 page (200 dpi, 34 lines): {common.fmt(summary['a4_s_per_page'])} s (goal ≤ 3 s on two cores); "
            f"the OCR worker's peak memory: {common.fmt(peak, 0)} MB (goal ≤ 1024)"
            + f"\noverhead goal ≤ 1.2×: {'met' if summary['meets_goal'] else 'not met'}"
            + " (the pipeline adds the orientation check, turning the page, the reading order"
            " and the worker process)\n")
    common.emit(summary, args.json, text)
    return 0


def _peak_mb(pid: int | None) -> float | None:
    """The worker's peak resident memory (Linux: VmHWM), in MB."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, TypeError):
        pass
    return None


def load_truth(folder: Path) -> list[dict]:
    path = folder / "truth.jsonl"
    if not path.is_file():
        raise DatasetError(f"{path} is missing: the dataset needs one line per file with its page_text and layout")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            row["file"], row["page_text"]
        except (ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{path}, line {number}: needs a JSON object with 'file' and 'page_text'") from exc
        if not (folder / row["file"]).is_file():
            raise DatasetError(f"{path}, line {number}: the file {row['file']} is not in {folder}")
        rows.append(row)
    if not rows:
        raise DatasetError(f"{path} has no lines")
    return rows


def run_ocr_eval(args) -> int:
    from ..api import Engine

    folder = Path(args.dataset)
    if args.generate:
        count = gen.write_dataset(folder)
        common.say(f"wrote {count} generated pages and truth.jsonl to {folder}")
    truth = load_truth(folder)
    with tempfile.TemporaryDirectory(prefix="bunko-eval-ocr-") as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        for row in truth:
            (docs / row["file"]).write_bytes((folder / row["file"]).read_bytes())
        with Engine.open(Path(tmp) / "eval.duckdb", getattr(args, "embedder", None)) as engine:
            lib = engine.libraries.add(docs, "ocr-eval")
            common.say(f"indexing {len(truth)} files (OCR)")
            t0 = time.perf_counter()
            engine.libraries.index(lib.name)
            seconds = time.perf_counter() - t0
            n_pages = scalar(engine._store.con, "SELECT count(*) FROM ocr_pages") or 1
            texts = dict(engine._store.con.execute(
                "SELECT d.path, string_agg(c.text, '\n' ORDER BY c.ord) FROM documents d "
                "LEFT JOIN chunks c ON c.document_id = d.id GROUP BY d.path").fetchall())
            per_file = []
            for row in truth:
                found = texts.get(row["file"]) or ""
                answers = retrieved = 0
                for q in row.get("questions") or []:
                    answers += gen.normalise(q["answer"]) in gen.normalise(found)
                    hits = engine.search(q["question"], k=4)
                    retrieved += any(h.path == row["file"] for h in hits)
                per_file.append({"file": row["file"], "layout": row.get("layout", "horizontal"),
                                 "cer": round(gen.cer(found, row["page_text"]), 4),
                                 "questions": len(row.get("questions") or []), "answers_found": answers,
                                 "retrieved_at_4": retrieved})
    s_per_page = seconds / n_pages
    layouts = {}
    for layout in sorted({f["layout"] for f in per_file}) + ["all"]:
        chosen = [f for f in per_file if layout in ("all", f["layout"])]
        questions = sum(f["questions"] for f in chosen)
        layouts[layout] = {
            "files": len(chosen), "cer": round(sum(f["cer"] for f in chosen) / len(chosen), 4),
            "answers_found": round(sum(f["answers_found"] for f in chosen) / questions, 3) if questions else None,
            "retrieved_at_4": round(sum(f["retrieved_at_4"] for f in chosen) / questions, 3) if questions else None,
            "s_per_page": round(s_per_page, 2)}
    result = {"eval": "ocr", "dataset": str(folder), "pages": n_pages, "index_seconds": round(seconds, 2),
              "layouts": layouts, "files": per_file}
    rows = [[name, v["files"], f"{v['cer']:.3f}", v["answers_found"], v["retrieved_at_4"], v["s_per_page"]]
            for name, v in layouts.items()]
    text = (f"OCR on {folder} ({n_pages} pages; seconds per page: whole indexing time / pages)\n\n"
            + common.table(["layout", "files", "CER", "answers found", "retrieved@4", "s/page"], rows) + "\n")
    common.emit(result, args.json, text)
    return 0


def add_parsers(bsub, esub, cmd) -> None:
    b = bsub.add_parser("ocr", help="OCR pages per minute against the recognition models alone, and CER")
    b.add_argument("--threads", type=int, default=2, help="CPU threads for the models (default 2)")
    b.add_argument("--seed", type=int, default=0, help="which generated pages (default 0)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=lambda args: run_ocr_bench(args))
    e = esub.add_parser("ocr", help="OCR quality on scanned pages with truth.jsonl: CER, answers, retrieval")
    e.add_argument("--dataset", type=Path, required=True, help="folder of PDFs/pictures with truth.jsonl")
    e.add_argument("--generate", action="store_true", help="first write generated pages and truth.jsonl there")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=lambda args: run_ocr_eval(args))
