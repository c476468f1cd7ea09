"""The Compare page with a real run open, saved as a PNG and checked for clipped text (as
page_shots.py does for every page). For looking at a measured run, e.g. the four-arm table:

    compare_shots.py DATA_DIR OUT_DIR LANG RUN [WIDTHxHEIGHT]   (prints one JSON object: files, problems)

DATA_DIR is a Bunko data folder holding the run (use a copy: the window may write settings).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[3])]  # this checkout's code
from page_shots import clipped, settle  # noqa: E402


def main() -> int:
    data, out, lang, run_key = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    width, height = (int(x) for x in (sys.argv[5] if len(sys.argv) > 5 else "1440x900").split("x"))
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
    theme.apply_theme("light")
    engine = Engine.open(data / "bunko.duckdb")
    out.mkdir(parents=True, exist_ok=True)
    try:
        run = engine.lab.get(run_key)
        ctx = AppContext(engine, Settings(data / "settings.ini"))
        window = MainWindow(ctx)
        ctx.window = window
        window.resize(width, height)
        window.show()
        window.create_pages()
        window.show_page("compare")
        page = window.page("compare")
        page.tabs.setCurrentIndex(1)
        deadline = time.monotonic() + 20
        while page.runs.count() == 0 and time.monotonic() < deadline:
            settle(app, ctx, 0.05)
        page.show_run(run.id)
        while getattr(page, "summary", None) is None and time.monotonic() < deadline:
            settle(app, ctx, 0.05)
        settle(app, ctx)
        files, problems = [], []
        for tag, row in (("table", None), ("question", 0)):
            if row is not None:
                page.per_question.setCurrentCell(row, 0)
                settle(app, ctx)
            path = out / f"compare-{lang}-{tag}.png"
            window.grab().save(str(path), "PNG")
            files.append(str(path))
            problems += [f"{tag}: {p}" for p in clipped(window)]
        print(json.dumps({"files": files, "problems": problems}, ensure_ascii=False))
        window.close()
        ctx.shut_down(10)
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
