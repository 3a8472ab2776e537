#!/usr/bin/env bash
# The echo harness: builds the load generator and the servers, then runs every server pinned to
# one core with the load generator pinned to another, at 1/100/1000/10000 connections, and
# prints round trips/s, p50/p99 latency and the server's CPU time per round trip, with the
# ratio to the better of the two plain C loops (epoll, io_uring) at the same connection count.
# Servers named *-64k receive into a 64 KiB buffer (green: a `char buf[65536]` on the handler's
# stack); when the 64 KiB C loops ran too, a last column gives the ratio to the better of those.
#
# usage: bench/echo/run.sh [--quick] [--runs N] [--window S] [--conns "1 100 1000 10000"]
#                          [--servers "epoll uring green-uring green-epoll threads"]
# env:   BUILD=<build dir> (default build-bench, configured here in Release mode)
#        SERVER_CPU / CLIENT_CPU (default 0 / 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/echo/harness.sh

runs=3 window=3 warmup=1
conns="1 100 1000 10000"
servers="epoll uring green-uring green-epoll threads go gevent"
parse_options "$@"
port=19300

build_targets echo_loadgen echo_epoll_server echo_uring_server echo_uring_server_12lines \
    echo_epoll_server_64k echo_uring_server_64k echo_threads_server echo_green_server

# Optional servers: only when their runtime is installed.
notes=()
have_go=0 have_gevent=0
if command -v go >/dev/null 2>&1; then
    if (cd bench/echo && GOCACHE=$tmp/gocache go build -o "$tmp/go_server" go_server.go) 2>/dev/null; then
        have_go=1
    else
        notes+=("go is installed but go_server.go did not build: Go skipped")
    fi
else
    notes+=("go is not installed: Go server skipped")
fi
# Debian's python3-gevent lives in /usr/bin/python3, which another python3 on PATH may shadow.
gevent_python=
for py in python3 /usr/bin/python3; do
    if "$py" -c 'import gevent' 2>/dev/null; then gevent_python=$py; break; fi
done
if [[ -n $gevent_python ]]; then
    have_gevent=1
else
    notes+=("python3 gevent is not installed: gevent server skipped")
fi

start_server() {  # name -> sets spid
    local name=$1
    case $name in
        epoll) cmd=("$bin/echo_epoll_server" $host $port) ;;
        uring) cmd=("$bin/echo_uring_server" $host $port) ;;
        # The C io_uring loop touching 12 more cache lines per connection per completion
        # (about what a fiber's resume touches beyond the C loop's): not a baseline, an
        # experiment on what footprint costs (bench/echo/README.md).
        uring-12lines) cmd=("$bin/echo_uring_server_12lines" $host $port) ;;
        # 64 KiB receive buffers: the C loops' (epoll: one shared; io_uring: one per connection)
        # and green's handler declaring `char buf[65536]` on its stack.
        epoll-64k) cmd=("$bin/echo_epoll_server_64k" $host $port) ;;
        uring-64k) cmd=("$bin/echo_uring_server_64k" $host $port) ;;
        green-uring-64k) cmd=(env GREEN_BACKEND=io_uring "$bin/echo_green_server" $host $port --stack-buf 65536) ;;
        green-epoll-64k) cmd=(env GREEN_BACKEND=epoll "$bin/echo_green_server" $host $port --stack-buf 65536) ;;
        threads) cmd=("$bin/echo_threads_server" $host $port) ;;
        green-uring) cmd=(env GREEN_BACKEND=io_uring "$bin/echo_green_server" $host $port) ;;
        green-epoll) cmd=(env GREEN_BACKEND=epoll "$bin/echo_green_server" $host $port) ;;
        # The same server on a HubPool of 2 hubs (pinned to CPUs 0 and 1; the load generator
        # shares CPU 1): one listening socket all hubs accept from, or one SO_REUSEPORT socket per
        # hub. CPU per round trip, not throughput, is what compares with the 1-hub server here.
        green-uring-2hubs) cmd=(env GREEN_BACKEND=io_uring "$bin/echo_green_server" $host $port --hubs 2) ;;
        green-epoll-2hubs) cmd=(env GREEN_BACKEND=epoll "$bin/echo_green_server" $host $port --hubs 2) ;;
        green-uring-2hubs-reuseport) cmd=(env GREEN_BACKEND=io_uring "$bin/echo_green_server" $host $port --hubs 2 --listener-per-hub) ;;
        green-epoll-2hubs-reuseport) cmd=(env GREEN_BACKEND=epoll "$bin/echo_green_server" $host $port --hubs 2 --listener-per-hub) ;;
        # io_uring backend, recv by readiness (poll then retry) instead of a recv op:
        green-uring-poll) cmd=(env GREEN_BACKEND=io_uring GREEN_NET_RECV=poll "$bin/echo_green_server" $host $port) ;;
        green-uring-waitfirst) cmd=(env GREEN_BACKEND=io_uring GREEN_NET_RECV=waitfirst "$bin/echo_green_server" $host $port) ;;
        # Default backend with 32 KiB fiber stacks instead of 128 KiB: denser stacks, fewer page
        # walks at 10,000 connections (bench/echo/README.md).
        green-uring-compact) cmd=(env GREEN_BACKEND=io_uring GREEN_STACK_MODE=compact "$bin/echo_green_server" $host $port) ;;
        green-epoll-compact) cmd=(env GREEN_BACKEND=epoll GREEN_STACK_MODE=compact "$bin/echo_green_server" $host $port) ;;
        green-uring-32k) cmd=(env GREEN_BACKEND=io_uring GREEN_STACK_SIZE=32k "$bin/echo_green_server" $host $port) ;;
        go) cmd=(env GOMAXPROCS=1 "$tmp/go_server" $host $port) ;;
        # Go's answer to the 2-hub servers: two Ps on the same two CPUs, beside the load.
        go-2hubs) cmd=(env GOMAXPROCS=2 "$tmp/go_server" $host $port) ;;
        gevent) cmd=("$gevent_python" bench/echo/gevent_server.py $host $port) ;;
    esac
    local cpus=$server_cpu
    [[ $name == *-2hubs* ]] && cpus=$server_cpu,$client_cpu
    launch_server "$name" "$cpus" "${cmd[@]}"
}

echo "echo harness: $(nproc) cores, server on cpu $server_cpu, load generator on cpu $client_cpu,"
echo "64-byte messages, warm-up ${warmup}s, window ${window}s, median of $runs run(s)"
echo "kernel $(uname -r), green built in $build; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
results=$tmp/results
: >"$results"
for n in $conns; do
    # Runs interleave the servers, so drift on a shared machine hits them all alike.
    for r in $(seq "$runs"); do
        for s in $servers; do
            [[ $s == go* && $have_go == 0 ]] && continue
            [[ $s == gevent && $have_gevent == 0 ]] && continue
            port=$((port + 1))
            start_server "$s" || exit 1
            # Take the pid of the server process itself (taskset/env exec into it).
            line=$(taskset -c "$client_cpu" "$bin/echo_loadgen" $host $port "$n" \
                --warmup "$warmup" --window "$window" --server-pid "$spid" || true)
            stop_server
            [[ -z $line ]] && line="rtps=0 p50_us=0 p99_us=0 errors=-1 stalled=$n cpu_per_rt_us=0"
            echo "$n $s $r $line" >>"$results"
        done
    done
done

# The table: medians per (conns, server); ratio of CPU per round trip to the better C loop.
smaller() { awk -v a="$1" -v b="$2" 'BEGIN{ print (b == "" || a < b) ? a : b }'; }
printf '\n%-7s %-22s %10s %9s %9s %11s %8s %7s %8s %10s\n' conns server "rt/s" "p50 us" "p99 us" \
    "cpu us/rt" "vs best C" errors stalled "vs C 64k"
for n in $conns; do
    best= best64=
    declare -A cpu=()
    for s in $servers; do
        rows=$(awk -v n="$n" -v s="$s" '$1==n && $2==s' "$results")
        [[ -z $rows ]] && continue
        cpu[$s]=$(sed -n 's/.*cpu_per_rt_us=\([^ ]*\).*/\1/p' <<<"$rows" | median)
        [[ $s == epoll || $s == uring ]] && best=$(smaller "${cpu[$s]}" "$best")
        [[ $s == epoll-64k || $s == uring-64k ]] && best64=$(smaller "${cpu[$s]}" "$best64")
    done
    for s in $servers; do
        rows=$(awk -v n="$n" -v s="$s" '$1==n && $2==s' "$results")
        [[ -z $rows ]] && continue
        rtps=$(sed -n 's/.*rtps=\([^ ]*\).*/\1/p' <<<"$rows" | median)
        p50=$(sed -n 's/.*p50_us=\([^ ]*\).*/\1/p' <<<"$rows" | median)
        p99=$(sed -n 's/.*p99_us=\([^ ]*\).*/\1/p' <<<"$rows" | median)
        errs=$(sed -n 's/.*errors=\([^ ]*\).*/\1/p' <<<"$rows" | sort -g | tail -1)
        stall=$(sed -n 's/.*stalled=\([^ ]*\).*/\1/p' <<<"$rows" | sort -g | tail -1)
        ratio=$(awk -v a="${cpu[$s]}" -v b="${best:-0}" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "-" }')
        ratio64=-
        if [[ $s == *-64k ]]; then
            ratio64=$(awk -v a="${cpu[$s]}" -v b="${best64:-0}" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "-" }')
        fi
        printf '%-7s %-22s %10.0f %9.1f %9.1f %11.2f %8s %7s %8s %10s\n' "$n" "$s" "$rtps" "$p50" "$p99" \
            "${cpu[$s]}" "$ratio" "$errs" "$stall" "$ratio64"
    done
    unset cpu
done
# Paired: each *-64k server against its 4 KiB twin (same name without -64k) run by run, the
# median of the per-run ratios. The two run one after the other in each run, so drift of the
# machine's load between runs cancels out of the ratio.
for n in $conns; do
    for s in $servers; do
        twin=${s%-64k}
        [[ $s == "$twin" || " $servers " != *" $twin "* ]] && continue
        paired=$(awk -v n="$n" -v s="$s" -v t="$twin" '
            $1 == n && ($2 == s || $2 == t) {
                v = $0; sub(/.*cpu_per_rt_us=/, "", v); sub(/ .*/, "", v)
                if ($2 == s) a[$3] = v; else b[$3] = v
            }
            END { for (r in a) if (b[r] > 0) print a[r] / b[r] }' "$results" | median)
        [[ -n $paired ]] && printf 'paired %-6s %s / %s: %.3fx (median of per-run ratios)\n' \
            "$n" "$s" "$twin" "$paired"
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
for note in "${notes[@]}"; do echo "note: $note"; done
if [[ -n ${RAW:-} ]]; then cp "$results" "$RAW"; fi
