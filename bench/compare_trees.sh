#!/usr/bin/env bash
# Before/after in one run: the same benchmarks from two checkouts (e.g. a worktree at the old
# commit and this one), interleaved round by round so that machine noise falls on both alike.
# Prints per benchmark the median of each side and the ratio after/before: bench_core's
# switch/spawn/sleepers, every sync_bench row (CPU time), and bench/echo's server CPU per round
# trip relative to the plain epoll loop measured in the same echo run, at each connection count.
#
# usage: bench/compare_trees.sh BEFORE_TREE AFTER_TREE [ROUNDS]   (default 3 rounds)
# env:   BUILD=<build dir inside each tree> (default build-rel; configured here in Release mode)
#        ECHO=0 skips the echo runs (about 25 s a side per round)
set -euo pipefail
before=$(realpath "$1") after=$(realpath "$2") rounds=${3:-3}
build=${BUILD:-build-rel}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for tree in "$before" "$after"; do
    cmake -S "$tree" -B "$tree/$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGREEN_BUILD_TESTS=OFF \
        -DGREEN_BUILD_EXAMPLES=OFF -DGREEN_BUILD_BENCH=ON >/dev/null
    cmake --build "$tree/$build" --target bench_core sync_bench >/dev/null
done

run_side() {  # TREE NAME ROUND
    local tree=$1 name=$2 r=$3
    "$tree/$build/bench/core/bench_core" --benchmark_filter='Green|Sleepers' \
        --benchmark_out="$out/$name.core.$r.json" --benchmark_out_format=json >/dev/null 2>&1
    "$tree/$build/bench/sync/sync_bench" \
        --benchmark_out="$out/$name.sync.$r.json" --benchmark_out_format=json >/dev/null 2>&1
    if [[ ${ECHO:-1} != 0 ]]; then
        (cd "$tree" && BUILD=$build bench/echo/run.sh --quick \
            --servers "epoll green-uring green-epoll") >"$out/$name.echo.$r.txt" 2>&1
    fi
}

for ((r = 1; r <= rounds; r++)); do
    echo "round $r/$rounds" >&2
    if ((r % 2)); then
        run_side "$before" before "$r"; run_side "$after" after "$r"
    else
        run_side "$after" after "$r"; run_side "$before" before "$r"
    fi
done

python3 - "$out" "$rounds" <<'EOF'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])

def bench_rows(side, kind):
    rows = {}
    for r in range(1, rounds + 1):
        for b in json.load(open(f"{out}/{side}.{kind}.{r}.json"))["benchmarks"]:
            if b.get("run_type") == "aggregate":
                continue
            # Sleepers repeat inside one run: their wall time; the rest CPU time.
            t = b["real_time"] if "Sleepers" in b["name"] else b["cpu_time"]
            rows.setdefault(b["name"], []).append((t, b["time_unit"]))
    return rows

def echo_rows(side):
    rows = {}
    for r in range(1, rounds + 1):
        for line in open(f"{out}/{side}.echo.{r}.txt"):
            f = line.split()
            if len(f) >= 9 and f[0].isdigit() and f[1].startswith("green"):
                rows.setdefault(f"echo {f[1]} conns={f[0]} cpu/rt vs epoll", []).append(
                    (float(f[6].rstrip("x")), "x"))
    return rows

print(f"{'benchmark':58} {'before':>12} {'after':>12} {'after/before':>12}")
import os
kinds = ("core", "sync", "echo") if os.environ.get("ECHO", "1") != "0" else ("core", "sync")
for kind in kinds:
    a = echo_rows("before") if kind == "echo" else bench_rows("before", kind)
    b = echo_rows("after") if kind == "echo" else bench_rows("after", kind)
    for name in a:
        if name not in b:
            continue
        ma = statistics.median(t for t, _ in a[name])
        mb = statistics.median(t for t, _ in b[name])
        unit = a[name][0][1]
        print(f"{name[:58]:58} {ma:10.2f}{unit:>2} {mb:10.2f}{unit:>2} {mb / ma:11.3f}x")
EOF
