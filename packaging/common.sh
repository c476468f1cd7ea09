# Shared by the build scripts (sourced, not run): the interpreter, the version, and the files
# every bundle gets that are fetched or made at build time (the font, the icon, the embedder).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-}"
if [[ -z "$PY" ]]; then
    if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi
fi
PYI_VERSION=6.22.3
FONT_SDIST=japanize-matplotlib==1.1.3
EXTRA="$ROOT/build/bundle-extra"
export BUNKO_BUILD_EXTRA="$EXTRA"
VERSION="$("$PY" -c 'import re; print(re.search(r"^__version__ = \"([^\"]+)\"", open("engine/__init__.py", encoding="utf-8").read(), re.M).group(1))')"

fetch_font() {  # IPAex Gothic and its licence, from the japanize-matplotlib sdist on PyPI
    mkdir -p "$EXTRA/fonts" build/font-download
    if [[ ! -f "$EXTRA/fonts/ipaexg.ttf" ]]; then
        "$PY" -m pip download "$FONT_SDIST" --no-deps --no-binary :all: -d build/font-download -q
        tar -xzf build/font-download/japanize-matplotlib-1.1.3.tar.gz -C build/font-download
        local fonts=build/font-download/japanize-matplotlib-1.1.3/japanize_matplotlib/fonts
        cp "$fonts/ipaexg.ttf" "$fonts/IPA_Font_License_Agreement_v1.0.txt" "$EXTRA/fonts/"
    fi
}

draw_icon() {
    "$PY" packaging/make_icon.py --font "$EXTRA/fonts/ipaexg.ttf"
}

build_models() {  # the default embedder, built once here so users never build it
    mkdir -p "$EXTRA/models"
    "$PY" packaging/prepare_models.py "$EXTRA/models"
}
