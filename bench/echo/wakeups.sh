#!/usr/bin/env bash
# The green echo server's wake-ups: runs echo_green_server with HUBS hubs where run.sh places it
# (1 hub on the server CPU; 2 hubs on both CPUs, beside the load generator) against
# echo_loadgen, and prints the load generator's line (rt/s, CPU per round trip) with what
# `perf stat` counted on the server over 2 s of the window: context switches and io_uring_enter
# and epoll_wait calls, in total and per round trip. For A/B runs of two builds, alternate BUILD.
#
# usage: bench/echo/wakeups.sh HUBS [CONNS]     (default 100 connections)
# env:   BUILD=<build dir> (default build-bench, configured here in Release mode),
#        SERVER_CPU / CLIENT_CPU (default 0 / 1), GREEN_BACKEND (default io_uring)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/echo/harness.sh

hubs=${1:?usage: wakeups.sh HUBS [CONNS]} conns=${2:-100}
parse_options
command -v perf >/dev/null || { echo "perf not found" >&2; exit 1; }
build_targets echo_loadgen echo_green_server
port=$((20000 + RANDOM % 2000))
cpus=$server_cpu
((hubs > 1)) && cpus=$server_cpu,$client_cpu
launch_server "green, $hubs hubs" "$cpus" env GREEN_BACKEND="${GREEN_BACKEND:-io_uring}" \
    "$bin/echo_green_server" $host $port --hubs "$hubs"
# perf counts 2 s in the middle of the load generator's 1 s warm-up and 3 s window.
(sleep 1.5; perf stat -x, -e context-switches,syscalls:sys_enter_io_uring_enter \
    -e syscalls:sys_enter_epoll_wait -p "$spid" -- sleep 2 2>"$tmp/perf") &
perf_pid=$!
line=$(taskset -c "$client_cpu" "$bin/echo_loadgen" $host $port "$conns" --warmup 1 --window 3 \
    --server-pid "$spid")
wait "$perf_pid"
stop_server
echo "hubs=$hubs $line"
awk -F, -v rt="$(field rtps "$line")" '$1 ~ /^[0-9]+$/ {
    printf "  %-36s %9d in 2 s, %.3f per round trip\n", $3, $1, rt ? $1 / (2 * rt) : 0 }' "$tmp/perf"
