#!/usr/bin/env bash
# tools/gdb/green.py in gdb's batch mode. On the live gdb_program (stopped by its own SIGTRAP)
# `green fibers` lists main, the two parked fibers and the hub, and `green bt N` of each parked
# fiber names the function it waits in. Then on a core dump of the same program: `green fibers`
# lists the same fibers and `green bt N` names the same functions. The core is the kernel's (the
# program run in a temp dir with core dumps on, ended by its SIGTRAP) where core_pattern writes
# a plain file there; otherwise gdb's gcore, which cannot copy a stack mapping that holds guard
# regions (Linux 6.13+), so there only `green fibers` and the helper's message are checked.
# A parked compact fiber (its stack a heap copy) unwinds on the live process; on a core the helper
# says why it cannot and names its innermost frame. Skipped (77) when gdb is not installed.
# usage: gdb_check.sh HELPER PROGRAM
set -u
helper=$1 prog=$(realpath "$2")
command -v gdb >/dev/null || { echo "gdb not installed: skipped"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
fibers_of() { grep -E '^[0-9]+ thread [0-9]+ \(LWP [0-9]+\) fiber 0x' <<<"$1"; }
# The same listing without what differs between two runs (thread ids, addresses).
# (The deepest stack use differs too: the hub's loop may have run further in one run.)
shape_of() {
    fibers_of "$1" | sed -E 's/\(LWP [0-9]+\) fiber 0x[0-9a-f]+/(LWP) fiber/; s/; stack .*//'
}
# check_bt LABEL OUTPUT FUNCTION...: every FUNCTION appears in OUTPUT
check_bt() {
    local label=$1 out=$2
    shift 2
    for f in "$@"; do
        grep -q "$f" <<<"$out" || { echo "FAIL ($label): the backtrace does not name $f"; fail=1; }
    done
}

live=$(gdb -batch -nx -ex run -x "$helper" -ex "green fibers" "$prog" 2>&1)
echo "$live"
fibers=$(fibers_of "$live")
use='; stack 128 KiB, deepest [0-9]+\.[0-9] KiB$'
grep -q ' main running$' <<<"$fibers" || { echo "FAIL: no running main"; fail=1; }
grep -Eq " parked: event$use" <<<"$fibers" || { echo "FAIL: no fiber parked on the event"; fail=1; }
grep -Eq " parked: sleep$use" <<<"$fibers" || { echo "FAIL: no sleeping fiber"; fail=1; }
grep -q ' hub runnable; stack ' <<<"$fibers" || { echo "FAIL: no hub fiber"; fail=1; }
grep -Eq ' parked: lock; stack 128 KiB, compact \([0-9]+ bytes kept\)$' <<<"$fibers" ||
    { echo "FAIL: no parked compact fiber"; fail=1; }
ev=$(grep ' parked: event;' <<<"$fibers" | cut -d' ' -f1)
sl=$(grep ' parked: sleep;' <<<"$fibers" | cut -d' ' -f1)
co=$(grep ' parked: lock;' <<<"$fibers" | cut -d' ' -f1)
bt=$(gdb -batch -nx -ex run -x "$helper" -ex "green bt ${ev:-0}" -ex "echo ---\n" \
    -ex "green bt ${sl:-0}" -ex "echo ---\n" -ex "green bt ${co:-0}" -ex "echo ---\n" \
    -ex "green bt ${ev:-0}" "$prog" 2>&1)
echo "$bt"
awk -v d="$dir" '/^---$/ { n++; next } { print > (d "/live" n+0) }' <<<"$bt"
check_bt "live, fiber $ev" "$(cat "$dir/live0")" gdb_waits_here 'green::Event::wait'
check_bt "live, fiber $sl" "$(cat "$dir/live1")" gdb_sleeps_here 'green::sleep'
check_bt "live, compact fiber $co" "$(cat "$dir/live2")" gdb_compact_waits_here 'green::WaitQueue::wait'
# The run stack's own bytes went back: the next backtrace is still whole.
check_bt "live, fiber $ev after the compact one" "$(cat "$dir/live3")" gdb_waits_here
rm -f "$dir"/live*

# A core dump: the kernel's where it lands in $dir, else gcore's.
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
kernel_core=0
if [[ -n $pattern && $pattern != '|'* && $pattern != /* ]]; then
    (cd "$dir" && ulimit -c unlimited && "$prog" >/dev/null 2>&1)
    core=$(ls "$dir"/core* 2>/dev/null | head -1)
    [[ -n $core ]] && kernel_core=1
fi
if [[ $kernel_core == 0 ]]; then
    echo "core_pattern '$pattern' does not write a core here: using gcore"
    gdb -batch -nx -ex run -ex "gcore $dir/core" "$prog" >/dev/null 2>&1
    core=$dir/core
fi
if [[ -s $core ]]; then
    out=$(gdb -batch -nx -x "$helper" -ex "green fibers" -ex "echo ---\n" -ex "green bt ${ev:-0}" \
        -ex "echo ---\n" -ex "green bt ${sl:-0}" -ex "echo ---\n" -ex "green bt ${co:-0}" \
        "$prog" "$core" 2>&1)
    echo "$out"
    [[ $(shape_of "$out") == $(shape_of "$live") ]] || { echo "FAIL: the core lists other fibers"; fail=1; }
    awk -v d="$dir" '/^---$/ { n++; next } { print > (d "/part" n+0) }' <<<"$out"
    ev_bt=$(cat "$dir/part1" 2>/dev/null) sl_bt=$(cat "$dir/part2" 2>/dev/null)
    co_bt=$(cat "$dir/part3" 2>/dev/null)
    grep -q "fiber ${co:-0} is compact: .* cannot unwind in a core dump" <<<"$co_bt" ||
        { echo "FAIL (core, compact fiber $co): no word on why it is not unwound"; fail=1; }
    if [[ $kernel_core == 1 ]]; then
        check_bt "core, fiber $ev" "$ev_bt" gdb_waits_here 'green::Event::wait'
        check_bt "core, fiber $sl" "$sl_bt" gdb_sleeps_here 'green::sleep'
    elif ! grep -q "not in the core" <<<"$ev_bt" || ! grep -q "not in the core" <<<"$sl_bt"; then
        # gcore copied the stacks (a kernel without guard regions): they must unwind.
        check_bt "gcore, fiber $ev" "$ev_bt" gdb_waits_here 'green::Event::wait'
        check_bt "gcore, fiber $sl" "$sl_bt" gdb_sleeps_here 'green::sleep'
    fi
else
    echo "FAIL: no core dump"
    fail=1
fi
exit $fail
