"""What both benches share: deterministic Japanese/English text, timing stats, memory, output.

The text comes from a fixed vocabulary: 就業規則-style clauses and English
employee-handbook sentences built from templates ("pool" sentences, a few
hundred of them), plus "detail" sentences whose content words are drawn with a
Zipf law from a large generated vocabulary of kanji compounds, katakana words,
English words and numbers, so term frequencies have the long tail of real text.
Everything is seeded: the same arguments give the same bytes on every machine.
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import statistics
import sys

import numpy as np

# -- vocabulary ----------------------------------------------------------------

_JA_SUBJ = ["従業員", "社員", "管理職", "契約社員", "パートタイム労働者", "派遣労働者", "新入社員",
            "所属長", "人事部長", "役員", "嘱託社員", "試用期間中の者"]
_JA_TOPIC = ["勤務時間", "休憩時間", "時間外労働", "休日出勤", "年次有給休暇", "育児休業", "介護休業",
             "慶弔休暇", "通勤手当", "住宅手当", "出張旅費", "退職金", "賞与", "健康診断", "個人情報",
             "機密情報", "服務規律", "懲戒処分", "在宅勤務", "副業", "社用車の使用", "備品の管理",
             "情報機器の持ち出し", "災害時の対応", "ハラスメントの防止"]
_JA_RULE = ["別に定めるところによる", "事前に所属長の承認を得なければならない", "遅滞なく会社に報告しなければならない",
            "就業規則の定めに従うものとする", "人事部に届け出るものとする", "会社が必要と認めた場合に限り認める",
            "労使協定の範囲内で行うものとする", "書面により申請しなければならない"]
_JA_WHEN = ["前日", "三日前", "一週間前", "翌月五日", "毎月末日", "四半期末", "事由発生後速やか"]
_JA_DOC = ["申請書", "報告書", "届出書", "診断書", "精算書", "誓約書", "始末書", "勤務表"]
_JA_DEPT = ["人事部", "総務部", "経理部", "所属長", "情報システム部", "法務部"]
_JA_COND = ["勤続年数", "職務の内容", "勤務成績", "出勤率", "雇用形態", "業務の必要性"]
_JA_REGION = ["国内", "海外", "東京都内", "近畿地方", "離島", "北米", "アジア地域"]
_JA_TEMPLATES = [
    "第{n}条　{subj}の{topic}については、{rule}。",
    "{subj}は、{topic}を希望するときは、{when}までに{doc}を{dept}に提出しなければならない。",
    "{topic}の日数は、{cond}に応じて年{days}日とする。",
    "会社は、{subj}が{topic}に関する規定に違反した場合には、懲戒処分を行うことがある。",
    "出張の日当は、{region}については一日につき{amount}円とする。",
    "{subj}は、業務上知り得た{topic}に関する情報を他に漏らしてはならない。",
    "{topic}に要した費用は、{doc}を{dept}に提出したうえで精算する。",
    "{subj}の{topic}は、{cond}を考慮して{dept}が決定する。",
    "前項の規定にかかわらず、{subj}については{topic}の適用を除外することができる。",
    "{topic}の取扱いは、{region}と{region2}とで異なる場合がある。",
    "{subj}が{topic}を取得したときは、その期間を勤続年数に通算する。",
    "第{n}条第{m}項に定める{topic}は、{when}に支給する。",
]
_EN_SUBJ = ["Employees", "Managers", "Contractors", "New hires", "Part-time staff", "Team leaders",
            "Interns", "Remote workers"]
_EN_TOPIC = ["paid leave", "overtime work", "business travel", "expense claims", "parental leave",
             "the annual health check", "remote work", "confidential information", "personal data",
             "company equipment", "the commuting allowance", "performance reviews", "the year-end bonus",
             "security incidents", "side jobs", "workplace harassment"]
_EN_DOC = ["the request form", "a written report", "the expense sheet", "a medical certificate",
           "the approval form", "a timesheet"]
_EN_DEPT = ["Human Resources", "the finance team", "their manager", "the IT department", "General Affairs",
            "the legal team"]
_EN_WHEN = ["the end of the month", "Friday", "the previous day", "three business days in advance",
            "the end of the quarter"]
_EN_TEMPLATES = [
    "{subj} must submit {doc} to {dept} by {when}.",
    "Requests for {topic} are approved by {dept} according to the handbook.",
    "The daily allowance for business trips in {region} is {amount} yen.",
    "{subj} are entitled to {days} days of {topic} per year.",
    "Questions about {topic} should be sent to {dept}.",
    "{subj} who handle {topic} must complete the training every year.",
    "Any breach of the rules on {topic} may lead to disciplinary action.",
    "The policy on {topic} was revised in {year} and applies to {subj_l}.",
    "Costs related to {topic} are reimbursed after {dept} checks {doc}.",
]
_EN_REGION = ["Japan", "Tokyo", "Asia", "North America", "Europe", "remote areas"]

_KANJI = ("人日本年大中出国会社生事時分前後上下手業内外部所方理用行動学開発電気関係情報"
          "経営管理計画営業技術製品設計品質試験検査制度規定契約取引顧客市場販売価格費用予算決算資産"
          "税務法令監査安全衛生環境教育研修採用評価給与手当勤務休暇申請承認報告連絡相談議事資料文書"
          "記録保存廃棄変更更新確認調査分析結果対応対策改善提案課題目標実績進捗案件担当責任組織体")
_KATA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
_KATA2 = "ガギグゲゴザジズゼゾダデドバビブベボパピプペポ"
_EN_WORDS = ("account access audit backup badge budget calendar client cloud contract cost customer "
             "deadline device document email expense feedback firewall form guideline hardware incident "
             "invoice laptop license login meeting network office onboarding password payroll policy "
             "portal printer project quota receipt record report request review risk schedule server "
             "shift software storage supplier survey system ticket training travel update vendor visitor "
             "vpn wiki workflow").split()
_DETAIL_JA = [
    "{w1}の{w2}については{w3}を参照すること。",
    "{w1}に関する{w2}は{num}件であった。",
    "{w1}と{w2}の{w3}を確認する。",
    "案件番号{code}の{w1}は{w2}が担当する。",
    "{w1}は{w2}により{w3}される。",
    "{k1}の{w1}を{w2}に登録した。",
]
_DETAIL_EN = [
    "See the {e1} {e2} page for {w1} details.",
    "The {e1} for {k1} is tracked in ticket {code}.",
    "Update the {e1} and the {e2} before {num} {e3} reviews.",
]


def vocabulary(size: int = 30_000, seed: int = 7) -> list[str]:
    """Content words for detail sentences: kanji compounds, katakana, English, in a fixed order."""
    rng = random.Random(seed)
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < size:
        r = rng.random()
        if r < 0.6:
            w = "".join(rng.choice(_KANJI) for _ in range(rng.choice((2, 2, 2, 3, 4))))
        elif r < 0.8:
            w = "".join(rng.choice(_KATA + _KATA2) for _ in range(rng.randint(3, 6))) + rng.choice(("", "ー"))
        else:
            w = rng.choice(_EN_WORDS) + rng.choice(("", "", "s", "-" + rng.choice(_EN_WORDS)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def pool_sentences(n_ja: int = 200, n_en: int = 100, seed: int = 11) -> list[str]:
    """A few hundred distinct handbook sentences (Japanese first, then English)."""
    rng = random.Random(seed)
    out: list[str] = []
    for count, templates, lang in ((n_ja, _JA_TEMPLATES, "ja"), (n_en, _EN_TEMPLATES, "en")):
        seen: set[str] = set()
        while len(seen) < count:
            t = rng.choice(templates)
            if lang == "ja":
                s = t.format(n=rng.randint(1, 60), m=rng.randint(1, 5), subj=rng.choice(_JA_SUBJ),
                             topic=rng.choice(_JA_TOPIC), rule=rng.choice(_JA_RULE), when=rng.choice(_JA_WHEN),
                             doc=rng.choice(_JA_DOC), dept=rng.choice(_JA_DEPT), cond=rng.choice(_JA_COND),
                             days=rng.choice((5, 10, 12, 15, 20)), region=rng.choice(_JA_REGION),
                             region2=rng.choice(_JA_REGION), amount=rng.choice((1000, 2000, 2500, 3000, 5000)))
            else:
                s = t.format(subj=rng.choice(_EN_SUBJ), subj_l=rng.choice(_EN_SUBJ).lower(),
                             topic=rng.choice(_EN_TOPIC), doc=rng.choice(_EN_DOC), dept=rng.choice(_EN_DEPT),
                             when=rng.choice(_EN_WHEN), region=rng.choice(_EN_REGION),
                             amount=rng.choice((2000, 3000, 5000, 8000)), days=rng.choice((5, 10, 14, 20)),
                             year=rng.randint(2015, 2024))
                s = s[0].upper() + s[1:]
            if s not in seen:
                seen.add(s)
                out.append(s)
    return out


def detail_sentences(count: int, vocab: list[str], seed: int = 13) -> list[str]:
    """Keyword-only sentences whose words follow a Zipf law over `vocab`."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / (np.arange(len(vocab)) + 10.0) ** 1.1  # Zipf-Mandelbrot: the top word is in ~2 % of slots
    ranks = rng.choice(len(vocab), size=(count, 4), p=weights / weights.sum())
    picks = rng.integers(0, 1 << 30, size=(count, 6))
    out = []
    for i in range(count):
        w1, w2, w3, k1 = (vocab[int(r)] for r in ranks[i])
        p = picks[i]
        fields = dict(w1=w1, w2=w2, w3=w3, k1=k1, num=int(p[1] % 500), code=f"{chr(65 + p[2] % 26)}-{p[3] % 10000:04d}",
                      e1=_EN_WORDS[p[4] % len(_EN_WORDS)], e2=_EN_WORDS[p[5] % len(_EN_WORDS)],
                      e3=_EN_WORDS[(p[4] >> 8) % len(_EN_WORDS)])
        templates = _DETAIL_JA if p[0] % 4 else _DETAIL_EN
        out.append(templates[(p[0] >> 2) % len(templates)].format(**fields))
    return out


def join_sentences(sentences: list[str]) -> str:
    """Japanese sentences run on; a space separates anything that ends in ASCII."""
    out: list[str] = []
    for s in sentences:
        if out and (out[-1][-1:].isascii() or s[:1].isascii()):
            out.append(" ")
        out.append(s)
    return "".join(out)


_Q_JA = ["{topic}の申請方法を教えてください", "{topic}は何日まで取得できますか", "{topic}について{dept}に相談するには？",
         "{region}出張の日当はいくら？", "{subj}の{topic}の扱い", "{w1}の{w2}はどこで確認できますか"]
_Q_EN = ["How do I apply for {topic}?", "Who approves {topic}?", "What is the daily allowance for trips to {region}?",
         "{e1} {e2} policy"]


def queries(count: int, vocab: list[str], seed: int = 17) -> list[str]:
    """Search questions in the style of the pool and detail sentences (about 2/3 Japanese)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if i % 3 != 2:
            t = rng.choice(_Q_JA)
            out.append(t.format(topic=rng.choice(_JA_TOPIC), dept=rng.choice(_JA_DEPT), region=rng.choice(_JA_REGION),
                                subj=rng.choice(_JA_SUBJ), w1=vocab[min(int(rng.paretovariate(1.0)) - 1, 999)],
                                w2=vocab[min(int(rng.paretovariate(1.0)) - 1, 999)]))
        else:
            t = rng.choice(_Q_EN)
            out.append(t.format(topic=rng.choice(_EN_TOPIC), region=rng.choice(_EN_REGION),
                                e1=rng.choice(_EN_WORDS), e2=rng.choice(_EN_WORDS)))
    return out


# -- measuring ---------------------------------------------------------------------

def stats_ms(seconds: list[float]) -> dict:
    """Median, p95 and mean of a list of durations, in milliseconds."""
    if not seconds:
        return {"median_ms": None, "p95_ms": None, "mean_ms": None, "n": 0}
    ms = sorted(s * 1000.0 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return {"median_ms": round(statistics.median(ms), 3), "p95_ms": round(p95, 3),
            "mean_ms": round(statistics.fmean(ms), 3), "n": len(ms)}


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def memory() -> dict:
    """Current RSS and peaks in MiB: VmRSS, VmHWM (resettable) and ru_maxrss (whole process)."""
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        maxrss //= 1024  # bytes there, KiB on Linux
    rss, hwm = _status_kib("VmRSS"), _status_kib("VmHWM")
    return {"rss_mib": round(rss / 1024, 1) if rss else None,
            "peak_since_reset_mib": round(hwm / 1024, 1) if hwm else None,
            "ru_maxrss_mib": round(maxrss / 1024, 1)}


def peak_bytes() -> int | None:
    """The kernel's peak resident size (VmHWM) since the last `reset_peak()`, in bytes."""
    kib = _status_kib("VmHWM")
    return kib * 1024 if kib else None


def reset_peak() -> bool:
    """Reset VmHWM (Linux ≥ 4.0), so a later peak belongs to what ran since."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def machine() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "numpy": np.__version__, "loadavg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}


def ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return round(value / reference, 3)


# -- output --------------------------------------------------------------------------

def fmt(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "PASS" if value else "FAIL"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)),
             "  ".join("-" * w for w in widths)]
    for r in cells:
        lines.append("  ".join((c.rjust(w) if i else c.ljust(w)) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def emit(result: dict, as_json: bool, text: str) -> None:
    """Exactly one JSON object on stdout with --json, else the readable report."""
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")
    sys.stdout.flush()


def say(message: str) -> None:
    """Progress for people: always on stderr, so --json output stays clean."""
    print(message, file=sys.stderr, flush=True)
