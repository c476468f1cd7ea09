"""Parsers and encoding detection, on real files written into tmp_path."""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from pathlib import Path

import pytest

from engine.errors import ParseError, SkipFile
from engine.ingest.decode import decode_bytes
from engine.ingest.document import ParsedDocument, Section
from engine.ingest.normalize import clean_text, normalize_for_search
from engine.ingest.parsers import SUPPORTED_SUFFIXES, kind_for, parse_file

JA = "出張旅費規程\n第3条　日当は一日につき二千円とする。\n①髙橋さんの承認が必要です。\n"


def write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def line_of(section: Section, needle: str) -> int:
    """The file line a piece of section text sits on, counted as the chunker does."""
    offset = section.text.index(needle)
    return section.line_start + section.text.count("\n", 0, offset)


# --- encodings ----------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding, expected",
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),
        ("utf-32", "utf-32"),
        ("cp932", "cp932"),
        ("iso2022_jp_ext", "iso2022_jp"),  # the plain codec lacks ①/髙; the test text has them
    ],
)
def test_decode_bytes_japanese(encoding: str, expected: str) -> None:
    text = JA if encoding != "iso2022_jp_ext" else "出張旅費規程\n日当は二千円とする。\n"
    codec = "iso2022_jp" if encoding == "iso2022_jp_ext" else encoding
    assert decode_bytes(text.encode(codec)) == (text, expected)


def test_decode_bytes_euc_jp_and_short_texts() -> None:
    text = "出張旅費規程\n日当は二千円とする。\n"  # EUC-JP has no ① or 髙
    assert decode_bytes(text.encode("euc_jp")) == (text, "euc_jp")
    # Short texts are where charset-normalizer goes wrong (it says Big5 here).
    assert decode_bytes("テスト".encode("euc_jp")) == ("テスト", "euc_jp")
    assert decode_bytes("テスト".encode("cp932")) == ("テスト", "cp932")
    assert decode_bytes("会議".encode("cp932")) == ("会議", "cp932")
    assert decode_bytes("ﾃｽﾄﾃﾞｰﾀ".encode("cp932")) == ("ﾃｽﾄﾃﾞｰﾀ", "cp932")


def test_decode_bytes_utf16_without_bom() -> None:
    text = "Report 報告書\r\n売上は前年比120%でした。\r\n" * 3
    assert decode_bytes(text.encode("utf-16-le")) == (text, "utf-16-le")
    assert decode_bytes(text.encode("utf-16-be")) == (text, "utf-16-be")
    pure = "出張旅費規程について説明します。日当は二千円とする。"
    assert decode_bytes(pure.encode("utf-16-le")) == (pure, "utf-16-le")


def test_decode_bytes_western_fallbacks() -> None:
    for text in ("café résumé naïve", "It’s the company’s policy.", "Größe für Büro"):
        assert decode_bytes(text.encode("cp1252")) == (text, "cp1252")
    russian = "Привет, это тестовый файл на русском языке."
    assert decode_bytes(russian.encode("cp1251")) == (russian, "cp1251")


def test_decode_bytes_rejects_binary() -> None:
    with pytest.raises(ParseError, match="binary"):
        decode_bytes(bytes(range(256)) * 20)
    with pytest.raises(ParseError, match="binary"):
        decode_bytes(b"abc\x00\x01\x02\x00\xff\xfe\x00\x10\x00\x00\x00")


def test_decode_bytes_utf8_with_one_broken_byte() -> None:
    text, encoding = decode_bytes(("日本語のテキストです。" * 5).encode() + b"\xe3\x81")
    assert encoding == "utf-8" and text.startswith("日本語のテキストです。")


@pytest.mark.parametrize("encoding", ["cp932", "euc_jp", "utf-8", "utf-8-sig", "utf-16"])
def test_text_files_in_japanese_encodings(tmp_path: Path, encoding: str) -> None:
    text = JA if encoding != "euc_jp" else JA.replace("①髙", "高")
    doc = parse_file(write(tmp_path, "規程.txt", text, encoding))
    assert doc.kind == "text"
    assert doc.encoding == encoding
    assert [s.text for s in doc.sections] == [text.rstrip("\n")]
    assert doc.sections[0].line_start == 1


def test_text_file_line_start_skips_leading_blank_lines(tmp_path: Path) -> None:
    doc = parse_file(write(tmp_path, "a.log", "\r\n\r\nfirst\r\n\r\n\r\n\r\nsecond  \r\n"))
    (section,) = doc.sections
    assert section.line_start == 3
    assert line_of(section, "second") == 7  # blank lines kept: numbering holds
    assert section.text.endswith("second")


def test_log_padded_with_nul_bytes(tmp_path: Path) -> None:
    data = "起動しました\n".encode("cp932") * 3 + bytes(4096) + b"restart\n"
    doc = parse_file(write(tmp_path, "app.log", data))
    assert doc.encoding == "cp932"
    assert doc.sections[0].text == "起動しました\n起動しました\n起動しました\nrestart"
    assert doc.warnings == ["NUL bytes in the file were left out"]


def test_code_file(tmp_path: Path) -> None:
    source = "def f():\n    # 日本語のコメント\n    return 1\n"
    doc = parse_file(write(tmp_path, "tool.PY", source, "cp932"))
    assert doc.kind == "code"
    assert doc.sections == [Section(text=source.rstrip(), line_start=1)]


# --- Markdown -----------------------------------------------------------------

MARKDOWN = """\
---
title: "旅費の手引き"
tags: [総務]
---
はじめに読んでください。

# 出張旅費規程

目的を定める。

## 第3条 (日当) ##

| 区分 | 金額 |
|------|------|
| 国内 | 2000円 |

```
# これは見出しではない
```

### 細則

- 項目A
- 項目B

概要
====

本文。

付則
----
施行日は2024年4月1日。
"""


def test_markdown_sections_heading_paths_and_lines(tmp_path: Path) -> None:
    doc = parse_file(write(tmp_path, "guide.md", MARKDOWN))
    assert doc.kind == "markdown"
    assert doc.title == "旅費の手引き"
    by_heading = {s.heading: s for s in doc.sections}
    assert list(by_heading) == [
        None,
        "出張旅費規程",
        "出張旅費規程 > 第3条 (日当)",
        "出張旅費規程 > 第3条 (日当) > 細則",
        "概要",
        "概要 > 付則",
    ]
    assert by_heading[None].text == "はじめに読んでください。"
    assert by_heading[None].line_start == 5
    article = by_heading["出張旅費規程 > 第3条 (日当)"]
    assert article.line_start == 11
    assert "| 国内 | 2000円 |" in article.text
    assert "# これは見出しではない" in article.text
    assert line_of(article, "| 国内 |") == 15
    assert line_of(by_heading["出張旅費規程 > 第3条 (日当) > 細則"], "- 項目B") == 24
    assert by_heading["概要"].line_start == 26
    assert line_of(by_heading["概要 > 付則"], "施行日") == 33


def test_markdown_title_is_first_h1_without_front_matter(tmp_path: Path) -> None:
    doc = parse_file(write(tmp_path, "a.markdown", "Intro\n\n# 第一章\ntext\n# 第二章\n"))
    assert doc.title == "第一章"
    assert [s.heading for s in doc.sections] == [None, "第一章", "第二章"]


def test_markdown_comments_and_html_tags_are_not_indexed(tmp_path: Path) -> None:
    text = ("# 所有権\n\n<!--\n## What is Ownership?\n\nAll programs have to manage the way they use memory.\n-->\n\n"
            "所有権はRustの特徴です。<!-- Ownership is Rust's feature. -->\n\n"
            "<table><tr><td>10日</td></tr></table>\n\n"
            "```html\n<!-- kept: this is code -->\n```\n\n`Vec<T>` と Vec<T> は型です。\n\n最後の行。\n")
    doc = parse_file(write(tmp_path, "book.md", text))
    body = "\n".join(s.text for s in doc.sections)
    assert "memory" not in body and "What is Ownership" not in body and "Ownership is" not in body
    assert [s.heading for s in doc.sections] == ["所有権"]  # a heading inside a comment is no heading
    assert "所有権はRustの特徴です。" in body and "10日" in body and "<td>" not in body
    assert "<!-- kept: this is code -->" in body and "`Vec<T>` と Vec<T> は型です。" in body
    assert line_of(doc.sections[0], "最後の行。") == 19  # lines do not move


# --- CSV / TSV ----------------------------------------------------------------


def test_shift_jis_csv_rows_and_line_numbers(tmp_path: Path) -> None:
    csv_text = (
        "氏名,部署,内線\r\n"
        "髙橋,総務部,1234\r\n"
        "田中,\"営業部\r\n第二課\",\r\n"  # a quoted cell across two lines
        "鈴木,人事部,\r\n"
        "\r\n"
        "佐藤,経理部,5678\r\n"
    )
    doc = parse_file(write(tmp_path, "社員.csv", csv_text, "cp932"))
    assert doc.kind == "csv" and doc.encoding == "cp932"
    lines = [line for s in doc.sections for line in s.text.split("\n")]
    assert lines == [
        "氏名: 髙橋 | 部署: 総務部 | 内線: 1234",
        "氏名: 田中 | 部署: 営業部 第二課",
        "氏名: 鈴木 | 部署: 人事部",
        "氏名: 佐藤 | 部署: 経理部 | 内線: 5678",
    ]
    for section in doc.sections:
        for needle, line in (("髙橋", 2), ("田中", 3), ("鈴木", 5), ("佐藤", 7)):
            if needle in section.text:
                assert line_of(section, needle) == line


def test_tsv_and_semicolon_csv(tmp_path: Path) -> None:
    doc = parse_file(write(tmp_path, "a.tsv", "a\tb\n1\t2, 3\n"))
    assert doc.sections[0].text == "a: 1 | b: 2, 3"
    doc = parse_file(write(tmp_path, "b.csv", "a;b\n1;2\n3;4\n"))
    assert doc.sections[0].text == "a: 1 | b: 2\na: 3 | b: 4"
    assert doc.sections[0].line_start == 2


def test_csv_sections_hold_at_most_50_rows(tmp_path: Path) -> None:
    rows = "".join(f"{n},値{n}\n" for n in range(120))
    doc = parse_file(write(tmp_path, "big.csv", "no,value\n" + rows))
    assert [s.line_start for s in doc.sections] == [2, 52, 102]
    assert line_of(doc.sections[2], "値119") == 121


# --- HTML ---------------------------------------------------------------------


def test_shift_jis_html_with_meta_charset(tmp_path: Path) -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
        "<title>社内規程 ①</title></head><body><h1>総則</h1><p>髙橋部長が承認する。</p></body></html>"
    )
    doc = parse_file(write(tmp_path, "kitei.htm", page, "cp932"))
    assert doc.encoding == "cp932"
    assert doc.title == "社内規程 ①"
    assert doc.sections == [Section(text="総則\n\n髙橋部長が承認する。", heading="総則")]

    page5 = '<meta charset="shift_jis"><p>テスト</p>'
    assert parse_file(write(tmp_path, "b.html", page5, "cp932")).sections[0].text == "テスト"


HTML = """<!DOCTYPE html>
<html><head><title>Travel &amp; Expenses</title>
<style>p { color: red }</style>
<script>var x = "<h1>not a heading</h1>";</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/x">Menu</a></nav>
<p>Intro   text
 spanning lines &lt;b&gt; &#x3042; &copy;</p>
<h1>Rules</h1>
<p>Line one<br>Line two</p>
<h2>Daily allowance</h2>
<table>
  <tr><th>Region</th><th>Amount</th></tr>
  <tr><td>Domestic</td><td><p>2,000&nbsp;yen</p></td></tr>
</table>
<ul><li>first</li><li>second</li></ul>
<noscript>Enable JavaScript</noscript>
<h1>Appendix</h1><div>End</div>
</body></html>"""


def test_html_structure(tmp_path: Path) -> None:
    doc = parse_file(write(tmp_path, "page.html", HTML))
    assert doc.kind == "html" and doc.title == "Travel & Expenses"
    assert [s.heading for s in doc.sections] == [
        None, "Rules", "Rules > Daily allowance", "Appendix",
    ]
    intro, rules, allowance, appendix = (s.text for s in doc.sections)
    assert intro == "Intro text spanning lines <b> あ ©"
    assert rules == "Rules\n\nLine one\nLine two"
    assert "Region | Amount\nDomestic | 2,000\xa0yen" in allowance
    assert "- first\n- second" in allowance
    assert appendix == "Appendix\n\nEnd"
    everything = "\n".join(s.text for s in doc.sections)
    for noise in ("color", "not a heading", "Menu", "Enable JavaScript"):
        assert noise not in everything


def test_html_layout_tables_keep_their_structure(tmp_path: Path) -> None:
    page = """<table width=800><tr><td><img src=logo.gif></td><td>
    <h2>お知らせ</h2><p>システム停止のお知らせです。</p><p>2行目。</p>
    <table border=1><tr><th>日付</th><th>時間</th></tr><tr><td>4/1</td><td><p>9:00</p></td></tr>
    </table><h3>詳細</h3>本文<br>続き</td></tr></table>"""
    doc = parse_file(write(tmp_path, "news.html", page))
    assert [(s.heading, s.text) for s in doc.sections] == [
        ("お知らせ", "お知らせ\n\nシステム停止のお知らせです。\n\n2行目。\n\n日付 | 時間\n4/1 | 9:00"),
        ("お知らせ > 詳細", "詳細\n\n本文\n続き"),
    ]


def test_html_with_a_wrong_western_declaration(tmp_path: Path) -> None:
    page = '<meta charset="iso-8859-1"><p>社内規程について説明します。</p>'
    doc = parse_file(write(tmp_path, "wrong.html", page, "cp932"))
    assert doc.encoding == "cp932"
    assert doc.sections[0].text == "社内規程について説明します。"


def test_html_survives_pages_that_make_htmlparser_quadratic(tmp_path: Path) -> None:
    for junk in (b"<a x='" * 50_000, b"<!--" * 50_000, b"<a " * 50_000):
        parse_file(write(tmp_path, "junk.html", b"<p>ok</p>" + junk))


# --- PDF ----------------------------------------------------------------------


def make_pdf(pages: list[list[str]], *, japanese: bool = False, **canvas_args) -> bytes:
    pytest.importorskip("reportlab")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, **canvas_args)
    pdf.setTitle("Microsoft Word - 旅費規程.docx")
    for lines in pages:
        pdf.setFont("HeiseiKakuGo-W5", 12)
        for n, line in enumerate(lines):
            pdf.drawString(72, 750 - 20 * n, line)
        if not lines:
            pdf.rect(100, 100, 200, 200)  # a page with graphics only
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_pdf_pages_english_and_japanese(tmp_path: Path) -> None:
    data = make_pdf([
        ["Travel expense rules", "Chapter 1"],
        ["出張旅費規程", "第3条 日当は二千円とする。"],
        [],
        ["Appendix: effective April 2024"],
    ])
    doc = parse_file(write(tmp_path, "rules.pdf", data))
    assert doc.kind == "pdf"
    assert doc.title == "旅費規程.docx"
    assert [s.page for s in doc.sections] == [1, 2, 4]  # the empty page is skipped
    assert "Travel expense rules" in doc.sections[0].text
    # reportlab's CID font has no ToUnicode map, yet pypdf reads it back.
    assert "出張旅費規程" in doc.sections[1].text
    assert "日当は二千円とする。" in doc.sections[1].text
    assert doc.warnings == ["1 page without text (scanned?) skipped"]


def test_pdf_with_password(tmp_path: Path) -> None:
    data = make_pdf([["secret text"]], encrypt="secret")
    with pytest.raises(ParseError, match="password"):
        parse_file(write(tmp_path, "locked.pdf", data))


def test_pdf_with_owner_password_only_opens(tmp_path: Path) -> None:
    pytest.importorskip("reportlab")
    from reportlab.lib.pdfencrypt import StandardEncryption

    data = make_pdf([["restricted but readable"]], encrypt=StandardEncryption("", "owner"))
    doc = parse_file(write(tmp_path, "restricted.pdf", data))
    assert doc.sections[0].text == "restricted but readable"


def test_pdf_needing_cryptography_is_explained(tmp_path: Path, monkeypatch) -> None:
    import pypdf
    from pypdf.errors import DependencyError

    def no_aes(self, password):
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    pytest.importorskip("reportlab")
    from reportlab.lib.pdfencrypt import StandardEncryption

    monkeypatch.setattr(pypdf.PdfReader, "decrypt", no_aes)
    data = make_pdf([["text"]], encrypt=StandardEncryption("", "owner"))
    with pytest.raises(ParseError, match="cryptography"):
        parse_file(write(tmp_path, "aes.pdf", data))


def test_broken_pdfs(tmp_path: Path) -> None:
    data = make_pdf([["some text"] * 5] * 3)
    for name, content in [
        ("truncated.pdf", data[: len(data) // 3]),
        ("random.pdf", os.urandom(4000)),
        ("empty.pdf", b""),
        ("header-only.pdf", b"%PDF-1.4\n%junk"),
    ]:
        with pytest.raises(ParseError) as caught:
            parse_file(write(tmp_path, name, content))
        assert "PDF" in str(caught.value)


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    """Blank pages go to OCR (a real worker; tests/engine/test_ocr.py reads real scans), which
    finds nothing either."""
    with pytest.raises(ParseError, match="no text was found on any page, not even by OCR"):
        parse_file(write(tmp_path, "scan.pdf", make_pdf([[], []])))


# --- Word ---------------------------------------------------------------------


def test_docx_headings_tables_and_title(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("出張旅費規程", style="Title")
    document.add_paragraph("この規程は出張について定める。")
    document.add_heading("第1章 総則", level=1)
    document.add_paragraph("目的")
    document.add_heading("第3条 (日当)", level=2)
    table = document.add_table(rows=2, cols=3)
    for row, values in zip(table.rows, [("区分", "金額", "備考"), ("国内", "2000円", "")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("以上")
    document.add_heading("第2章 雑則", level=1)
    document.add_paragraph("附則")
    path = tmp_path / "規程.docx"
    document.save(path)

    doc = parse_file(path)
    assert doc.kind == "docx" and doc.title == "出張旅費規程"
    assert [(s.heading, s.text) for s in doc.sections] == [
        ("出張旅費規程", "出張旅費規程\nこの規程は出張について定める。"),
        ("出張旅費規程 > 第1章 総則", "第1章 総則\n目的"),
        (
            "出張旅費規程 > 第1章 総則 > 第3条 (日当)",
            "第3条 (日当)\n\n区分 | 金額 | 備考\n国内 | 2000円 |\n\n以上",
        ),
        ("出張旅費規程 > 第2章 雑則", "第2章 雑則\n附則"),
    ]


W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
MC_NS = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'


def test_docx_text_that_python_docx_skips(tmp_path: Path) -> None:
    """Tracked insertions, content controls and text boxes (once, not twice)."""
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    body = document.element.body
    paragraph = document.add_paragraph("本文。")
    paragraph._p.append(parse_xml(
        f'<w:ins {W_NS} w:id="1" w:author="a"><w:r><w:t>追加された文。</w:t></w:r></w:ins>'
    ))
    paragraph._p.append(parse_xml(
        f'<w:del {W_NS} w:id="2" w:author="a"><w:r><w:delText>削除</w:delText></w:r></w:del>'
    ))
    box = (
        f'<w:r {W_NS} {MC_NS}><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
        "<w:txbxContent><w:p><w:r><w:t>箱の中</w:t></w:r></w:p></w:txbxContent>"
        "</w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r>"
        "<w:t>箱の中</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r>"
    )
    paragraph._p.append(parse_xml(box))
    body.insert(len(body) - 1, parse_xml(
        f"<w:sdt {W_NS}><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>申請者欄</w:t></w:r></w:p>"
        "</w:sdtContent></w:sdt>"
    ))
    path = tmp_path / "form.docx"
    document.save(path)
    (section,) = parse_file(path).sections
    assert section.text == "本文。追加された文。\n箱の中\n申請者欄"


def test_broken_docx(tmp_path: Path) -> None:
    junk = io.BytesIO()
    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("hello.txt", "not a document")
    cases = {
        "junk-zip.docx": junk.getvalue(),
        "text.docx": b"just some text pretending to be Word",
        "encrypted.docx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
        "empty.docx": b"",
    }
    for name, data in cases.items():
        with pytest.raises(ParseError, match="Word document") as caught:
            parse_file(write(tmp_path, name, data))
        assert "Word document" in str(caught.value)
    with pytest.raises(ParseError, match="password-protected"):
        parse_file(tmp_path / "encrypted.docx")


# --- Excel --------------------------------------------------------------------


def make_workbook(path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "社員一覧"
    sheet.append(["氏名", "入社日", "内線", "在籍"])
    sheet.append(["髙橋", dt.datetime(2020, 4, 1), 1234.0, True])
    sheet.append([None, None, None, None])
    sheet.append(["田中", None, 5678, False])
    other = workbook.create_sheet("予算")
    other.append(["項目", "金額"])
    other.append(["交通費", 12000.5])
    other.append(["雑費", 0.1 + 0.2])
    workbook.create_sheet("空")
    workbook.save(path)


def test_xlsx_sheets_as_sections(tmp_path: Path) -> None:
    path = tmp_path / "名簿.xlsx"
    make_workbook(path)
    doc = parse_file(path)
    assert doc.kind == "xlsx"
    assert [(s.heading, s.text) for s in doc.sections] == [
        (
            "社員一覧",
            "氏名: 髙橋 | 入社日: 2020-04-01 | 内線: 1234 | 在籍: TRUE\n"
            "氏名: 田中 | 内線: 5678 | 在籍: FALSE",
        ),
        ("予算", "項目: 交通費 | 金額: 12000.5\n項目: 雑費 | 金額: 0.3"),
    ]


def test_xlsx_row_limit_warns(tmp_path: Path, monkeypatch) -> None:
    from engine.ingest import office

    monkeypatch.setattr(office, "MAX_SHEET_ROWS", 2)
    path = tmp_path / "a.xlsx"
    make_workbook(path)
    doc = parse_file(path)
    assert doc.sections[0].text == "氏名: 髙橋 | 入社日: 2020-04-01 | 内線: 1234 | 在籍: TRUE"
    assert doc.warnings == [
        "sheet '社員一覧': only the first 2 rows were read",
        "sheet '予算': only the first 2 rows were read",
    ]


def test_broken_xlsx_and_pptx(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="not a valid Excel workbook"):
        parse_file(write(tmp_path, "a.xlsx", "name,value\n"))
    junk = io.BytesIO()
    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("[Content_Types].xml", "<broken")
    with pytest.raises(ParseError, match="not a valid PowerPoint presentation"):
        parse_file(write(tmp_path, "a.pptx", junk.getvalue()))


# --- PowerPoint ---------------------------------------------------------------


def test_pptx_slides_tables_and_notes(tmp_path: Path) -> None:
    import pptx
    from pptx.util import Inches

    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "出張申請の流れ"
    slide.placeholders[1].text_frame.text = "申請書を提出\n上長が承認"
    slide.notes_slide.notes_text_frame.text = "質問は総務部へ"
    second = presentation.slides.add_slide(presentation.slide_layouts[5])
    second.shapes.title.text = "日当"
    table = second.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for (r, c), value in {(0, 0): "区分", (0, 1): "金額", (1, 0): "国内", (1, 1): "2000円"}.items():
        table.cell(r, c).text = value
    box = second.shapes.add_textbox(Inches(1), Inches(4), Inches(4), Inches(1))
    box.text_frame.text = "下の注記"
    presentation.slides.add_slide(presentation.slide_layouts[6])  # blank: skipped
    path = tmp_path / "deck.pptx"
    presentation.save(path)

    doc = parse_file(path)
    assert doc.kind == "pptx" and doc.title == "出張申請の流れ"
    assert [(s.page, s.heading, s.text) for s in doc.sections] == [
        (1, "出張申請の流れ", "出張申請の流れ\n申請書を提出\n上長が承認\n\nNotes:\n質問は総務部へ"),
        (2, "日当", "日当\n区分 | 金額\n国内 | 2000円\n下の注記"),
    ]


# --- dispatch and file errors -------------------------------------------------


def test_kind_for_and_suffixes() -> None:
    assert kind_for(Path("a/b/Report.PDF")) == "pdf"
    assert kind_for(Path("x.yml")) == "code" and kind_for(Path("x.tsv")) == "csv"
    assert kind_for(Path("x.htm")) == "html" and kind_for(Path("x.md")) == "markdown"
    assert kind_for(Path("x.exe")) is None and kind_for(Path("Makefile")) is None
    assert {".txt", ".md", ".py", ".csv", ".pdf", ".docx", ".xlsx", ".pptx"} <= SUPPORTED_SUFFIXES
    assert all(kind_for(Path("f" + suffix)) for suffix in SUPPORTED_SUFFIXES)


def test_unsupported_suffix_is_skipped(tmp_path: Path) -> None:
    with pytest.raises(SkipFile, match=r"unsupported file type \.exe"):
        parse_file(write(tmp_path, "setup.exe", b"MZ\x00\x00"))
    with pytest.raises(SkipFile, match="save it as .docx"):
        parse_file(write(tmp_path, "old.doc", b"\xd0\xcf\x11\xe0"))


def test_binary_text_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="binary file") as caught:
        parse_file(write(tmp_path, "photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(500)))
    assert caught.value.__cause__ is None or isinstance(caught.value.__cause__, Exception)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="not found") as caught:
        parse_file(tmp_path / "gone.txt")
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(ParseError, match="folder"):
        parse_file(tmp_path / "folder.txt")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_permission_denied(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.txt", "text")
    path.chmod(0)
    try:
        with pytest.raises(ParseError, match="permission denied"):
            parse_file(path)
    finally:
        path.chmod(0o600)


def test_parse_file_with_bytes_in_hand(tmp_path: Path) -> None:
    doc = parse_file(tmp_path / "not-on-disk.md", data="# 見出し\n本文\n".encode("euc_jp"))
    assert doc.encoding == "euc_jp"
    assert doc.sections == [Section(text="# 見出し\n本文", heading="見出し", line_start=1)]


def test_empty_text_file_has_no_sections(tmp_path: Path) -> None:
    doc = parse_file(write(tmp_path, "empty.txt", b""))
    assert isinstance(doc, ParsedDocument) and doc.sections == []


# --- normalisation ------------------------------------------------------------


def test_normalize_for_search() -> None:
    assert normalize_for_search("ＡＢＣ　ﾃｽﾄ\n\n  Data①") == "abc テスト data1"


def test_clean_text() -> None:
    raw = "a\x00b\x07\r\nline  \rnext\u3000\n\n\n\n\n\tend\x0c"
    assert clean_text(raw) == "ab\nline\nnext\n\n\n\tend"
    assert clean_text(raw, keep_blank_lines=True).count("\n") == raw.count("\n") + 1
