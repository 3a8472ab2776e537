#!/usr/bin/env bash
# Runs PROGRAM natively and under greenrun (with the given greenrun options): stdout and the exit
# status must be the same, the shim's stderr must hold no "green:" error line, and its
# "info: os_threads=N" line (if the program prints one) at most MAX_OS_THREADS ("-": no limit).
# usage: compare_greenrun.sh GREENRUN "GREENRUN OPTIONS" MAX_OS_THREADS PROGRAM [ARGS...]
set -u
greenrun=$1 opts=$2 max_threads=$3
shift 3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$@" >"$dir/native.out" 2>"$dir/native.err"
native_rc=$?
# shellcheck disable=SC2086 # the options are separate words
"$greenrun" $opts -- "$@" >"$dir/shim.out" 2>"$dir/shim.err"
shim_rc=$?

echo "--- native (rc=$native_rc)"; cat "$dir/native.out" "$dir/native.err"
echo "--- greenrun $opts (rc=$shim_rc)"; cat "$dir/shim.out" "$dir/shim.err"
fail=0
[[ $native_rc -eq 0 ]] || { echo "FAIL: native run exited $native_rc"; fail=1; }
[[ $shim_rc -eq $native_rc ]] || { echo "FAIL: exit status $shim_rc under greenrun"; fail=1; }
if ! cmp -s "$dir/native.out" "$dir/shim.out"; then
    echo "FAIL: stdout differs"; diff "$dir/native.out" "$dir/shim.out"; fail=1
fi
if grep -q '^green:' "$dir/shim.err"; then
    echo "FAIL: the runtime complained on stderr"; fail=1
fi
threads=$(sed -n 's/^info: os_threads=//p' "$dir/shim.err" | tail -n 1)
if [[ $max_threads != - && -n $threads && $threads -gt $max_threads ]]; then
    echo "FAIL: $threads OS threads under greenrun (at most $max_threads expected)"; fail=1
fi
exit $fail
