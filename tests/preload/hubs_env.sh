#!/usr/bin/env bash
# A bad GREEN_HUBS (not a count, 0, negative, above 256) gets one warning line from the runtime
# and the default (one hub): the program still runs and prints what it prints natively.
# usage: hubs_env.sh PRELOAD_LIBRARY PROGRAM [ARGS...]
set -u
lib=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
"$@" >"$dir/native.out" 2>/dev/null || { echo "FAIL: native run failed"; exit 1; }
for bad in abc 0 -1 9999; do
    env GREEN_HUBS="$bad" LD_PRELOAD="$lib" "$@" >"$dir/out" 2>"$dir/err"
    rc=$?
    echo "--- GREEN_HUBS=$bad (rc=$rc)"
    grep '^green:' "$dir/err"
    [[ $rc -eq 0 ]] || { echo "FAIL: exit status $rc"; fail=1; }
    cmp -s "$dir/native.out" "$dir/out" || { echo "FAIL: stdout differs from the native run"; fail=1; }
    lines=$(grep -c '^green:' "$dir/err")
    [[ $lines -eq 1 ]] || { echo "FAIL: $lines green: lines on stderr, expected one"; fail=1; }
    grep -Eq "^green: GREEN_HUBS=$bad is (not a count|out of range \(1 to 256\)).*; using 1 hub$" \
        "$dir/err" || { echo "FAIL: no clear warning naming GREEN_HUBS=$bad"; fail=1; }
done
exit $fail
