#!/usr/bin/env bash
# Collect every self.tr()/translate() string of desktop/ into resources/i18n/bunko_ja.ts,
# keeping the translations already there, then compile bunko_ja.qm for the app.
# New or changed strings arrive marked "unfinished": translate them (pyside6-linguist,
# or by hand in the .ts) and run this again.
#
#   packaging/update_translations.sh            (uses .venv/bin, or the tools on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."

bin_dir="${VENV_BIN:-.venv/bin}"
lupdate="$bin_dir/pyside6-lupdate"; [ -x "$lupdate" ] || lupdate="$(command -v pyside6-lupdate)"
lrelease="$bin_dir/pyside6-lrelease"; [ -x "$lrelease" ] || lrelease="$(command -v pyside6-lrelease)"

mapfile -t sources < <(find desktop -name '*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort)
mkdir -p resources/i18n
"$lupdate" -no-obsolete -locations relative -source-language en -target-language ja_JP \
    "${sources[@]}" -ts resources/i18n/bunko_ja.ts
"$lrelease" resources/i18n/bunko_ja.ts -qm resources/i18n/bunko_ja.qm
