"""A real window under Xvfb with a Japanese font: a Japanese conversation is drawn,
not blank and not only boxes. CI installs xvfb and fonts-ipafont-gothic (.ci/run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).parent / "scripts" / "japanese_screenshot.py"


def _free_display() -> int:
    for n in range(91, 140):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


@pytest.mark.skipif(not shutil.which("Xvfb"), reason="Xvfb is not installed (apt-get install xvfb)")
def test_japanese_conversation_screenshot(tmp_path, embedder_dir):
    display = _free_display()
    xvfb = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{display}").exists():
                break
            time.sleep(0.05)
        data = tmp_path / "data"
        data.mkdir()
        out = tmp_path / "japanese.png"
        env = {**os.environ, "DISPLAY": f":{display}", "QT_QPA_PLATFORM": "xcb", "BUNKO_DATA_DIR": str(data),
               "PYTHONPATH": str(ROOT)}
        run = subprocess.run([sys.executable, str(SCRIPT), str(data), str(out)], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-3000:]
    finally:
        xvfb.terminate()
        xvfb.wait(10)

    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 800
    colours = {image.pixel(x, y) for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}
    assert len(colours) > 20, "the screenshot is blank"
    # Japanese glyphs drawn with a real font have many anti-aliased edge shades; boxes (tofu) have few.
    dark = sum(1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
               if image.pixelColor(x, y).lightness() < 110)
    assert dark > 500, "hardly any text was drawn"
    keep = os.environ.get("BUNKO_KEEP_SCREENSHOT")  # a path: look at it by eye
    if keep:
        shutil.copy(out, keep)
