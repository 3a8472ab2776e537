#!/usr/bin/env bash
# How many pages green's echo server touches while it serves: clears the server's referenced
# bits (/proc/PID/clear_refs) under load and reads them back from smaps a moment later. The
# stack arena is the largest anonymous mapping; its Referenced kB / 4 / connections is the
# number of stack pages each connection's fiber touches per round trip (measured for the
# big-stack-buffer case in bench/echo/README.md). Needs root (clear_refs) and a built $BUILD.
#
# usage: bench/echo/touched_pages.sh CONNS [green_server options, e.g. --stack-buf 65536]
# env:   BUILD (default build-bench), GREEN_BACKEND, SERVER_CPU / CLIENT_CPU (default 0 / 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=$1
shift
bin=${BUILD:-build-bench}/bench/echo
host=127.0.0.1 port=$((20000 + RANDOM % 20000))
taskset -c "${SERVER_CPU:-0}" "$bin/echo_green_server" $host $port "$@" >/dev/null 2>&1 &
spid=$!
trap 'kill -TERM $spid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    if (exec 3<>/dev/tcp/$host/$port) 2>/dev/null; then break; fi
    sleep 0.05
done
taskset -c "${CLIENT_CPU:-1}" "$bin/echo_loadgen" $host $port "$n" --warmup 1 --window 2 \
    --server-pid "$spid" >/dev/null &
lpid=$!
sleep 1.5  # past the warm-up: every connection's fiber is parked in its loop
echo 1 >"/proc/$spid/clear_refs"
sleep 0.3
echo "anonymous mappings by pages referenced in 0.3 s ($n connections):"
awk '/^[0-9a-f]+-[0-9a-f]+ /{ m = $0; anon = (NF == 5) }
     /^Referenced:/{ if (anon && $2 > 0) printf "%8d kB  %s\n", $2, m }' "/proc/$spid/smaps" |
    sort -rn | head -3
wait "$lpid"
