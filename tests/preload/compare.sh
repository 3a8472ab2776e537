#!/usr/bin/env bash
# Runs PROGRAM natively and under the shim: the shim run must exit as the native one (which must
# succeed) and print the same stdout (not empty), with no "green:" error line on its stderr. SHIM, one
# argument, is "greenrun [OPTIONS...]" or "libgreen_preload.so [VAR=VALUE...]" (run with
# LD_PRELOAD and the variables). If the program prints "info: os_threads=N" or
# "info: elapsed_ms=M" on stderr, the shim run's must be at most MAX_OS_THREADS and MAX_MS
# ("-": not checked).
# usage: compare.sh SHIM MAX_OS_THREADS MAX_MS PROGRAM [ARGS...]
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
echo "--- ${shim[*]} (rc=$shim_rc)"; cat "$dir/shim.out" "$dir/shim.err"
fail=0
[[ $native_rc -eq 0 ]] || { echo "FAIL: native run exited $native_rc"; fail=1; }
[[ -s $dir/native.out ]] || { echo "FAIL: nothing on stdout to compare"; fail=1; }
[[ $shim_rc -eq $native_rc ]] || { echo "FAIL: exit status $shim_rc under the shim"; fail=1; }
if ! cmp -s "$dir/native.out" "$dir/shim.out"; then
    echo "FAIL: stdout differs"; diff "$dir/native.out" "$dir/shim.out"; fail=1
fi
if grep -q '^green:' "$dir/shim.err"; then
    echo "FAIL: the runtime complained on stderr"; fail=1
fi
threads=$(sed -n 's/^info: os_threads=//p' "$dir/shim.err" | tail -n 1)
if [[ $max_threads != - && -n $threads && $threads -gt $max_threads ]]; then
    echo "FAIL: $threads OS threads under the shim (at most $max_threads expected)"; fail=1
fi
ms=$(sed -n 's/^info: elapsed_ms=//p' "$dir/shim.err" | tail -n 1)
if [[ $max_ms != - && -n $ms && $ms -gt $max_ms ]]; then
    echo "FAIL: took $ms ms under the shim (at most $max_ms expected)"; fail=1
fi
exit $fail
