"""A retrieval development set made from a folder of Markdown pages (BEIR layout).

Used to tune the English side of search without touching a published test set:

    python -m engine.bench.devset ../shared/data/demo/en-18f-handbook/pages /tmp/en-dev
    bunko eval retrieval --dataset /tmp/en-dev

Passages are the pages' sections (split at `##`/`###` headings; the heading and the
page title are left out of the passage, so a query never finds its own words for
free). Queries are of two kinds, both written by the pages' authors, not by us:

* a section heading of at least three words that names one section only
  ("Getting approval for advanced sick leave"); relevant: that section;
* a page's front-matter `keywords` (the aliases its authors expect people to search
  for, "sick leave, sick, extended leave"); relevant: the page's sections.

With a questions file (`python -m engine.bench.devset PAGES OUT QUESTIONS`), its
questions replace those: JSON lines `{"text", "passage"}`, the passage's id as above.
`data/en_18f_questions.jsonl` holds 21 questions written by hand, each after reading
one section drawn at random from the 18F handbook's (seeded sample of 40), and
labelled with that section alone: small, and, written while reading the passage,
closer to its words than a user's question would be (which favours keyword search).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_HEADING = re.compile(r"^#{2,3}\s+(.+?)\s*#*$", re.M)
_MARKUP = re.compile(r"[*_`#]+|\{%.*?%\}|\[([^\]]*)\]\([^)]*\)")
MIN_CHARS = 80


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _MARKUP.sub(lambda m: m.group(1) or " ", text)).strip()


def build(pages: Path, out: Path, questions: Path | None = None) -> dict:
    corpus, queries, qrels = [], [], []
    headings: dict[str, list[str]] = {}
    for page in sorted(pages.rglob("*.md")):
        raw = page.read_text(encoding="utf-8", errors="replace")
        front = _FRONT.match(raw)
        meta = {}
        if front:
            for line in front.group(1).splitlines():
                key, _, value = line.partition(":")
                meta[key.strip()] = value.strip().strip("\"'")
            raw = raw[front.end():]
        stem = page.relative_to(pages).with_suffix("").as_posix()
        parts = _HEADING.split(raw)  # text, heading, text, heading, text ...
        sections = [(None, parts[0])] + list(zip(parts[1::2], parts[2::2]))
        ids = []
        for i, (heading, body) in enumerate(sections):
            text = _clean(body)
            if len(text) < MIN_CHARS:
                continue
            did = f"{stem}#{i}"
            corpus.append({"_id": did, "title": "", "text": text})
            ids.append(did)
            if heading:
                headings.setdefault(_clean(heading).lower(), []).append(did)
        if ids and meta.get("keywords"):
            qid = f"k:{stem}"
            queries.append({"_id": qid, "text": meta["keywords"]})
            qrels += [(qid, did) for did in ids]
    for heading, dids in sorted(headings.items()):
        if len(dids) == 1 and len(heading.split()) >= 3:
            qid = f"h:{dids[0]}"
            queries.append({"_id": qid, "text": heading})
            qrels.append((qid, dids[0]))
    if questions is not None:
        known = {row["_id"] for row in corpus}
        queries, qrels = [], []
        for n, line in enumerate(questions.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                q = json.loads(line)
                if q["passage"] not in known:
                    raise SystemExit(f"{questions}, line {n}: no passage {q['passage']!r}")
                queries.append({"_id": f"q{n}", "text": q["text"]})
                qrels.append((f"q{n}", q["passage"]))
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in corpus)
    with open(out / "queries.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in queries)
    with open(out / "qrels" / "test.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines(f"{q}\t{d}\t1\n" for q, d in qrels)
    return {"passages": len(corpus), "queries": len(queries), "judgements": len(qrels)}


if __name__ == "__main__":
    print(build(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None))
