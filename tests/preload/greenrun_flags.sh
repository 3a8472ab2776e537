#!/usr/bin/env bash
# greenrun refuses a bad flag before running anything: one clear message, exit status 2 (a
# usage error). Good values reach the program's environment unchanged.
# usage: greenrun_flags.sh GREENRUN
set -u
greenrun=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
refuse() {  # expected message (a grep -E pattern), greenrun arguments...
    local want=$1
    shift
    rm -f "$dir/ran"
    "$greenrun" "$@" -- touch "$dir/ran" >"$dir/out" 2>"$dir/err"
    local rc=$?
    echo "--- greenrun $* (rc=$rc): $(cat "$dir/err")"
    [[ $rc -eq 2 ]] || { echo "FAIL: exit status $rc, expected 2"; fail=1; }
    grep -Eq "^greenrun: $want" "$dir/err" || { echo "FAIL: no message matching '$want'"; fail=1; }
    [[ ! -e $dir/ran ]] || { echo "FAIL: the program ran"; fail=1; }
}
refuse "--stack-size 1152921504606846976 is out of range \(16k to 1g\)" --stack-size 1152921504606846976
refuse "--stack-size 99999999999g is out of range" --stack-size 99999999999g
refuse "--stack-size 2g is out of range" --stack-size 2g
refuse "--stack-size 1k is out of range" --stack-size 1k
refuse "--stack-size wants bytes with an optional k, m or g suffix, not 'abc'" --stack-size abc
refuse "--stack-size wants bytes .* not '-1'" --stack-size -1
refuse "--stack-size wants bytes .* not '12q'" --stack-size 12q
refuse "--monitor wants milliseconds from 1 to 3600000, not '-5'" --monitor -5
refuse "--monitor wants milliseconds .* not '0'" --monitor 0
refuse "--monitor wants milliseconds .* not 'abc'" --monitor abc
for bad in abc 0 -1 9999 257; do
    refuse "--hubs wants a number of hubs from 1 to 256, not '$bad'" --hubs "$bad"
done
refuse "unknown backend 'foo' \(epoll or io_uring\)" --backend foo
refuse "unknown --file-io 'io_uring' \(uring, offload or off\)" --file-io io_uring

# Good values pass through as the runtime's variables.
out=$(env -u GREEN_STACK_SIZE -u GREEN_MONITOR_MS -u GREEN_BACKEND -u GREEN_FILE_IO -u GREEN_HUBS \
    "$greenrun" --stack-size 1g --monitor 250 --backend epoll --file-io offload --hubs 2 -- env 2>&1)
rc=$?
for want in GREEN_STACK_SIZE=1g GREEN_MONITOR_MS=250 GREEN_BACKEND=epoll GREEN_FILE_IO=offload \
    GREEN_HUBS=2; do
    grep -qx "$want" <<<"$out" || { echo "FAIL: $want not passed on (rc=$rc)"; fail=1; }
done
exit $fail
