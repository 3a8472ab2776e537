#!/usr/bin/env bash
# The TLS harness: builds the load generator and the servers (Release), makes a P-256 localhost
# certificate, then runs each server pinned to one core with the load generator on another:
# TLS 1.3 (AES-128-GCM) echo of 64-byte messages, and connections/s (connect, full handshake,
# one round trip, close), at each connection count. Prints the server's CPU time per operation
# and its ratio to the plain C epoll + OpenSSL loop measured in the same run.
#
# usage: bench/tls/run.sh [--quick] [--runs N] [--window S] [--conns "100 1000"]
#                         [--servers "epoll green-uring green-epoll"]
# env:   BUILD=<build dir> (default build-bench), SERVER_CPU / CLIENT_CPU (default 0 / 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/echo/harness.sh

runs=3 window=3 warmup=1
conns="100 1000"
servers="epoll green-uring green-epoll"
parse_options "$@"
port=19500

build_targets tls_loadgen tls_epoll_server tls_green_server
bin=$build/bench/tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
    -out "$tmp/cert.pem" -days 2 -subj /CN=localhost 2>/dev/null

start_server() {  # name -> sets spid
    case $1 in
        epoll) cmd=("$bin/tls_epoll_server") ;;
        green-uring) cmd=(env GREEN_BACKEND=io_uring "$bin/tls_green_server") ;;
        green-epoll) cmd=(env GREEN_BACKEND=epoll "$bin/tls_green_server") ;;
    esac
    launch_server "$1" "$server_cpu" "${cmd[@]}" $host $port "$tmp/cert.pem" "$tmp/key.pem"
}

echo "TLS harness: $(nproc) cores, server on cpu $server_cpu, load generator on cpu $client_cpu,"
echo "TLS 1.3 AES-128-GCM, P-256 certificate, warm-up ${warmup}s, window ${window}s, median of $runs run(s)"
echo "kernel $(uname -r), $(openssl version), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
results=$tmp/results
: >"$results"
for mode in echo handshake; do
    for n in $conns; do
        for r in $(seq "$runs"); do  # runs interleave the servers: drift hits them all alike
            for s in $servers; do
                port=$((port + 1))
                start_server "$s" || exit 1
                line=$(taskset -c "$client_cpu" "$bin/tls_loadgen" $host $port "$n" "$mode" \
                    --warmup "$warmup" --window "$window" --server-pid "$spid" || true)
                stop_server
                [[ -z $line ]] && line="ops_per_s=0 errors=-1 server_cpu_us_per_op=0"
                echo "$mode $n $s $r $line" >>"$results"
            done
        done
    done
done

printf '\n%-10s %-6s %-12s %10s %14s %9s %7s\n' mode conns server "ops/s" "server us/op" "vs epoll" errors
for mode in echo handshake; do
    for n in $conns; do
        base=
        for s in $servers; do
            rows=$(awk -v m="$mode" -v n="$n" -v s="$s" '$1==m && $2==n && $3==s' "$results")
            ops=$(field ops_per_s "$rows" | median)
            cpu=$(field server_cpu_us_per_op "$rows" | median)
            errs=$(field errors "$rows" | sort -g | tail -1)
            [[ $s == epoll ]] && base=$cpu
            ratio=$(awk -v a="$cpu" -v b="${base:-0}" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "-" }')
            printf '%-10s %-6s %-12s %10.0f %14.2f %9s %7s\n' "$mode" "$n" "$s" "$ops" "$cpu" "$ratio" "$errs"
        done
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
