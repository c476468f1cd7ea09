#!/usr/bin/env bash
# Smoke test of a built Bunko (Linux): run the packaged program, offline and offscreen, with
# BUNKO_DATA_DIR in a temporary folder.
#
#   packaging/smoke_test.sh dist                 (the folder holding Bunko/, or Bunko/ itself,
#   packaging/smoke_test.sh dist/Bunko-*.tar.gz   or the archive, unpacked to a temp folder first)
#
# Checks, each printed as PASS/FAIL:
#   1. `bunko index` of a folder with a Japanese and an English Markdown file
#   2. `bunko ask ... --json --temperature 0 --max-tokens 40` cites the English file
#   3. the window reaches its first paint offscreen and the program exits 0 (BUNKO_STARTUP_PROBE)
#   4. the same three from a read-only copy in a path with Japanese characters and spaces
#   5. a second copy started while the first is open says so and exits 0
#   6. nothing was written inside the bundle (files newer than the start of the test)
# Exit status: the number of failed checks.
set -uo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 DIST_DIR|BUNDLE_DIR|ARCHIVE.tar.gz" >&2
    exit 2
fi
WORK="$(mktemp -d /tmp/bunko-smoke.XXXXXX)"
JP_DIR="/tmp/文庫 テスト $$"
FIRST_PID=""
cleanup() {
    if [[ -n "$FIRST_PID" ]]; then kill "$FIRST_PID" 2>/dev/null; wait "$FIRST_PID" 2>/dev/null; fi
    chmod -R u+w "$JP_DIR" 2>/dev/null
    rm -rf "$WORK" "$JP_DIR"
}
trap cleanup EXIT

ARG="$1"
if [[ -f "$ARG" && "$ARG" == *.tar.gz ]]; then
    tar -xzf "$ARG" -C "$WORK" && BUNDLE="$WORK/Bunko"
elif [[ -x "$ARG/bunko" ]]; then
    BUNDLE="$(cd "$ARG" && pwd)"
else
    BUNDLE="$(cd "$ARG/Bunko" 2>/dev/null && pwd)"
fi
if [[ ! -x "${BUNDLE:-/nonexistent}/bunko" ]]; then
    echo "no Bunko program found in $ARG" >&2
    exit 2
fi

export QT_QPA_PLATFORM=offscreen
unset DISPLAY WAYLAND_DISPLAY
FAILED=0
pass() { printf 'PASS  %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; FAILED=$((FAILED + 1)); }

# A folder with a Japanese and an English document. SmolLM2-135M is tiny: at temperature 0
# it cites [1] for this wording, but it may write a wrong number for other texts.
DOCS="$WORK/docs"
mkdir -p "$DOCS"
cat > "$DOCS/出張旅費規程.md" <<'EOF'
# 出張旅費規程

出張の日当は一日あたり三千円とする。宿泊費は一泊一万二千円を上限とする。
EOF
cat > "$DOCS/greenhouse.md" <<'EOF'
# Garden notes

The greenhouse tomatoes are watered every Tuesday at seven in the morning. The watering schedule for the greenhouse is Tuesday.
EOF
touch "$WORK/start-marker"
sleep 1  # so that anything written from now on is strictly newer

# check_bundle LABEL BUNDLE_DIR DATA_DIR: index, ask, window.
check_bundle() {
    local label="$1" bundle="$2" data="$3" out
    mkdir -p "$data"
    if out=$(BUNKO_DATA_DIR="$data" "$bundle/bunko" index "$DOCS" 2>&1) && grep -q "2 added" <<<"$out"; then
        pass "$label: bunko index (2 files added)"
    else
        fail "$label: bunko index"; echo "$out" | tail -5
    fi
    if BUNKO_DATA_DIR="$data" "$bundle/bunko" ask "When are the greenhouse tomatoes watered?" \
            --json --temperature 0 --max-tokens 40 >"$data/ask.json" 2>"$data/ask.err" \
       && python3 - "$data/ask.json" <<'PY'
import json, sys
answer = json.load(open(sys.argv[1], encoding="utf-8"))
by_number = {s["number"]: s["path"] for s in answer["sources"]}
cited = [by_number.get(n) for n in answer["citations"]]
print(f"      answer: {answer['answer'][:70]!r}... cites {cited}")
sys.exit(0 if answer["status"] == "complete" and "greenhouse.md" in cited else 1)
PY
    then
        pass "$label: bunko ask --json cites greenhouse.md"
    else
        fail "$label: bunko ask"; tail -5 "$data/ask.err" "$data/ask.json" 2>/dev/null
    fi
    local t0 t1 rc
    t0=$(date +%s.%N)
    out=$(BUNKO_DATA_DIR="$data" BUNKO_STARTUP_PROBE=1 timeout 60 "$bundle/bunko" 2>"$data/gui.err")
    rc=$?
    t1=$(grep -o 'BUNKO_FIRST_PAINT [0-9.]*' <<<"$out" | cut -d' ' -f2)
    if [[ $rc -eq 0 && -n "$t1" ]]; then
        pass "$label: window painted after $(python3 -c "print(f'{$t1 - $t0:.2f}')") s, exit 0"
    else
        fail "$label: window (exit $rc)"; tail -5 "$data/gui.err"
    fi
}

echo "Bundle: $BUNDLE"
check_bundle "bundle" "$BUNDLE" "$WORK/data1"

# The same from a read-only copy in a path with Japanese characters and spaces.
mkdir -p "$JP_DIR"
cp -a "$BUNDLE" "$JP_DIR/Bunko"
chmod -R a-w "$JP_DIR"
check_bundle "read-only copy in '$JP_DIR'" "$JP_DIR/Bunko" "$WORK/data2"

# Two copies at once on one database: the second brings the first forward and exits 0.
LOG="$WORK/data1/logs/bunko.log"
before=$(grep -c "UI language" "$LOG" 2>/dev/null)
BUNKO_DATA_DIR="$WORK/data1" "$BUNDLE/bunko" >"$WORK/first.out" 2>&1 &
FIRST_PID=$!
for _ in $(seq 1 100); do  # wait until the first copy listens (it logs the language after listen())
    [[ $(grep -c "UI language" "$LOG" 2>/dev/null) -gt ${before:-0} ]] && break
    sleep 0.1
done
sleep 0.5
out=$(BUNKO_DATA_DIR="$WORK/data1" BUNKO_STARTUP_PROBE=1 timeout 30 "$BUNDLE/bunko" 2>&1)
rc=$?
if [[ $rc -eq 0 ]] && grep -q "already open" <<<"$out" && kill -0 "$FIRST_PID" 2>/dev/null; then
    pass "second copy: \"$(grep 'already open' <<<"$out")\", exit 0; first still running"
else
    fail "second copy (exit $rc): $out"
fi
kill "$FIRST_PID" 2>/dev/null; wait "$FIRST_PID" 2>/dev/null; FIRST_PID=""

# Nothing written inside the bundle (logs, caches, __pycache__, the embedder's digest).
written=$(find "$BUNDLE" -newer "$WORK/start-marker" -print 2>/dev/null | head -20)
if [[ -z "$written" && -z "$(find "$BUNDLE" -name __pycache__ -print -quit)" ]]; then
    pass "nothing written inside the bundle"
else
    fail "files written inside the bundle:"; echo "$written"
fi

echo
if [[ $FAILED -eq 0 ]]; then echo "smoke test: all checks passed"; else echo "smoke test: $FAILED check(s) failed"; fi
exit "$FAILED"
