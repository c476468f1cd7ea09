#!/usr/bin/env bash
# Build time, archive size and start-up time of the packaged Bunko against the pip-installed one.
#
#   packaging/bench_build.sh              build, then measure
#   packaging/bench_build.sh --no-build   measure the archive already in dist/
#
# Start-up is the time from launching the program to the first paint of its window
# (offscreen, BUNKO_STARTUP_PROBE, a fresh BUNKO_DATA_DIR each run), for:
#   - the packaged program, first start right after unpacking the archive (its files are
#     in the page cache from tar; a reboot-cold disk is slower), then the median of 5 more;
#   - the same-run reference: the pip-installed app (`python -m desktop.launcher`).
# Goal: the packaged program reaches its window in at most 2 s.
# Writes bench-out/package.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
BUILD_S=null
if [[ "${1:-}" != "--no-build" ]]; then
    t0=$(date +%s.%N)
    packaging/build_linux.sh >build/bench-build.log 2>&1 || { tail -30 build/bench-build.log; exit 1; }
    BUILD_S=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))")
fi
ARCHIVE=$(ls -t dist/Bunko-*-linux-*.tar.gz | head -1)
WORK="$(mktemp -d /tmp/bunko-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
tar -xzf "$ARCHIVE" -C "$WORK"
export QT_QPA_PLATFORM=offscreen
unset DISPLAY WAYLAND_DISPLAY

# start_time CMD...: seconds from launch to the first paint (prints "nan" on failure).
start_time() {
    local data t0 out
    data="$(mktemp -d "$WORK/data.XXXXXX")"
    t0=$(date +%s.%N)
    out=$(BUNKO_DATA_DIR="$data" BUNKO_STARTUP_PROBE=1 timeout 60 "$@" 2>/dev/null) || true
    t1=$(grep -o 'BUNKO_FIRST_PAINT [0-9.]*' <<<"$out" | cut -d' ' -f2)
    if [[ -n "$t1" ]]; then python3 -c "print(round($t1 - $t0, 3))"; else echo nan; fi
}

first=$(start_time "$WORK/Bunko/bunko")
packaged=(); reference=()
for _ in 1 2 3 4 5; do
    packaged+=("$(start_time "$WORK/Bunko/bunko")")
    reference+=("$(start_time "$PY" -m desktop.launcher)")
done
mkdir -p bench-out
python3 - "$ARCHIVE" "$BUILD_S" "$first" "${packaged[*]}" "${reference[*]}" <<'PY'
import json, os, statistics, sys
archive, build_s, first, packaged, reference = sys.argv[1:]
packaged = [float(x) for x in packaged.split()]
reference = [float(x) for x in reference.split()]
result = {
    "archive": os.path.basename(archive),
    "archive_mb": round(os.path.getsize(archive) / 1e6, 1),
    "build_seconds": None if build_s == "null" else float(build_s),
    "start_first_s": float(first),
    "start_median_s": statistics.median(packaged),
    "reference_pip_start_median_s": statistics.median(reference),
    "start_runs_s": packaged, "reference_runs_s": reference,
    "goal_s": 2.0,
}
result["goal_met"] = max(result["start_first_s"], result["start_median_s"]) <= result["goal_s"]
json.dump(result, open("bench-out/package.json", "w"), indent=1)
print(f"archive {result['archive']}: {result['archive_mb']} MB; build {result['build_seconds']} s")
print(f"start to first paint: packaged first {result['start_first_s']:.2f} s, median {result['start_median_s']:.2f} s;"
      f" pip-installed reference median {result['reference_pip_start_median_s']:.2f} s (goal <= 2 s: "
      f"{'met' if result['goal_met'] else 'NOT met'})")
PY
