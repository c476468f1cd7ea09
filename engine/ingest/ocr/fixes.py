"""Corrections for the usual OCR look-alikes in Japanese text.

The recogniser was trained on Chinese as much as Japanese, so on a Japanese
page it sometimes returns the simplified form (费 for 費), reads the long
mark ー as the kanji 一, the 。 of vertical writing as °, and puts a space after a thousands comma. Left as
they are, these break search: the bigram keyword index has no 费用 for a
query 費用. Simplified forms are changed only on pages with kana, so a
Chinese document keeps its own characters.
"""

from __future__ import annotations

import re

_PAIRS = (
    "费費 这這 说説 为為 门門 们們 个個 对対 关関 时時 间間 发発 现現 认認 议議 书書 长長 课課 东東 车車 "
    "经経 务務 报報 员員 则則 结結 实実 约約 规規 计計 记記 设設 证証 资資 质質 负負 责責 贷貸 产産 业業 "
    "电電 话話 语語 读読 纸紙 线線 统統 级級 组組 织織 营営 达達 运運 还還 进進 选選 过過 边辺 处処 导導 "
    "应応 广広 库庫 际際 陆陸 阳陽 马馬 鸟鳥 鱼魚 见見 觉覚 贝貝 页頁 顺順 题題 项項 额額 领領 风風 飞飛 "
    "饭飯 钱銭 银銀 铁鉄 锁鎖 问問 闻聞 开開 闭閉 历歴 岁歳 压圧 扩拡 择択 损損 换換 据拠 挥揮 录録 协協 "
    "单単 卖売 买買 丽麗 两両 严厳 丧喪 临臨 丰豊 险険 隐隠 难難 齐斉 节節 范範 荐薦 获獲 虑慮 让譲 训訓 "
    "讲講 许許 论論 诉訴 试試 诺諾 请請 调調 谈談 谢謝 谱譜 货貨 贩販 贯貫 贸貿 赁賃 赏賞 赔賠 赖頼 赠贈 "
    "轮輪 软軟 转転 轻軽 较較 辆両 输輸 辞辞 迟遅 递逓 适適 遗遺 邮郵 释釈 针針 钟鐘 铜銅 错錯 键鍵 镇鎮 "
    "闪閃 闲閑 阅閲 队隊 阶階 陈陳 随随 隶隷 鸡鶏 综総 审審 纳納 税税 额額 续続 签簽 预預 备備 "
)
_SIMPLIFIED = str.maketrans({p[0]: p[1] for p in _PAIRS.split() if p[0] != p[1]})
_KANA = re.compile(r"[\u3040-\u30ff]")
_KATAKANA = "\u30a0-\u30ff"
_LONG_MARK = re.compile(rf"(?<=[{_KATAKANA}])[一—\-－‐|｜丨](?=[{_KATAKANA}]|$|\s)")
_CJK = "\u3040-\u30ff\u3400-\u9fff"
_DEGREE_STOP = re.compile(rf"(?<=[{_CJK}])[°º˚](?=$|\s|[{_CJK}「」])")  # 。 of vertical writing read as °
_THOUSANDS = re.compile(r"(?<=\d)([,，]) (?=\d{3}(?!\d))")


def fix_line(text: str, japanese: bool) -> str:
    if japanese:
        text = text.translate(_SIMPLIFIED)
        text = _LONG_MARK.sub("ー", text)
        text = _DEGREE_STOP.sub("。", text)
    return _THOUSANDS.sub(r"\1", text)


def is_japanese(texts: list[str]) -> bool:
    return any(_KANA.search(t) for t in texts)
