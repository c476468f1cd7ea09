"""The runner: work off the UI thread, results on it, the newest request wins."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread


def test_run_delivers_progress_and_result_on_the_ui_thread(qtbot):
    from desktop.runner import Runner

    runner = Runner()
    ui = QThread.currentThread()
    seen = []

    def work(n, progress=None, cancel=None):
        assert QThread.currentThread() is not ui
        for i in range(n):
            progress(i)
        return n * 2

    done = []
    runner.run(work, 3, on_progress=lambda v: seen.append((v, QThread.currentThread() is ui)),
               on_done=done.append)
    qtbot.waitUntil(lambda: done == [6], timeout=5000)
    assert seen == [(0, True), (1, True), (2, True)]


def test_newest_request_wins_and_errors_arrive(qtbot):
    from desktop.runner import Runner

    errors = []
    runner = Runner(on_error=errors.append)
    release = threading.Event()
    results = []

    def slow(value, cancel=None):
        release.wait(5)
        return value

    runner.run(slow, "old", key="search", on_done=results.append)
    runner.run(slow, "new", key="search", on_done=results.append)
    release.set()
    qtbot.waitUntil(lambda: results == ["new"], timeout=5000)
    time.sleep(0.1)
    qtbot.wait(50)
    assert results == ["new"]

    runner.run(lambda: 1 / 0)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=5000)
    assert isinstance(errors[0], ZeroDivisionError)


def test_stream_items_and_stop_keeps_the_final_item(qtbot):
    from desktop.runner import Runner

    runner = Runner()
    items, finals = [], []

    def numbers(cancel):
        i = 0
        try:
            while not cancel.cancelled and i < 10_000:
                yield i
                i += 1
                time.sleep(0.001)
        finally:
            pass
        yield "end"

    task = runner.stream(numbers, on_item=items.append, on_done=finals.append)
    qtbot.waitUntil(lambda: len(items) > 5, timeout=5000)
    task.cancel(drop=False)
    qtbot.waitUntil(lambda: finals == ["end"], timeout=5000)
    assert items[-1] == "end" and len(items) < 10_000
