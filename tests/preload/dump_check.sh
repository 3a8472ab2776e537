#!/usr/bin/env bash
# greenrun --dump-signal USR2 on an unmodified C program whose 100 threads block in recv,
# pthread_cond_wait, sleep and waitpid: `kill -USR2` prints every thread as a fiber with its
# wait and a backtrace naming the function it blocks in, and the program carries on to the
# same output as natively.
# usage: dump_check.sh GREENRUN PROGRAM
set -u
greenrun=$1 prog=$2
dir=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill -9 $pid 2>/dev/null; rm -rf "$dir"' EXIT
mkfifo "$dir/in"
"$greenrun" --dump-signal USR2 -- "$prog" <"$dir/in" >"$dir/out" 2>"$dir/err" &
pid=$!
exec 3>"$dir/in"  # the program's stdin stays open until "go"
for _ in $(seq 200); do grep -q '^ready$' "$dir/out" && break; sleep 0.05; done
grep -q '^ready$' "$dir/out" || { echo "FAIL: the program did not start"; cat "$dir/err"; exit 1; }
sleep 0.2  # every thread reaches its wait
kill -USR2 "$pid"
for _ in $(seq 200); do
    [[ $(grep -c '^    #0 0x' "$dir/err") -ge 100 ]] && break
    sleep 0.05
done
echo go >&3
exec 3>&-
wait "$pid"
rc=$?
pid=
cat "$dir/err"
fail=0
[[ $rc -eq 0 ]] || { echo "FAIL: exited $rc"; fail=1; }
[[ $(cat "$dir/out") == $'ready\ndone' ]] || { echo "FAIL: output: $(cat "$dir/out")"; fail=1; }
grep -q '^Hub on thread ' "$dir/err" || { echo "FAIL: no dump"; fail=1; }
for fn in blocked_in_recv blocked_in_cond_wait blocked_in_sleep blocked_in_waitpid; do
    n=$(grep -Ec "^    #[0-9]+ 0x[0-9a-f]+ $fn" "$dir/err")
    echo "$fn: $n backtraces"
    [[ $n -ge 25 ]] || { echo "FAIL: $fn in $n backtraces, expected 25"; fail=1; }
done
# Natively the program prints the same.
native=$(echo go | "$prog")
[[ $native == $'ready\ndone' ]] || { echo "FAIL: native output: $native"; fail=1; }
exit $fail
