#!/usr/bin/env bash
# Many-core scaling of the echo server (issue 15): green's server on a HubPool of N hubs against
# Go's goroutine-per-connection server with GOMAXPROCS=N, on the same N cores, in one run.
# Needs a machine with at least 2N cores: the servers get CPUs 0..N-1, the load generators the
# upper half of the machine. Uses prebuilt binaries so it runs where no compiler is:
#
#   BIN=dir bench/echo/scale.sh [--hubs "1 2 4 8"] [--conns 1000] [--clients 4] [--runs 3]
#                               [--window 3] [--servers "green-uring green-epoll go"]
#
# BIN holds echo_green_server, echo_loadgen and go_server (built by `go build`); LOADER, when
# set, is a dynamic loader to run the C/C++ binaries with (`LOADER="ld.so --library-path L"`,
# for a machine whose libc differs). Each load generator keeps conns/clients connections with
# one 64-byte message in flight; the figures are the sum of their round trips per second and the
# server's CPU time per round trip (its utime+stime over the common window).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/echo/harness.sh

hubs="1 2 4 8" conns=1000 clients=4 runs=3 window=3 warmup=1
servers="green-uring green-epoll go"
while (($#)); do
    case $1 in
        --hubs) hubs=$2; shift ;;
        --conns) conns=$2; shift ;;
        --clients) clients=$2; shift ;;
        --runs) runs=$2; shift ;;
        --window) window=$2; shift ;;
        --servers) servers=$2; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
bin=${BIN:?set BIN to the folder with the prebuilt binaries}
read -r -a loader <<<"${LOADER:-}"
host=127.0.0.1 port=19700
ncpu=$(nproc)
half=$((ncpu / 2))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
tmp=$(mktemp -d)
spid=
trap 'rm -rf "$tmp"; [[ -n ${spid:-} ]] && kill -9 "$spid" 2>/dev/null || true' EXIT

start() {  # server hubs: on CPUs 0..hubs-1
    local s=$1 n=$2 cmd
    case $s in
        green-uring) cmd=(env GREEN_BACKEND=io_uring "${loader[@]}" "$bin/echo_green_server" $host $port --hubs "$n") ;;
        green-epoll) cmd=(env GREEN_BACKEND=epoll "${loader[@]}" "$bin/echo_green_server" $host $port --hubs "$n") ;;
        go) cmd=(env GOMAXPROCS="$n" "$bin/go_server" $host $port) ;;
        *) echo "unknown server $s" >&2; return 1 ;;
    esac
    launch_server "$s" "0-$((n - 1))" "${cmd[@]}"
}

echo "echo scaling: $ncpu cores, kernel $(uname -r), $conns connections from $clients load generators on CPUs $half-$((ncpu - 1))"
echo "servers on CPUs 0..N-1; warm-up ${warmup}s, window ${window}s, median of $runs run(s)"
results=$tmp/results
: >"$results"
for r in $(seq "$runs"); do
    for n in $hubs; do
        ((n <= half)) || continue
        for s in $servers; do
            port=$((port + 1))
            start "$s" "$n" || continue
            pids=()
            for c in $(seq 0 $((clients - 1))); do
                cpu=$((half + c % half))
                taskset -c "$cpu" "${loader[@]}" "$bin/echo_loadgen" $host $port $((conns / clients)) \
                    --warmup "$warmup" --window "$window" --server-pid "$spid" >"$tmp/lg.$c" 2>&1 &
                pids+=($!)
            done
            wait "${pids[@]}" || true
            stop_server
            cat "$tmp"/lg.* | awk -v s="$s" -v n="$n" -v r="$r" '
                { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                  rt[NR] = v["rtps"]; cpu[NR] = v["cpu_per_rt_us"]; sum += v["rtps"]; err += v["errors"] }
                END { if (sum == 0) { print n, s, r, 0, 0, err; exit }
                      # cpu_i is the server CPU over the window over generator i round trips, so
                      # cpu_i * rt_i estimates the server CPU rate alike for every i: average them.
                      rate = 0; for (i = 1; i <= NR; i++) rate += cpu[i] * rt[i]; rate /= NR
                      print n, s, r, sum, rate / sum, err }' >>"$results"
            rm -f "$tmp"/lg.*
        done
    done
done

printf '\n%-5s %-12s %12s %10s %12s %10s %10s %7s\n' hubs server "rt/s" "x 1 hub" "cpu us/rt" "rt/s/go" "cpu/go" errors
for n in $hubs; do
    for s in $servers; do
        rows=$(awk -v n="$n" -v s="$s" '$1==n && $2==s' "$results")
        [[ -z $rows ]] && continue
        rtps=$(awk '{print $4}' <<<"$rows" | median)
        cpu=$(awk '{print $5}' <<<"$rows" | median)
        errs=$(awk '{print $6}' <<<"$rows" | sort -g | tail -1)
        base=$(awk -v s="$s" '$2==s && $1==1 {print $4}' "$results" | median)
        gocpu=$(awk -v n="$n" '$2=="go" && $1==n {print $5}' "$results" | median)
        gort=$(awk -v n="$n" '$2=="go" && $1==n {print $4}' "$results" | median)
        printf '%-5s %-12s %12.0f %10s %12.2f %10s %10s %7s\n' "$n" "$s" "$rtps" \
            "$(awk -v a="$rtps" -v b="${base:-0}" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "-" }')" \
            "$cpu" \
            "$(awk -v a="$rtps" -v b="${gort:-0}" 'BEGIN{ if (b>0 && a>0) printf "%.2fx", a/b; else print "-" }')" \
            "$(awk -v a="$cpu" -v b="${gocpu:-0}" 'BEGIN{ if (b>0 && a>0) printf "%.2fx", a/b; else print "-" }')" \
            "$errs"
    done
done
echo "(rt/s/go and cpu/go: throughput and server CPU per round trip relative to Go with GOMAXPROCS=N, same run)"
