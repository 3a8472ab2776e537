#!/usr/bin/env bash
# tools/gdb/green.py in gdb's batch mode: on the live gdb_program (stopped by its own SIGTRAP)
# `green fibers` lists main, the two parked fibers and the hub, and `green bt N` of the fiber
# parked on the Event names the function that waits; on a core dump of it (gcore) `green
# fibers` lists the same. Skipped (77) when gdb is not installed.
# usage: gdb_check.sh HELPER PROGRAM
set -u
helper=$1 prog=$2
command -v gdb >/dev/null || { echo "gdb not installed: skipped"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
live=$(gdb -batch -nx -ex run -x "$helper" -ex "green fibers" -ex "gcore $dir/core" "$prog" 2>&1)
echo "$live"
fibers=$(grep -E '^[0-9]+ thread [0-9]+ \(LWP [0-9]+\) fiber 0x' <<<"$live")
grep -q ' main running$' <<<"$fibers" || { echo "FAIL: no running main"; fail=1; }
grep -q ' parked: event$' <<<"$fibers" || { echo "FAIL: no fiber parked on the event"; fail=1; }
grep -q ' parked: sleep$' <<<"$fibers" || { echo "FAIL: no sleeping fiber"; fail=1; }
grep -q ' hub runnable$' <<<"$fibers" || { echo "FAIL: no hub fiber"; fail=1; }
n=$(grep ' parked: event$' <<<"$fibers" | cut -d' ' -f1)
bt=$(gdb -batch -nx -ex run -x "$helper" -ex "green bt ${n:-0}" "$prog" 2>&1)
echo "$bt"
grep -q 'gdb_waits_here' <<<"$bt" || { echo "FAIL: green bt $n does not name gdb_waits_here"; fail=1; }
if [[ -s $dir/core ]]; then
    core=$(gdb -batch -nx -x "$helper" -ex "green fibers" "$prog" "$dir/core" 2>&1)
    echo "$core"
    from_core=$(grep -E '^[0-9]+ thread [0-9]+ \(LWP [0-9]+\) fiber 0x' <<<"$core")
    [[ $from_core == "$fibers" ]] || { echo "FAIL: the core lists other fibers"; fail=1; }
else
    echo "FAIL: gcore wrote no core"
    fail=1
fi
exit $fail
