#!/usr/bin/env bash
# Runs a program natively and under the shim and compares what it prints on stdout. SHIM is
# "libgreen_preload.so [VAR=VALUE...]" (run with LD_PRELOAD and the variables)
# or "greenrun [OPTIONS...]", as one argument. Under the shim, "info: os_threads=N" on stderr
# must be at most MAX_OS_THREADS ("-": not checked) and "info: elapsed_ms=M" at most MAX_MS
# (either check is skipped when the program prints no such line).
# Usage: compare.sh SHIM MAX_OS_THREADS MAX_MS PROGRAM [ARGS...]
set -u
read -ra shim <<<"$1"
max_threads=$2 max_ms=$3
shift 3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$@" >"$dir/native.out" 2>"$dir/native.err"
native_rc=$?
if [[ ${shim[0]} == *.so ]]; then
    env LD_PRELOAD="${shim[0]}" "${shim[@]:1}" "$@" >"$dir/shim.out" 2>"$dir/shim.err"
else
    "${shim[@]}" -- "$@" >"$dir/shim.out" 2>"$dir/shim.err"
fi
shim_rc=$?

echo "--- native (rc=$native_rc)"; cat "$dir/native.out" "$dir/native.err"
echo "--- shim (rc=$shim_rc)"; cat "$dir/shim.out" "$dir/shim.err"
fail=0
[[ $native_rc -eq 0 ]] || { echo "FAIL: native run exited $native_rc"; fail=1; }
[[ $shim_rc -eq 0 ]] || { echo "FAIL: run under the shim exited $shim_rc"; fail=1; }
if ! cmp -s "$dir/native.out" "$dir/shim.out"; then
    echo "FAIL: stdout differs"; diff "$dir/native.out" "$dir/shim.out"; fail=1
fi
threads=$(sed -n 's/^info: os_threads=//p' "$dir/shim.err" | tail -n 1)
if [[ $max_threads != - && -n $threads && $threads -gt $max_threads ]]; then
    echo "FAIL: $threads OS threads under the shim (at most $max_threads expected)"; fail=1
fi
ms=$(sed -n 's/^info: elapsed_ms=//p' "$dir/shim.err" | tail -n 1)
if [[ -n $ms && $ms -gt $max_ms ]]; then
    echo "FAIL: took $ms ms under the shim (at most $max_ms expected)"; fail=1
fi
exit $fail
