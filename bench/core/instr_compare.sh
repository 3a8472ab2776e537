#!/usr/bin/env bash
# Instructions per hot operation, before and after, counted by callgrind: deterministic where the
# shared VM's wall clock is not. Builds libgreen.a of each tree (Release), links
# bench/core/instr_ops.cpp of this tree against each, runs every operation N and 2N times and
# prints (Ir(2N) - Ir(N)) / N per side and the ratio after/before.
#
# usage: bench/core/instr_compare.sh BEFORE_TREE AFTER_TREE [N]   (default N 20000)
# env:   BUILD=<build dir inside each tree> (default build-instr), OPS="op1 op2" (default all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
before=$(realpath "$1") after=$(realpath "$2") n=${3:-20000}
build=${BUILD:-build-instr}
command -v valgrind >/dev/null || { echo "instr_compare: valgrind is needed" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for side in before after; do
    tree=${!side}
    cmake -S "$tree" -B "$tree/$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGREEN_BUILD_TESTS=OFF \
        -DGREEN_BUILD_EXAMPLES=OFF -DGREEN_BUILD_BENCH=OFF >/dev/null
    cmake --build "$tree/$build" --target green_static >/dev/null
    lib=$(find "$tree/$build" -name libgreen.a | head -1)
    g++ -std=c++20 -O2 -I "$tree/runtime/include" "$here/instr_ops.cpp" "$lib" \
        $(pkg-config --libs liburing) -lboost_context -pthread -ldl -o "$out/$side"
done

instructions() {  # BINARY OP COUNT: total instructions of one run
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$1" "$2" "$3" >/dev/null 2>&1
    callgrind_annotate "$out/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

printf '%-20s %12s %12s %8s\n' operation "before Ir/op" "after Ir/op" ratio
for op in ${OPS:-$("$out/after" --list)}; do
    per_op=()
    for side in before after; do
        one=$(instructions "$out/$side" "$op" "$n")
        two=$(instructions "$out/$side" "$op" $((2 * n)))
        per_op+=("$(awk -v a="$one" -v b="$two" -v n="$n" 'BEGIN {printf "%.1f", (b - a) / n}')")
    done
    awk -v op="$op" -v b="${per_op[0]}" -v a="${per_op[1]}" \
        'BEGIN {printf "%-20s %12.1f %12.1f %7.3fx\n", op, b, a, a / b}'
done
