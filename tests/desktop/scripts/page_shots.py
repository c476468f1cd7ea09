"""Every page of the main window, drawn with realistic content, saved as PNGs and checked
for text that does not fit its widget. Used in-process by test_page_screenshots.py and run
as a script under QT_SCALE_FACTOR (which must be set before Qt starts):

    page_shots.py DATA_DIR OUT_DIR LANG THEME      (prints one JSON object: files, problems)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from engine.types import JobEvent
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QApplication, QCheckBox, QLabel, QPushButton,
                               QRadioButton, QStyleOptionViewItem, QTableView, QToolButton, QTreeView,
                               QWidget)

PAGE_NAMES = ("chat", "libraries", "models", "finetune", "compare", "settings")

DOCS = {
    "旅費規程.md": "# 旅費規程\n\n## 第3条 日当\n\n出張の日当は、国内については一日につき4,700円とする。"
                  "海外については別表による。\n\n## 第4条 宿泊費\n\n宿泊費は実費精算とし、上限は一泊12,000円とする。\n",
    "handbook.md": "# Employee handbook\n\n## Remote work\n\nEmployees may work from home up to three days a week "
                   "after agreeing a schedule with their manager.\n",
    "meeting-notes.txt": "Meeting notes, 12 May: the budget for the Osaka office was approved. Next review in July.\n",
}

ANSWER_JA = ("国内出張の日当は、一日につき **4,700円** です [1]。宿泊費は実費精算で、上限は一泊 12,000円です [2]。\n\n"
             "| 区分 | 金額 |\n|---|---|\n| 日当(国内) | 4,700円 |\n| 宿泊費の上限 | 12,000円 |\n\n"
             "精算の例:\n\n```python\nnights = 2\ntotal = 4700 * 3 + 12000 * nights\n```\n")


def sources(folder: Path) -> list[dict]:
    doc = folder / "旅費規程.md"
    return [{"number": 1, "library": "社内規程", "path": "旅費規程.md", "abs_path": str(doc),
             "location": "旅費規程 > 第3条 日当", "text": "出張の日当は、国内については一日につき4,700円とする。",
             "line_start": 5},
            {"number": 2, "library": "社内規程", "path": "旅費規程.md", "abs_path": str(doc),
             "location": "旅費規程 > 第4条 宿泊費", "text": "宿泊費は実費精算とし、上限は一泊12,000円とする。",
             "line_start": 9}]


def write_docs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def add_content(engine, folder: Path, index: bool = True) -> int:
    """A library (indexed when an embedder is there), a Japanese conversation with cited
    sources, a table and code, and two fine-tuning jobs."""
    from engine.api import preset

    write_docs(folder)
    library = engine.libraries.add(folder, "社内規程")
    if index:
        engine.libraries.index(library.name)
    conversations = engine.conversations
    conv = conversations.create("出張の日当について")
    conversations.add_message(conv.id, "user", "出張の日当と宿泊費の上限を教えてください。")
    conversations.add_message(conv.id, "assistant", ANSWER_JA, sources=sources(folder), citations=[1, 2],
                              model="SmolLM2-135M-Instruct.Q4_1",
                              stats={"tokens_per_second": 38.4, "ran_on": "CPU", "completion_tokens": 96})
    conversations.create("Remote work policy")
    base = engine.models.default().name
    train = [{"messages": [{"role": "user", "content": f"質問{i}?"}, {"role": "assistant", "content": "回答。"}]}
             for i in range(8)]
    engine.jobs.create("faq-v1", base, train, preset("quick"))
    cancelled = engine.jobs.create("hr-answers", base, train, preset("quick"))
    engine.jobs.cancel(cancelled.id)
    # two comparison runs: one waiting to start, one stopped (the runs list shows their badges)
    from engine.api import make_question

    questions = [make_question("出張の日当はいくらですか?", ["4,700円"]),
                 make_question("宿泊費の上限は?", ["12,000円"])]
    engine.lab.create(questions, base_model=base, arms=("base",), name="日当と宿泊費")
    stopped = engine.lab.create(questions, base_model=base, arms=("base",), name="handbook check")
    engine.lab.runs._set(stopped.id, status="cancelled")
    return conv.id


def show_content(app: QApplication, window, ctx, conversation_id: int) -> None:
    """The conversation open in the chat, and a loss curve on the selected job."""
    chat = window.page("chat")
    chat.open_conversation(conversation_id)
    finetune = window.page("finetune")
    deadline = time.monotonic() + 10
    while (len(chat.transcript.views) < 2 or not finetune.model.rowCount()
           or chat.conversations.list.count() < 2) and time.monotonic() < deadline:
        settle(app, ctx, 0.05)
    compare = window.page("compare")
    compare.tabs.setCurrentIndex(1)   # the results: the runs with their status badges
    while compare.runs.count() < 2 and time.monotonic() < deadline:
        settle(app, ctx, 0.05)
    view = finetune.detail.view
    view.take(JobEvent.from_dict({"event": "start", "total_steps": 60}))
    for step in range(1, 41):
        view.take(JobEvent.from_dict({"event": "step", "step": step, "total": 60, "loss": 2.4 / (1 + step / 8) + 0.3, "eta_s": 95}))


def settle(app: QApplication, ctx, seconds: float = 0.25) -> None:
    """Let queued runner callbacks arrive and layouts settle."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    deadline = time.monotonic() + 10
    while getattr(ctx.runner, "busy", lambda: False)() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()


# -- clipped text -------------------------------------------------------------------------
def _elided(text: str) -> bool:
    return "…" in text or "..." in text


def clipped_cells(view: QAbstractItemView) -> list[str]:
    """Status cells (badges, bars: StatusDelegate) in a table or list that need more room than their column."""
    from desktop.widgets import StatusDelegate

    model, problems = view.model(), []
    if model is None:
        return problems
    option = QStyleOptionViewItem()
    option.font = view.font()
    root = view.rootIndex()
    header = view.horizontalHeader() if isinstance(view, QTableView) else \
        view.header() if isinstance(view, QTreeView) else None
    columns = header.count() if header is not None else 1    # (a list model's columnCount is private)
    for row in range(min(model.rowCount(root), 20)):
        for column in range(columns):
            index = model.index(row, column, root)
            delegate = view.itemDelegateForIndex(index)
            if not isinstance(delegate, StatusDelegate) or not delegate.styled(index):
                continue
            need, rect = delegate.sizeHint(option, index), view.visualRect(index)
            width = min(rect.right(), view.viewport().width()) - rect.left()   # what can be seen of it
            if rect.width() > 0 and (delegate.minimum_width(option, index) > width + 1
                                     or need.height() > rect.height() + 1):
                problems.append(f"{type(view).__name__} cell ({row}, {column}) {index.data()!r}: needs "
                                f"{delegate.minimum_width(option, index)}x{need.height()}, has {width}x{rect.height()}")
    return problems


def clipped(root: QWidget) -> list[str]:
    """Visible labels, buttons and check boxes whose text needs more room than they have, and
    status cells in tables. Word-wrapped labels are checked for height; elided texts are accepted."""
    problems = []
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root) or not w.isVisible() or w.width() <= 1:
            continue
        if isinstance(w, QAbstractItemView):
            problems += clipped_cells(w)
            continue
        if not isinstance(w, (QLabel, QAbstractButton)):
            continue
        name = f"{type(w).__name__}({w.objectName() or ''}) {w.text()!r}"
        if isinstance(w, QLabel):
            text = w.text()
            if not text or w.pixmap() is not None and not w.pixmap().isNull() or _elided(text):
                continue
            rect = w.contentsRect()
            margin = 2 * (w.margin() + max(0, w.indent()))
            if w.wordWrap() or w.textFormat() == w.textFormat().RichText or "<" in text:
                need = w.heightForWidth(w.width()) if w.wordWrap() else w.sizeHint().height()
                if need > w.height() + 1:
                    problems.append(f"{name}: needs {need}px high, has {w.height()}")
                continue
            widest = max(w.fontMetrics().horizontalAdvance(line) for line in text.split("\n"))
            if widest > rect.width() - margin + 1:
                problems.append(f"{name}: text {widest}px, room {rect.width() - margin}px")
        elif isinstance(w, (QPushButton, QCheckBox, QRadioButton)) or \
                (isinstance(w, QToolButton) and w.toolButtonStyle() != w.toolButtonStyle().ToolButtonIconOnly):
            if not isinstance(w, QAbstractButton) or not w.text() or _elided(w.text()):
                continue
            hint = w.sizeHint()
            if hint.width() > w.width() + 1 or hint.height() > w.height() + 1:
                problems.append(f"{name}: needs {hint.width()}x{hint.height()}, has {w.width()}x{w.height()}")
    return problems


def shoot(app: QApplication, window, ctx, out: Path, tag: str, pages=PAGE_NAMES) -> tuple[list[Path], list[str]]:
    files, problems = [], []
    for name in pages:
        window.show_page(name)
        settle(app, ctx)
        path = out / f"{tag}-{name}.png"
        if not window.grab().save(str(path), "PNG"):
            raise RuntimeError(f"could not save {path}")
        files.append(path)
        problems += [f"{tag}-{name}: {p}" for p in clipped(window)]
    return files, problems


def main() -> int:
    data, out, lang, theme_name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    os.environ["BUNKO_DATA_DIR"] = str(data)
    app = QApplication(sys.argv[:1])
    from desktop import theme
    from desktop.app import register_fonts
    from desktop.context import AppContext
    from desktop.i18n import apply_language
    from desktop.main_window import MainWindow
    from desktop.settings import Settings
    from engine.api import Engine

    register_fonts()
    apply_language(lang)
    theme.apply_theme(theme_name)
    engine = Engine.open(data / "bunko.duckdb")
    try:
        conversation = add_content(engine, data / "docs", index=False)
        ctx = AppContext(engine, Settings(data / "settings.ini"))
        window = MainWindow(ctx)
        ctx.window = window
        window.resize(1280, 800)
        window.show()
        window.create_pages()
        show_content(app, window, ctx, conversation)
        scale = os.environ.get("QT_SCALE_FACTOR", "1")
        files, problems = shoot(app, window, ctx, out, f"{lang}-{theme_name}-x{scale}")
        print(json.dumps({"files": [str(f) for f in files], "problems": problems}))
        window.close()
        ctx.shut_down(10)
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
