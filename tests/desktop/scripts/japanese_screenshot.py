"""Run under a real X server: the chat page showing a stored Japanese conversation,
grabbed from the screen into a PNG. Usage: japanese_screenshot.py DATA_DIR OUT.png"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication


def main() -> int:
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    app = QApplication(sys.argv[:1])
    from desktop.chat import ChatPage
    from desktop.context import AppContext
    from desktop.settings import Settings
    from engine.api import Engine

    engine = Engine.open(data / "bunko.duckdb")
    conv = engine.conversations.create("出張規程について")
    engine.conversations.add_message(conv.id, "user", "出張の日当はいくらですか?")
    engine.conversations.add_message(
        conv.id, "assistant", "国内出張の日当は、一日につき **4,700円** です [1]。\n\n| 区分 | 日当 |\n|---|---|\n| 国内 | 4,700円 |",
        sources=[{"number": 1, "library": "規程", "path": "旅費規程.md", "abs_path": str(data / "旅費規程.md"),
                  "location": "第3条", "text": "出張の日当は、国内については一日につき4,700円とする。"}],
        citations=[1])
    ctx = AppContext(engine, Settings(data / "settings.ini"))
    page = ChatPage(ctx)
    ctx.window = page
    page.resize(900, 600)
    page.show()
    page.open_conversation(conv.id)

    def grab():
        screen = QGuiApplication.primaryScreen()
        shot = screen.grabWindow(0, page.x(), page.y(), page.width(), page.height())
        ok = shot.save(str(out), "PNG")
        ctx.shut_down(10)
        engine.close()
        app.exit(0 if ok else 3)

    QTimer.singleShot(2500, grab)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
