"""Scanned pages made on the spot: Japanese and English text rendered with an installed
Japanese font, horizontally, vertically (縦書き), in two columns and in a ruled table,
then turned and degraded like a scan (noise, blur, JPEG, fax-like binarisation).

Used by `bunko bench ocr` and the OCR tests; each page comes with its true text.
"""

from __future__ import annotations

from collections.abc import Sequence
import io
import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "C:/Windows/Fonts/msgothic.ttc",
    "/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc",
)

JA = [
    "第三条　甲は乙に対し、本契約に基づく代金を支払う。",
    "支払期日は翌月末日とし、銀行振込によるものとする。",
    "稟議書の承認は部長および経理課長が行う。",
    "会議は四月十五日に本社の第二会議室で開かれた。",
    "出席者は十二名で、議長は総務部の田中が務めた。",
    "新しい勤怠システムは来年一月から全社で使われる。",
    "データの保管期間は原則として七年間とする。",
    "ファクスで届いた注文書は当日中に入力すること。",
]
EN = [
    "The invoice total is 1,250,000 yen including tax.",
    "Payment is due at the end of the following month.",
    "Minutes of the board meeting held on April 15.",
    "The warranty covers parts and labour for two years.",
]
# A question about each sentence, and its answer word for word (for `bunko eval ocr`).
QUESTIONS = {
    JA[0]: ("本契約に基づく代金は誰が誰に支払いますか", "甲は乙に対し"),
    JA[1]: ("支払期日はいつですか", "翌月末日"),
    JA[2]: ("稟議書の承認は誰が行いますか", "部長および経理課長"),
    JA[3]: ("会議はどこで開かれましたか", "第二会議室"),
    JA[4]: ("会議の議長は誰が務めましたか", "総務部の田中"),
    JA[5]: ("新しい勤怠システムはいつから使われますか", "来年一月"),
    JA[6]: ("データの保管期間は何年ですか", "七年間"),
    JA[7]: ("ファクスで届いた注文書はいつまでに入力しますか", "当日中"),
    EN[0]: ("What is the invoice total?", "1,250,000 yen"),
    EN[1]: ("When is payment due?", "end of the following month"),
    EN[2]: ("When was the board meeting held?", "April 15"),
    EN[3]: ("How long does the warranty cover parts and labour?", "two years"),
}
TABLE = [("品目", "数量", "金額"), ("ノートPC", "12", "1,800,000円"), ("モニター", "24", "720,000円"),
         ("保守契約", "1", "300,000円")]


@dataclass
class Page:
    name: str
    layout: str  # horizontal | vertical | columns | table
    image: Image.Image
    text: str  # the truth, in reading order, one line per line
    rotation: int = 0
    degrade: str = ""


def font_path() -> str | None:
    for path in FONTS:
        if Path(path).is_file():
            return path
    return None


def _font(size: int) -> ImageFont.FreeTypeFont:
    path = font_path()
    if path is None:
        raise RuntimeError("no Japanese font is installed (e.g. apt install fonts-ipafont-gothic)")
    return ImageFont.truetype(path, size)


def horizontal(lines: list[str], size: tuple[int, int] = (900, 700), px: int = 22) -> Image.Image:
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = _font(px)
    y = px * 2
    for line in lines:
        draw.text((px * 4 if size[0] > 1200 else px * 2, y), line, font=font, fill="black")
        y += int(px * 1.8)
    return img


def vertical(columns: list[str], size: tuple[int, int] = (700, 900), px: int = 24) -> Image.Image:
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = _font(px)
    x = size[0] - px * 3
    for col in columns:
        try:
            draw.text((x, px * 2), col, font=font, fill="black", direction="ttb", features=["vert"])
        except (KeyError, ValueError, OSError):  # Pillow without libraqm: one glyph at a time
            for i, ch in enumerate(col):
                draw.text((x, px * 2 + i * px), ch, font=font, fill="black")
        x -= int(px * 1.8)
    return img


def columns(left: list[str], right: list[str], size: tuple[int, int] = (1300, 600), px: int = 18) -> Image.Image:
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = _font(px)
    half = size[0] // 2
    for x0, lines in ((px * 2, left), (half + px * 2, right)):
        y = px * 2
        for line in lines:
            draw.text((x0, y), line, font=font, fill="black")
            y += int(px * 1.8)
    return img


def table(rows: Sequence[Sequence[str]], size: tuple[int, int] = (900, 500), px: int = 22) -> Image.Image:
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = _font(px)
    x0, y0, cell_w, cell_h = 60, 80, 250, int(px * 2.4)
    x1 = x0 + cell_w * len(rows[0])
    for r, row in enumerate(rows):
        y = y0 + r * cell_h
        draw.line((x0, y, x1, y), fill="black", width=2)
        for c, cell in enumerate(row):
            draw.text((x0 + c * cell_w + 12, y + (cell_h - px) // 2), cell, font=font, fill="black")
    y_end = y0 + len(rows) * cell_h
    draw.line((x0, y_end, x1, y_end), fill="black", width=2)
    for c in range(len(rows[0]) + 1):
        draw.line((x0 + c * cell_w, y0, x0 + c * cell_w, y_end), fill="black", width=2)
    return img


def degrade(img: Image.Image, how: str, seed: int = 0) -> Image.Image:
    """Scan-like damage: 'noise', 'blur', 'jpeg', 'fax' (binarised at low resolution), 'skew', and
    'smudge' (blurred and very noisy: read with low confidence, for the listing of such pages)."""
    import numpy as np

    rng = random.Random(seed)
    if "skew" in how:
        img = img.rotate(rng.uniform(-1.0, 1.0), expand=False, fillcolor="white", resample=Image.Resampling.BICUBIC)
    if "blur" in how:
        img = img.filter(ImageFilter.GaussianBlur(0.8))
    if "smudge" in how:
        img = img.filter(ImageFilter.GaussianBlur(1.5))
        arr = np.asarray(img, np.int16)
        noise = np.random.default_rng(1).normal(0, 50, arr.shape[:2])[..., None]
        img = Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))
    if "noise" in how:
        arr = np.asarray(img, np.int16)
        noise = np.random.default_rng(seed).normal(0, 18, arr.shape[:2])[..., None]
        img = Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))
    if "fax" in how:
        w, h = img.size
        small = img.convert("L").resize((int(w * 0.7), int(h * 0.7)), Image.Resampling.BILINEAR)
        img = small.point(lambda v: 255 if v > 150 else 0).resize((w, h), Image.Resampling.NEAREST).convert("RGB")
    if "jpeg" in how:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=35)
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return img


def standard_pages(seed: int = 0) -> list[Page]:
    """The benchmark's set: each layout clean and degraded, some turned."""
    rng = random.Random(seed)
    pages: list[Page] = []
    for i in range(2):
        lines = rng.sample(JA, 4) + rng.sample(EN, 1)
        how = ["", "noise+jpeg"][i]
        pages.append(Page(f"horizontal_{i}", "horizontal", degrade(horizontal(lines), how, i), "\n".join(lines),
                          degrade=how))
    for i in range(2):
        cols = rng.sample(JA, 4)
        cols = [c.replace("　", "") for c in cols]
        how = ["", "blur"][i]
        pages.append(Page(f"vertical_{i}", "vertical", degrade(vertical(cols), how, i), "\n".join(cols), degrade=how))
    left, right = rng.sample(JA, 3), rng.sample(JA, 3)
    pages.append(Page("columns_0", "columns", columns(left, right), "\n".join(left + right)))
    rows = TABLE
    pages.append(Page("table_0", "table", table(rows), "\n".join(" | ".join(r) for r in rows)))
    pages.append(Page("table_fax", "table", degrade(table(rows), "fax", 3), "\n".join(" | ".join(r) for r in rows),
                      degrade="fax"))
    a4 = [rng.choice(JA + EN) for _ in range(34)]  # a full A4 page at 200 dpi, 10.5 pt
    pages.append(Page("a4_full", "horizontal", degrade(horizontal(a4, (1654, 2339), px=29), "noise+jpeg", 7),
                      "\n".join(a4), degrade="noise+jpeg"))
    lines = rng.sample(JA, 3)
    crooked = horizontal(lines).rotate(4, expand=True, fillcolor="white", resample=Image.Resampling.BICUBIC)
    pages.append(Page("skewed_4", "horizontal", degrade(crooked, "noise", 5), "\n".join(lines), degrade="skew 4°+noise"))
    for rot in (90, 180, 270):
        lines = rng.sample(JA, 3)
        pages.append(Page(f"rotated_{rot}", "horizontal", horizontal(lines).rotate(rot, expand=True),
                          "\n".join(lines), rotation=rot))
    return pages


def questions(page: Page) -> list[dict]:
    if page.layout == "table":
        return [{"question": "モニターの金額はいくらですか", "answer": "720,000円"}]
    out = []
    for line in page.text.splitlines():
        for sentence, (q, a) in QUESTIONS.items():
            if line.replace("　", "").rstrip("。") == sentence.replace("　", "").rstrip("。"):
                out.append({"question": q, "answer": a})
    return out


def _question_lines(page: Page) -> list[str]:
    """The line each of `questions(page)` is about, in the same order."""
    if page.layout == "table":
        return [" | ".join(TABLE[2])]
    out = []
    for line in page.text.splitlines():
        for sentence in QUESTIONS:
            if line.replace("　", "").rstrip("。") == sentence.replace("　", "").rstrip("。"):
                out.append(line)
    return out


def write_dataset(folder: Path, seed: int = 0) -> int:
    """The standard pages as a `bunko eval ocr` dataset: pictures and image-only PDFs with
    truth.jsonl. Returns the number of files."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    pages = standard_pages(seed)
    # A question is asked only about a line found on one page: "which page?" has one answer then.
    seen: dict[str, int] = {}
    for page in pages:
        for line in set(page.text.splitlines()):
            seen[line] = seen.get(line, 0) + 1
    for i, page in enumerate(pages):
        layout = {"columns": "horizontal"}.get(page.layout, page.layout)
        if i % 2:
            name = f"{page.name}.pdf"
            page.image.save(folder / name, "PDF", resolution=150)
        else:
            name = f"{page.name}.png"
            page.image.save(folder / name)
        unique = [q for q, line in zip(questions(page), _question_lines(page)) if seen.get(line, 0) == 1]
        rows.append({"file": name, "page_text": page.text, "layout": layout, "questions": unique})
    with open(folder / "truth.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)


def normalise(text: str) -> str:
    """As the character error rate compares: NFKC, no whitespace, no table separators."""
    text = unicodedata.normalize("NFKC", text).replace("|", "")
    return "".join(text.split())


def cer(found: str, truth: str) -> float:
    """Edit distance / reference length, on normalised text."""
    a, b = normalise(found), normalise(truth)
    if not b:
        return 0.0 if not a else 1.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1] / len(b)
