"""The quoted sentence answers (not a heading, not a sentence that announces the answer), and the
model's text is checked: its language, a refusal under a quote that answers, a repeat."""

from __future__ import annotations

from engine.chat import checks, citations, quotes, sentences
from engine.types import Source

OWNERSHIP = (
    "## 所有権規則\n\n"
    "まず、所有権のルールについて見ていきましょう。この規則を具体化する例を扱っていく間も、"
    "これらのルールを肝に銘じておいてください:\n\n"
    "* Rustの各値は、所有者と呼ばれる変数と対応している。\n"
    "* いかなる時も所有者は一つである。\n"
    "* 所有者がスコープから外れたら、値は破棄される。\n")
ALLOWANCE = (
    "### 第13条　日当\n\n"
    "1. 日当は、出張先が遠隔地であると会社が認めた場合のみ支給する。\n"
    "2. 日当は、次の計算式で算出した額を支給する。\n"
    "    * 役員 ・・・ 7,500円 × 出張日数\n"
    "    * 一般社員 ・・・ 2,500円 × 出張日数\n")


def source(number: int, text: str, path: str = "") -> Source:
    path = path or f"d{number}.md"
    return Source(number, "docs", path, f"/{path}", "", text)


def test_units_know_headings_items_code_and_wrapped_lines():
    text = ("# 就業規則 第1章\n\n会社は、社員に対して\n10日の休暇を与える。申請は3日前までとする。\n\n"
            "```\ncargo new hello\n```\n- 一つ目の項目です。\n- 二つ目の項目です。\n| 表 | 10日 |\n"
            "The rules are as follows:\nFirst rule here.\n")
    got = [(u.kind, sentences.flat(text[u.start:u.end]), u.announces) for u in sentences.units(text)]
    assert got == [("heading", "# 就業規則 第1章", False),
                   ("text", "会社は、社員に対して10日の休暇を与える。", False),  # a wrapped line joined, no space
                   ("text", "申請は3日前までとする。", False),
                   ("code", "cargo new hello", False),
                   ("item", "一つ目の項目です。", False), ("item", "二つ目の項目です。", False),
                   ("table", "| 表 | 10日 |", False),
                   ("text", "The rules are as follows: First rule here.", False)]
    assert sentences.announces("まず、所有権のルールについて見ていきましょう。")
    assert sentences.announces("出張旅費は、次の構成とする。", weak=True) and not sentences.announces("出張旅費は、次の構成とする。")
    assert sentences.announces("Let's look at the rules.")
    assert not sentences.announces("会社は10日の休暇を与える。")
    assert sentences.ends_mid_sentence("正社員であることが必要ですが、")


def test_what_a_question_asks_for():
    assert quotes.asks("出張の日当はいくらですか？") == {"money"}
    assert quotes.asks("有給休暇は何日ですか？") == {"number"}
    assert quotes.asks("自転車で通勤するにはどうすればいいですか？") == {"steps"}   # not "rule" as well
    assert "rule" in quotes.asks("所有権の規則は何ですか？")
    assert "steps" in quotes.asks("自転車で通勤したいときはどうすればいいですか？")
    assert "time" in quotes.asks("When does the office open?")
    assert quotes.asks("Who wrote the handbook?") == set()


def test_the_quote_is_the_list_an_announcing_sentence_introduces(embedder):
    found = quotes.pick("所有権の規則は何ですか？", [source(1, OWNERSHIP)], embedder)
    assert len(found) == 1 and found[0].number == 1
    text = found[0].text
    assert not text.startswith("まず") or "所有者" in text, text   # not the announcement alone
    assert "所有者" in text and "##" not in text


def test_the_quote_holds_the_number_asked_for(embedder):
    found = quotes.pick("出張の日当は一般社員でいくらですか？", [source(1, ALLOWANCE)], embedder)
    assert "2,500円" in found[0].text, found[0].text
    assert "第13条" not in found[0].text  # never the heading
    cut = quotes.pick("出張の日当は一般社員でいくらですか？", [source(1, ALLOWANCE.replace("    * 役員", "    1.\n    * 役員"))],
                      embedder)  # an item whose text the chunk cut off adds no empty " / " to the list
    assert "2,500円" in cut[0].text and "。 役員" in cut[0].text, cut[0].text


def test_a_sentence_with_the_asked_amount_beats_one_with_another_number(embedder):
    src = [source(1, "書籍購入補助を希望する従業員は、購入日から10日以内に申請を行う。\n"
                     "補助額の上限は、1月につき5,000円までとする。\n")]
    found = quotes.pick("書籍購入補助の上限は月いくらですか？", src, embedder)
    assert "5,000円" in found[0].text, found


def test_a_fragment_cut_at_a_comma_loses_to_the_whole_sentence(embedder):
    src = [source(1, "試用期間中の社員も対象となるが、\n"), source(2, "試用期間中の社員も、健康診断の対象となる。")]
    found = quotes.pick("試用期間中の社員は健康診断の対象ですか？", src, embedder)
    assert found[0].number == 2, found


def test_japanese_answers_are_checked_for_chinese_and_english():
    context = "Rustの各値は、所有者と呼ばれる変数と対応している。`String::from` を使う。"
    assert checks.not_japanese("Rustの各值は所有者と対応します。", context) == "chinese"   # 值: not Japanese
    assert checks.not_japanese("All ownership rules apply here.", context) == "english"
    assert checks.not_japanese("各値は所有者と対応します [1]。", context) is None
    assert checks.not_japanese("`let s = String::from(\"hello world\")` を使います。", context) is None  # code
    assert checks.not_japanese("String::from を使います。", context) is None                  # from the sources
    assert checks.not_english("The daily allowance is 2,500 yen.") is None
    assert checks.not_english("日当は2,500円です。") == "japanese"


def test_refusals_and_repeats_are_recognised():
    assert checks.refuses("資料には書かれていません。")
    assert checks.refuses("データには書かれていません。")
    assert checks.refuses("The sources do not contain the answer.")
    assert not checks.refuses("日当は2,500円です [1]。")
    assert checks.adds_nothing("一般社員の日当は2,500円です。", "一般社員 ・・・ 2,500円 × 出張日数 日当")
    assert not checks.adds_nothing("日当は出張日数に2,500円を掛けた額で、役員は7,500円です。", "一般社員 2,500円")


def test_the_model_text_is_left_out_for_a_reason():
    src = [source(1, ALLOWANCE)]
    quote = [quotes.Quote(1, "一般社員 ・・・ 2,500円 × 出張日数", 0, 0.9)]
    assert checks.left_out("日当はいくら？", "ja", "資料には書かれていません。", quote, src) == "refused"
    assert checks.left_out("日当はいくら？", "ja", "All employees receive it.", quote, src) == "english"
    assert checks.left_out("日当はいくら？", "ja", "一般社員は2,500円です。", quote, src) == "repeats"
    assert checks.left_out("日当はいくら？", "ja", "役員は7,500円、一般社員は2,500円です [1]。", quote, src) is None
    assert checks.left_out("日当はいくら？", "ja", "日当は9,000円です。", quote, src) == "contradicts"
    # without a quote only the language is checked (and the text then stays, with a notice)
    assert checks.left_out("日当はいくら？", "ja", "資料には書かれていません。", [], src) is None
    assert checks.left_out("日当はいくら？", "ja", "各值は2,500円。", [], src) == "chinese"


def test_a_copied_source_label_gets_the_number_the_sources_have():
    sources = [Source(1, "book", "ch04-01-what-is-ownership.md", "/b/ch04.md", "所有権とは？, L193-213", "a"),
               Source(2, "book", "ch04-01-what-is-ownership.md", "/b/ch04.md", "所有権とは？, L28-57", "b"),
               Source(3, "book", "ch08.md", "/b/ch08.md", "", "c")]
    text = ("所有権の規則は三つです。\n[1] ch04-01-what-is-ownership.md (所有権とは？, L28-57)\n"
            "[3] ch04-01-what-is-ownership.md\n[3] ch08.md\n値は破棄されます [1]。")
    fixed = citations.relabel(text, sources)
    # a line that only copies a label keeps the right number alone; the Sources list shows the label
    assert fixed == "所有権の規則は三つです。\n[2]\n[1]\n[3]\n値は破棄されます [1]。"
    assert citations.find_citations(fixed, 3) == [2, 1, 3]
    said = "[1] 所有権の規則は ch08.md に書かれています。"  # more than a label: only the number changes
    assert citations.relabel(said, sources) == "[3] 所有権の規則は ch08.md に書かれています。"
