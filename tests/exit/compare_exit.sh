#!/usr/bin/env bash
# Runs a program natively and under greenrun; both runs must print the same on stdout and end
# with the same exit status (which must be EXPECTED_RC), each within 20 s.
# Usage: compare_exit.sh GREENRUN EXPECTED_RC PROGRAM [ARGS...]
set -u
greenrun=$1 expected=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

timeout 20 "$@" >"$dir/native.out" 2>"$dir/native.err"
native_rc=$?
timeout 20 "$greenrun" -- "$@" >"$dir/shim.out" 2>"$dir/shim.err"
shim_rc=$?

echo "--- native (rc=$native_rc)"; cat "$dir/native.out" "$dir/native.err"
echo "--- greenrun (rc=$shim_rc)"; cat "$dir/shim.out" "$dir/shim.err"
fail=0
[[ $native_rc -eq $expected ]] || { echo "FAIL: native run exited $native_rc, not $expected"; fail=1; }
[[ $shim_rc -eq $native_rc ]] || { echo "FAIL: greenrun exited $shim_rc, natively $native_rc"; fail=1; }
if ! cmp -s "$dir/native.out" "$dir/shim.out"; then
    echo "FAIL: stdout differs"; diff "$dir/native.out" "$dir/shim.out"; fail=1
fi
[[ -s $dir/shim.err ]] && { echo "FAIL: greenrun wrote to stderr"; fail=1; }
exit $fail
