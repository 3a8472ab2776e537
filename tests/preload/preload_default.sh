#!/usr/bin/env bash
# Plain LD_PRELOAD=libgreen_preload.so patches threads by default, exactly as greenrun does;
# GREEN_PATCH=io keeps them real. PROGRAM (parked_threads) prints "os_threads=N" while its 16
# threads are parked: 17 natively, 1 when they are fibers.
# usage: preload_default.sh PRELOAD_LIB GREENRUN PROGRAM
set -u
lib=$1 greenrun=$2 prog=$3
fail=0
check() {  # description, expected count, command...
    local what=$1 want=$2
    shift 2
    local out rc got
    out=$(env -u GREEN_PATCH -u GREEN_PRELOAD "$@" 2>&1)
    rc=$?
    got=$(sed -n 's/^os_threads=//p' <<<"$out")
    echo "--- $what (rc=$rc): $out"
    if [[ $rc -ne 0 || $got != "$want" ]] || ! grep -q '^joined 16$' <<<"$out"; then
        echo "FAIL: $what: expected os_threads=$want and a clean exit"
        fail=1
    fi
}
check native 17 "$prog"
check "LD_PRELOAD" 1 LD_PRELOAD="$lib" "$prog"
check "LD_PRELOAD GREEN_PATCH=io" 17 LD_PRELOAD="$lib" GREEN_PATCH=io "$prog"
check "LD_PRELOAD GREEN_PATCH=all" 1 LD_PRELOAD="$lib" GREEN_PATCH=all "$prog"
check greenrun 1 "$greenrun" "$prog"
check "greenrun --no-threads" 17 "$greenrun" --no-threads "$prog"
exit $fail
