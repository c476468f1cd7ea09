"""The comparison table, the recommendation line and the exports (self-contained HTML with
inline SVG charts; CSV with one row per question and arm).

Accuracy is the reference match (see scoring.py). A question is *known* when the base arm
alone answers it correctly, *new* otherwise; the split needs a base arm.
"""

from __future__ import annotations

import csv
import html
import io
import math
import statistics
from collections.abc import Iterable

from . import stats
from .runs import BASE, BOTH, FINETUNED, RAG, AnswerRow, RunInfo
from .questions import Question


def _median(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def summary(run: RunInfo, questions: list[Question], answers: list[AnswerRow],
            asked_later: dict[int, list[Question]] | None = None) -> dict:
    """Per arm: accuracy with its interval (all, known, new), the other scores, speed and
    memory; paired comparisons; freshness rounds; the recommendation."""
    keys = [q.key for q in questions]
    first = {(a.key, a.arm): a for a in answers if a.round == 0}
    arm_names = [a.name for a in run.arms]
    base_right = {k: first[(k, BASE)].scores.get("match", False) for k in keys if (k, BASE) in first}
    known = {k for k, right in base_right.items() if right}
    arms = []
    for arm in run.arms:
        name = arm.name
        rows = [first[(k, name)] for k in keys if (k, name) in first]
        right = [bool(r.scores.get("match")) for r in rows]
        entry = {"arm": name, "answered": len(rows), "rag": arm.rag, "adapter": arm.adapter is not None,
                 **stats.accuracy(right)}
        if base_right:
            entry["known"] = stats.accuracy([bool(r.scores.get("match")) for r in rows if r.key in known])
            entry["new"] = stats.accuracy([bool(r.scores.get("match")) for r in rows if r.key not in known])
        entry["f1"] = _mean(r.scores.get("f1") for r in rows)
        entry["similarity"] = _mean(r.scores.get("similarity") for r in rows)
        grounded = [r.scores["grounded"] for r in rows if "grounded" in r.scores]
        entry["grounded"] = sum(grounded) / len(grounded) if grounded else None
        judged = [r for r in rows if r.scores.get("judge") is not None]
        if judged:
            entry["judge"] = _mean(r.scores["judge"] for r in judged)
            agree = [(r.scores["judge"] >= 0.5) == bool(r.scores.get("match")) for r in judged]
            entry["judge_agreement"] = sum(agree) / len(agree)
        entry["ttft_s"] = _median(r.stats.get("time_to_first_token") for r in rows)
        entry["tokens_per_s"] = _median(r.stats.get("tokens_per_second") for r in rows)
        entry["prompt_tokens"] = _mean(r.stats.get("prompt_tokens") for r in rows)
        entry["seconds"] = _median(r.seconds for r in rows)
        entry["peak_rss_mib"] = max((r.stats.get("rss_mib") or 0 for r in rows), default=None) or None
        arms.append(entry)
    pairs = []
    for i, a in enumerate(arm_names):
        for b in arm_names[i + 1:]:
            common = [k for k in keys if (k, a) in first and (k, b) in first]
            if common:
                pairs.append(stats.compare(a, [bool(first[(k, a)].scores.get("match")) for k in common],
                                           b, [bool(first[(k, b)].scores.get("match")) for k in common]))
    rounds = []
    for info in run.rounds:
        r = info["round"]
        later = [a for a in answers if a.round == r]
        per_arm = {name: stats.accuracy([bool(a.scores.get("match")) for a in later if a.arm == name])
                   for name in arm_names}
        rounds.append({**info, "arms": per_arm, "asked": [q.as_dict() for q in (asked_later or {}).get(r, [])]})
    out = {"run": {"id": run.id, "name": run.name, "status": run.status, "questions": len(keys),
                   "base_model": run.config.base_model, "libraries": list(run.config.libraries),
                   "adapter": run.config.adapter, "job": run.config.job, "max_tokens": run.config.max_tokens,
                   "question_source": run.config.question_source},
           "arms": arms, "pairs": pairs, "prep": run.prep, "freshness": rounds, "known": len(known)}
    parts = recommendation_parts(out)
    out["recommendation_parts"], out["recommendation"] = parts, worded(parts)
    return out


def recommendation_parts(s: dict) -> dict | None:
    """What the recommendation says, as data (the app words it in the user's language): the best
    arm, the arms the paired test says it beats and those it does not, what followed a changed
    document, and which advice applies. None before any answer."""
    arms = [a for a in s["arms"] if a["answered"]]
    if not arms:
        return None
    best = max(arms, key=lambda a: (a["accuracy"], -(a["seconds"] or 0)))
    name = best["arm"]
    kinds = {a["arm"]: a for a in s["arms"]}

    def uses_rag(arm: str) -> bool:   # rag, both, and each more adapter's NAME+rag
        return kinds.get(arm, {}).get("rag", arm in (RAG, BOTH))

    def only_adapter(arm: str) -> bool:   # finetuned and each more adapter without passages
        return not uses_rag(arm) and kinds.get(arm, {}).get("adapter", arm == FINETUNED)

    other = [(p, p["a"] if p["b"] == name else p["b"]) for p in s["pairs"] if name in (p["a"], p["b"])]
    parts: dict = {"best": name, "accuracy": best["accuracy"], "answered": best["answered"],
                   "beaten": [o for p, o in other if p["winner"] == name],
                   "tied": [o for p, o in other if p["winner"] is None],
                   "followed": [], "reindex_s": None, "retrain": None, "retrain_detail": None,
                   "advice": None}
    fresh = s.get("freshness") or []
    if fresh:
        last = fresh[-1]["arms"]
        asked = [a["arm"] for a in s["arms"] if a["arm"] in last and last[a["arm"]]["n"]]
        follows = [n for n in asked if uses_rag(n) and last[n]["accuracy"] > 0.5]
        stale = [n for n in asked if only_adapter(n) and last[n]["accuracy"] <= 0.5]
        if follows and stale:
            parts.update(followed=follows, reindex_s=fresh[-1]["reindex_s"], retrain=fresh[-1].get("retrain_estimate"),
                         retrain_detail=fresh[-1].get("retrain"))
    if uses_rag(name) and any(only_adapter(a["arm"]) for a in arms):
        parts["advice"] = "prefer_rag"
    elif only_adapter(name) and RAG in parts["tied"]:
        parts["advice"] = "rag_not_worse"
    elif only_adapter(name):
        parts["advice"] = "adapter_pays"
    return parts


ADVICE = {"prefer_rag": "Prefer RAG when documents change often; fine-tune for style and format",
          "rag_not_worse": "RAG is not clearly worse and follows changed documents without retraining",
          "adapter_pays": "The adapter pays off here; retrain it when the facts change"}


def worded(parts: dict | None) -> str:
    """recommendation_parts as one English line (the CLI and the exports): the best arm, and only
    the differences that the paired test supports."""
    if parts is None:
        return "No answers yet."
    line = f"{parts['best']} answers best ({parts['accuracy']:.0%} of {parts['answered']})"
    if parts["beaten"]:
        line += "; clearly better than " + ", ".join(parts["beaten"])
    if parts["tied"]:
        line += "; not clearly better than " + ", ".join(parts["tied"]) + " on this many questions"
    if parts["followed"]:
        line += (f". After a document changed, {', '.join(parts['followed'])} followed after re-indexing "
                 f"({parts['reindex_s']:.1f} s); the adapter did not (retraining: "
                 f"{parts['retrain'] or 'see the training estimate'})")
    if parts["advice"]:
        line += ". " + ADVICE[parts["advice"]]
    return line + "."


def jsonable(value):
    """The summary for JSON: NaN (no answers in a group yet) becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


# -- exports --------------------------------------------------------------------

CSV_HEAD = ("round", "key", "question", "references", "source", "arm", "answer", "match", "f1", "similarity",
            "grounded", "judge", "known", "time_to_first_token", "tokens_per_second", "prompt_tokens", "seconds",
            "cited_sources")


# A spreadsheet runs a cell that begins with one of these as a formula (=HYPERLINK, =cmd|…): the
# texts come from documents, questions and models, so such a cell is written with a leading '.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value):
    """`value` as a spreadsheet shows it, never as a formula it would run."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, buf) -> None:
        self._out = csv.writer(buf)

    def writerow(self, row) -> None:
        self._out.writerow([safe_cell(v) for v in row])


def to_csv(questions_by_round: dict[int, list[Question]], answers: list[AnswerRow], known: set[str]) -> str:
    buf = io.StringIO()
    out = _SafeWriter(buf)
    out.writerow(CSV_HEAD)
    qs = {(r, q.key): q for r, items in questions_by_round.items() for q in items}
    for a in sorted(answers, key=lambda a: (a.round, a.key, a.arm)):
        q = qs.get((a.round, a.key))
        if q is None:
            continue
        cited = "; ".join(s["path"] + (f" ({s['location']})" if s.get("location") else "")
                          for s in a.sources if s.get("cited"))
        out.writerow([a.round, a.key, q.text, " | ".join(q.references), q.source or "", a.arm, a.text,
                      int(bool(a.scores.get("match"))), a.scores.get("f1", ""), a.scores.get("similarity", ""),
                      "" if "grounded" not in a.scores else int(a.scores["grounded"]),
                      "" if a.scores.get("judge") is None else a.scores["judge"], int(a.key in known),
                      a.stats.get("time_to_first_token", ""), a.stats.get("tokens_per_second", ""),
                      a.stats.get("prompt_tokens", ""), a.seconds, cited])
    return buf.getvalue()


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.0%}"


def _num(x, fmt="{:.2f}") -> str:
    return "–" if x is None else fmt.format(x)


def accuracy_chart(arms: list[dict]) -> str:
    """Bars of accuracy per arm with their 95 % intervals, as inline SVG."""
    w, h, pad, bar = 60 + 90 * max(1, len(arms)), 220, 30, 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="accuracy per arm">',
             f'<line x1="{pad}" y1="{h - pad}" x2="{w}" y2="{h - pad}" stroke="#444"/>']
    scale = h - 2 * pad
    for i, a in enumerate(arms):
        x = pad + 20 + i * 90
        acc = 0.0 if math.isnan(a["accuracy"]) else a["accuracy"]
        y = h - pad - acc * scale
        parts.append(f'<rect x="{x}" y="{y:.1f}" width="{bar}" height="{acc * scale:.1f}" fill="#4a7ab5"/>')
        lo, hi = a["ci"]
        if not math.isnan(lo):
            x0 = x + bar / 2
            parts.append(f'<line x1="{x0}" y1="{h - pad - lo * scale:.1f}" x2="{x0}" y2="{h - pad - hi * scale:.1f}" '
                         'stroke="#000" stroke-width="2"/>')
        parts.append(f'<text x="{x + bar / 2}" y="{h - 10}" font-size="12" text-anchor="middle">'
                     f'{html.escape(a["arm"])}</text>')
        parts.append(f'<text x="{x + bar / 2}" y="{y - 4:.1f}" font-size="11" text-anchor="middle">{_pct(a["accuracy"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def speed_chart(arms: list[dict]) -> str:
    """Seconds per answer (x) against accuracy (y), one dot per arm."""
    w, h, pad = 420, 240, 40
    top = max([a["seconds"] or 0 for a in arms] + [0.001]) * 1.15
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             'aria-label="speed against accuracy">',
             f'<line x1="{pad}" y1="{h - pad}" x2="{w - 10}" y2="{h - pad}" stroke="#444"/>',
             f'<line x1="{pad}" y1="10" x2="{pad}" y2="{h - pad}" stroke="#444"/>',
             f'<text x="{w / 2}" y="{h - 8}" font-size="11" text-anchor="middle">seconds per answer (median)</text>',
             f'<text x="12" y="{h / 2}" font-size="11" transform="rotate(-90 12 {h / 2})" text-anchor="middle">accuracy</text>']
    for a in arms:
        acc = 0.0 if math.isnan(a["accuracy"]) else a["accuracy"]
        x = pad + (a["seconds"] or 0) / top * (w - pad - 20)
        y = h - pad - acc * (h - pad - 20)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#b5584a"/>')
        parts.append(f'<text x="{x + 7:.1f}" y="{y - 6:.1f}" font-size="11">{html.escape(a["arm"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _cost(key: str, value) -> str:
    if "bytes" in key and isinstance(value, (int, float)):
        return f"{value / 1024 ** 2:.1f} MiB"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def to_markdown(s: dict) -> str:
    """The table, the paired tests, preparation and freshness as Markdown (for notes and docs)."""
    run = s["run"]
    out = [f"### {run['name']}", "",
           f"{run['questions']} questions, base model {run['base_model']}, libraries "
           f"{', '.join(run['libraries']) or '–'}, greedy, at most {run['max_tokens']} tokens. "
           f"Base-right questions (the lab's *known*): {s['known']}.", "",
           "| arm | answered | accuracy [95 % CI] | base-right | base-wrong | F1 | grounded | TTFT s | tokens/s "
           "| prompt tokens | RSS MiB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for a in s["arms"]:
        kn, nw = a.get("known"), a.get("new")
        out.append("| " + " | ".join((
            a["arm"], str(a["answered"]), f'{_pct(a["accuracy"])} [{_pct(a["ci"][0])}–{_pct(a["ci"][1])}]',
            _pct(kn["accuracy"]) if kn else "–", _pct(nw["accuracy"]) if nw else "–", _num(a["f1"]),
            _pct(a["grounded"]), _num(a["ttft_s"]), _num(a["tokens_per_s"], "{:.1f}"),
            _num(a["prompt_tokens"], "{:.0f}"), _num(a["peak_rss_mib"], "{:.0f}"))) + " |")
    out += ["", "| difference | accuracy | 95 % CI | p (exact McNemar) | verdict |", "|---|---|---|---|---|"]
    out += [f"| {p['b']} − {p['a']} | {p['diff']:+.0%} | [{p['ci'][0]:+.0%}, {p['ci'][1]:+.0%}] | {p['p']:.3g} "
            f"| {p['verdict']} |" for p in s["pairs"]]
    out.append("")
    out += [f"- preparation, {k}: " + (", ".join(f"{kk} {_cost(kk, vv)}" for kk, vv in v.items() if vv is not None)
                                       if isinstance(v, dict) else str(v)) for k, v in s["prep"].items()]
    for f in s["freshness"]:
        out.append(f"- freshness round {f['round']}: re-indexed in {f['reindex_s']:.2f} s, {f['questions']} "
                   "questions asked again: " + ", ".join(f"{k} {_pct(v['accuracy'])}" for k, v in f["arms"].items())
                   + (f"; retraining the adapter: {f['retrain_estimate']}" if f.get("retrain_estimate") else ""))
    out += ["", f"*{s['recommendation']}*", ""]
    return "\n".join(out)


def to_html(s: dict, questions: list[Question], answers: list[AnswerRow]) -> str:
    """One self-contained page: summary table, charts, paired tests, freshness, every answer."""
    e = html.escape
    run = s["run"]
    rows = []
    for a in s["arms"]:
        kn, nw = a.get("known"), a.get("new")
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in (
            e(a["arm"]), a["answered"], f'{_pct(a["accuracy"])} [{_pct(a["ci"][0])}–{_pct(a["ci"][1])}]',
            _pct(kn["accuracy"]) if kn else "–", _pct(nw["accuracy"]) if nw else "–",
            _num(a["f1"]), _num(a["similarity"]), _pct(a["grounded"]), _num(a.get("judge")),
            _num(a["ttft_s"]), _num(a["tokens_per_s"], "{:.1f}"), _num(a["prompt_tokens"], "{:.0f}"),
            _num(a["peak_rss_mib"], "{:.0f}"))) + "</tr>")
    pairs = "".join(f"<tr><td>{e(p['b'])} − {e(p['a'])}</td><td>{p['diff']:+.0%}</td>"
                    f"<td>[{p['ci'][0]:+.0%}, {p['ci'][1]:+.0%}]</td><td>{p['p']:.3g}</td><td>{e(p['verdict'])}</td></tr>"
                    for p in s["pairs"])
    fresh = "".join(f"<li>round {f['round']}: re-indexed in {f['reindex_s']:.2f} s, {f['questions']} questions asked "
                    f"again — " + ", ".join(f"{e(k)} {_pct(v['accuracy'])}" for k, v in f["arms"].items())
                    + (f"; retraining the adapter: {e(str(f['retrain_estimate']))}" if f.get("retrain_estimate") else "")
                    + "</li>" for f in s["freshness"])
    by = {(a.key, a.arm, a.round): a for a in answers}
    arm_names = [a["arm"] for a in s["arms"]]
    detail = []
    for q in questions:
        cells = []
        for name in arm_names:
            a = by.get((q.key, name, 0))
            if a is None:
                cells.append("<td>–</td>")
                continue
            mark = "✔" if a.scores.get("match") else "✘"
            cited = ", ".join(e(x["path"]) for x in a.sources if x.get("cited"))
            cells.append(f"<td><b>{mark}</b> {e(a.text)}<br><small>F1 {a.scores.get('f1', 0):.2f}"
                         + (f", sources: {cited}" if cited else "") + "</small></td>")
        detail.append(f"<tr><td>{e(q.text)}<br><small>ref: {e(' | '.join(q.references))}</small></td>{''.join(cells)}</tr>")
    for f in s["freshness"]:  # what each arm answered after the change
        for q in f.get("asked", []):
            cells = []
            for name in arm_names:
                a = by.get((q["key"], name, f["round"]))
                cells.append("<td>–</td>" if a is None else
                             f"<td><b>{'✔' if a.scores.get('match') else '✘'}</b> {e(a.text)}</td>")
            detail.append(f"<tr><td>round {f['round']}: {e(q['question'])}<br><small>ref: "
                          f"{e(' | '.join(q['references']))}</small></td>{''.join(cells)}</tr>")
    prep = "".join(f"<li><b>{e(k)}</b>: {e(', '.join(f'{kk} {vv}' for kk, vv in v.items()) if isinstance(v, dict) else str(v))}</li>"
                   for k, v in s["prep"].items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Bunko comparison: {e(run['name'])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 6px;vertical-align:top}}</style>
</head><body>
<h1>Comparison: {e(run['name'])}</h1>
<p>{run['questions']} questions ({e(run['question_source'] or '')}), base model {e(run['base_model'])},
libraries {e(', '.join(run['libraries']) or '–')}, adapter {e(run['adapter'] or '–')}; greedy, at most {run['max_tokens']} tokens.
Known questions (the base model alone is right): {s['known']}.</p>
<p><b>{e(s['recommendation'])}</b></p>
<table><tr><th>arm</th><th>answered</th><th>accuracy [95 % CI]</th><th>known</th><th>new</th><th>F1</th>
<th>similarity</th><th>grounded</th><th>judge</th><th>TTFT s</th><th>tokens/s</th><th>prompt tokens</th><th>RSS MiB</th></tr>
{''.join(rows)}</table>
<h2>Charts</h2>{accuracy_chart(s['arms'])} {speed_chart(s['arms'])}
<h2>Differences (paired: exact McNemar, bootstrap interval)</h2>
<table><tr><th>difference</th><th>accuracy</th><th>95 % CI</th><th>p</th><th>verdict</th></tr>{pairs}</table>
<h2>Preparation</h2><ul>{prep}</ul>
<h2>Freshness</h2><ul>{fresh or '<li>not measured</li>'}</ul>
<h2>Every question</h2>
<table><tr><th>question</th>{''.join(f'<th>{e(n)}</th>' for n in arm_names)}</tr>{''.join(detail)}</table>
</body></html>
"""
