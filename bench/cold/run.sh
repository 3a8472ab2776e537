#!/usr/bin/env bash
# Cold start against Go: each round runs one fresh green process and one fresh Go process (order
# alternating; green once in each stack mode), N fibers/goroutines each sleeping 100 ms; prints the median of every figure per
# side and green/Go ratios. Without `go` on PATH only green's figures are printed.
#
# usage: bench/cold/run.sh [--rounds R] [--count N]      (default 7 rounds, 100000)
# env:   BUILD=<build dir> (default build-bench, configured here in Release mode)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=7 count=100000
while (($#)); do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds R] [--count N]" >&2; exit 2 ;;
    esac
done
build=${BUILD:-build-bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGREEN_BUILD_BENCH=ON >/dev/null
cmake --build "$build" --target bench_cold_sleepers >/dev/null
sides=(green compact)
if command -v go >/dev/null 2>&1 &&
    (cd bench/cold && GOCACHE=$tmp/gocache go build -o "$tmp/go_sleepers" cold_sleepers.go); then
    sides+=(go)
else
    echo "note: no Go toolchain (Debian: apt-get install golang-go); green figures only"
fi

run_side() {  # SIDE: one fresh process, its line appended to $tmp/SIDE
    case $1 in
    green) "$build/bench/cold/bench_cold_sleepers" "$count" >>"$tmp/green" ;;
    compact) GREEN_STACK_MODE=compact "$build/bench/cold/bench_cold_sleepers" "$count" >>"$tmp/compact" ;;
    go) "$tmp/go_sleepers" "$count" >>"$tmp/go" ;;
    esac
}
for ((r = 0; r < rounds; ++r)); do
    if ((r % 2)); then order=("${sides[@]}"); else order=($(printf '%s\n' "${sides[@]}" | tac)); fi
    for s in "${order[@]}"; do run_side "$s"; done
done

python3 - "$tmp" "$count" "${sides[@]}" <<'PY'
import statistics, sys
tmp, count, sides = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
keys = ["wall_ms", "maxrss_kb", "minflt", "user_ms", "sys_ms"]
med = {}
for s in sides:
    rows = [dict(kv.split("=") for kv in line.split()) for line in open(f"{tmp}/{s}")]
    med[s] = {k: statistics.median(float(r[k]) for r in rows) for k in keys}
print(f"{count} sleepers of 100 ms, fresh process each, median of {len(rows)} runs")
greens = [s for s in sides if s != "go"]
print(f"{'':12}" + "".join(f"{s:>12}" for s in sides) +
      ("".join(f"{s + '/go':>12}" for s in greens) if "go" in sides else ""))
for k in keys:
    line = f"{k:12}" + "".join(f"{med[s][k]:12.1f}" for s in sides)
    if "go" in sides and med["go"][k]:
        line += "".join(f"{med[s][k] / med['go'][k]:11.2f}x" for s in greens)
    print(line)
for s in sides:
    print(f"{s}: {med[s]['maxrss_kb'] * 1024 / count:.0f} resident bytes and "
          f"{med[s]['minflt'] / count:.2f} page faults per fiber")
PY
