#!/usr/bin/env bash
# greenrun --monitor: a program whose main thread computes for 300 ms after its hub started is
# reported by name on stderr, with a backtrace naming the function it computes in, and its
# output is unchanged.
# usage: monitor_check.sh GREENRUN PROGRAM
set -u
greenrun=$1 prog=$2
out=$("$greenrun" --monitor 50 -- "$prog" 2>&1)
rc=$?
echo "$out"
[[ $rc -eq 0 ]] || { echo "FAIL: exited $rc"; exit 1; }
grep -q "^done$" <<<"$out" || { echo "FAIL: no output"; exit 1; }
grep -q "green: monitor: fiber 'main' has run for" <<<"$out" || { echo "FAIL: no monitor report"; exit 1; }
grep -Eq "^    #[0-9]+ 0x[0-9a-f]+ compute_without_yielding" <<<"$out" ||
    { echo "FAIL: the report's backtrace does not name compute_without_yielding"; exit 1; }
quiet=$("$greenrun" -- "$prog" 2>&1)
grep -q "monitor" <<<"$quiet" && { echo "FAIL: a report without --monitor"; exit 1; }
exit 0
