#!/usr/bin/env bash
# The green echo server's wake-ups: runs echo_green_server with HUBS hubs where run.sh places it
# (1 hub on CPU 0; 2 hubs on CPUs 0 and 1, beside the load generator on CPU 1) against
# echo_loadgen, and prints the load generator's line (rt/s, CPU per round trip) with what
# `perf stat` counted on the server over 2 s of the window: context switches and io_uring_enter
# and epoll_wait calls, in total and per round trip. For A/B runs of two builds, alternate BUILD.
#
# usage: bench/echo/wakeups.sh HUBS [CONNS]     (default 100 connections)
# env:   BUILD=<build dir> (default build-rel; echo_green_server and echo_loadgen built there),
#        GREEN_BACKEND (default io_uring)
set -euo pipefail
cd "$(dirname "$0")/../.."
hubs=${1:?usage: wakeups.sh HUBS [CONNS]} conns=${2:-100}
bin=${BUILD:-build-rel}/bench/echo
command -v perf >/dev/null || { echo "perf not found" >&2; exit 1; }
for f in echo_green_server echo_loadgen; do
    [[ -x $bin/$f ]] || { echo "missing $bin/$f" >&2; exit 1; }
done
tmp=$(mktemp -d)
spid=
trap '[[ -n $spid ]] && kill "$spid" 2>/dev/null; rm -rf "$tmp"' EXIT
port=$((20000 + RANDOM % 2000))
cpus=0
((hubs > 1)) && cpus=0,1
GREEN_BACKEND=${GREEN_BACKEND:-io_uring} taskset -c $cpus "$bin/echo_green_server" 127.0.0.1 \
    "$port" --hubs "$hubs" >"$tmp/server.log" 2>&1 &
spid=$!
for _ in $(seq 200); do
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
    sleep 0.05
done
# perf counts 2 s in the middle of the load generator's 1 s warm-up and 3 s window.
(sleep 1.5; perf stat -x, -e context-switches,syscalls:sys_enter_io_uring_enter \
    -e syscalls:sys_enter_epoll_wait -p "$spid" -- sleep 2 2>"$tmp/perf") &
perf_pid=$!
line=$(taskset -c 1 "$bin/echo_loadgen" 127.0.0.1 "$port" "$conns" --warmup 1 --window 3 \
    --server-pid "$spid")
wait "$perf_pid"
echo "hubs=$hubs $line"
rtps=$(sed -n 's/.*rtps=\([0-9]*\).*/\1/p' <<<"$line")
awk -F, -v rt="$rtps" '$1 ~ /^[0-9]+$/ {
    printf "  %-36s %9d in 2 s, %.3f per round trip\n", $3, $1, rt ? $1 / (2 * rt) : 0 }' "$tmp/perf"
