#!/usr/bin/env bash
# The preload benchmark: bench/echo's plain C thread-per-connection echo server, unmodified, run
# natively and under greenrun (its pthreads become fibers on one hub), beside green's own
# StreamServer, at 100/1000/10000 connections. For each: round trips/s, p99 latency, server CPU
# per round trip (ratio to StreamServer on the same backend), the server's OS thread count in
# mid-run (/proc/PID/status Threads:) and its peak RSS (VmHWM).
#
# usage: bench/preload/run.sh [--quick] [--runs N] [--window S] [--conns "100 1000 10000"]
#                             [--servers "native greenrun greenrun-epoll green green-epoll"]
# env:   BUILD=<build dir> (default build-bench, configured here in Release mode)
#        SERVER_CPU / CLIENT_CPU (default 0 / 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/echo/harness.sh

runs=3 window=3 warmup=1
conns="100 1000 10000"
servers="native greenrun greenrun-epoll green green-epoll"
parse_options "$@"
port=19500

build_targets echo_loadgen echo_threads_server echo_green_server greenrun green_preload
greenrun=$build/hooks/greenrun
fd_limit=$(ulimit -n)

start_server() {  # name -> sets spid
    local cmd
    case $1 in
        native) cmd=("$bin/echo_threads_server" $host $port) ;;
        greenrun) cmd=("$greenrun" --backend io_uring -- "$bin/echo_threads_server" $host $port) ;;
        greenrun-epoll) cmd=("$greenrun" --backend epoll -- "$bin/echo_threads_server" $host $port) ;;
        green) cmd=(env GREEN_BACKEND=io_uring "$bin/echo_green_server" $host $port) ;;
        green-epoll) cmd=(env GREEN_BACKEND=epoll "$bin/echo_green_server" $host $port) ;;
        *) echo "unknown server $1" >&2; return 1 ;;
    esac
    launch_server "$1" "$server_cpu" "${cmd[@]}"
}

status_field() { sed -n "s/^$1:[[:space:]]*\\([0-9]*\\).*/\\1/p" "/proc/$spid/status" 2>/dev/null || true; }

echo "preload benchmark: $(nproc) cores, server on cpu $server_cpu, load generator on cpu $client_cpu,"
echo "64-byte messages, warm-up ${warmup}s, window ${window}s, median of $runs run(s)"
echo "kernel $(uname -r), green built in $build, fd limit $fd_limit"
results=$tmp/results
: >"$results"
for n in $conns; do
    if ((n + 64 > fd_limit)); then
        echo "note: $n connections skipped (fd limit $fd_limit)"
        continue
    fi
    for r in $(seq "$runs"); do
        for s in $servers; do
            port=$((port + 1))
            start_server "$s" || exit 1
            taskset -c "$client_cpu" "$bin/echo_loadgen" $host $port "$n" --warmup "$warmup" \
                --window "$window" --server-pid "$spid" >"$tmp/line" 2>"$tmp/loadgen.err" &
            lpid=$!
            # Sample the thread count in the middle of the measuring window.
            sleep "$(awk -v w="$warmup" -v x="$window" 'BEGIN{print w + x / 2}')"
            threads=$(status_field Threads)
            wait "$lpid" || true
            hwm_kb=$(status_field VmHWM)
            stop_server
            line=$(cat "$tmp/line")
            [[ -z $line ]] && line="rtps=0 p50_us=0 p99_us=0 errors=-1 stalled=$n cpu_per_rt_us=0"
            echo "$n $s $r $line threads=${threads:-0} hwm_kb=${hwm_kb:-0}" >>"$results"
        done
    done
done

pick() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p"; }
printf '\n%-6s %-15s %10s %10s %10s %9s %8s %9s %7s %7s\n' conns server "rt/s" "p99 us" \
    "cpu us/rt" "vs green" threads "RSS MB" errors stalled
for n in $conns; do
    declare -A cpu=()
    for s in $servers; do
        rows=$(awk -v n="$n" -v s="$s" '$1==n && $2==s' "$results")
        [[ -n $rows ]] && cpu[$s]=$(pick cpu_per_rt_us <<<"$rows" | median)
    done
    for s in $servers; do
        rows=$(awk -v n="$n" -v s="$s" '$1==n && $2==s' "$results")
        [[ -z $rows ]] && continue
        # The reference is green's StreamServer on the same backend.
        ref=${cpu[green]:-}
        [[ $s == *epoll ]] && ref=${cpu[green-epoll]:-}
        ratio=$(awk -v a="${cpu[$s]}" -v b="${ref:-0}" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "-" }')
        printf '%-6s %-15s %10.0f %10.1f %10.2f %9s %8s %9.1f %7s %7s\n' "$n" "$s" \
            "$(pick rtps <<<"$rows" | median)" "$(pick p99_us <<<"$rows" | median)" "${cpu[$s]}" \
            "$ratio" "$(pick threads <<<"$rows" | sort -g | tail -1)" \
            "$(pick hwm_kb <<<"$rows" | median | awk '{print $1/1024}')" \
            "$(pick errors <<<"$rows" | sort -g | tail -1)" "$(pick stalled <<<"$rows" | sort -g | tail -1)"
    done
    unset cpu
done
if [[ -n ${RAW:-} ]]; then cp "$results" "$RAW"; fi
