#!/usr/bin/env bash
# memcached -t 4 natively and under greenrun --hubs N (its four worker threads become fibers
# spread over N hubs): throughput of bench/preload/memcached_load (C connections over 2 client
# threads, 90% get / 10% set, R requests per run, 127.0.0.1 only). Prints each run, then the
# medians and the ratio greenrun / native, with the CPU time (user + system) per request of the
# server and of the load generator, and the load generator's epoll_wait calls per request.
# --pin: the server on CPU 0 and the load generator on CPU 1, so that neither takes the other's
# core (on a 2-core machine the unpinned servers also compete with the load for the CPU).
#
# usage: bench/preload/memcached.sh [--runs N] [--requests R] [--conns C] [--hubs "2"]
#                                   [--threads T] [--pin]
# env:   BUILD=<build dir> (default build; greenrun, libgreen_preload.so and memcached_load
#        must be built there), MEMCACHED (default: memcached on PATH)
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=5 requests=200000 conns=50 hubs="2" threads=4 pin=0
while (($#)); do
    case $1 in
        --pin) pin=1; shift ;;
        --runs) runs=$2; shift 2 ;;
        --requests) requests=$2; shift 2 ;;
        --conns) conns=$2; shift 2 ;;
        --hubs) hubs=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
build=${BUILD:-build}
memcached=${MEMCACHED:-$(command -v memcached || true)}
[[ -x $memcached ]] || { echo "memcached not found (apt-get install memcached)" >&2; exit 1; }
greenrun=$build/hooks/greenrun
load=$build/bench/preload/memcached_load
for f in "$greenrun" "$load"; do [[ -x $f ]] || { echo "missing $f" >&2; exit 1; }; done
tmp=$(mktemp -d)
spid=
cleanup() { [[ -n $spid ]] && kill "$spid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=21400

wait_port() {  # until the server accepts on $port (at most 10 s)
    for _ in $(seq 200); do
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0
        sleep 0.05
    done
    echo "server did not start" >&2
    return 1
}

run_one() {  # mode -> prints rps
    local mode=$1 cmd
    port=$((port + 1))
    cmd=("$memcached" -t "$threads" -p "$port" -U 0 -l 127.0.0.1 -m 64 -c 4096)
    ((EUID != 0)) || cmd+=(-u root)  # memcached refuses to run as root without it
    case $mode in
        native) ;;
        hubs*) cmd=("$greenrun" --hubs "${mode#hubs}" -- "${cmd[@]}") ;;
    esac
    local load_cmd=("$load")
    if ((pin)); then
        cmd=(taskset -c 0 "${cmd[@]}")
        load_cmd=(taskset -c 1 "$load")
    fi
    "${cmd[@]}" 2>"$tmp/server.err" &  # taskset and greenrun exec: $! is the server
    spid=$!
    wait_port
    local line cpu0 cpu1
    cpu0=$(cpu_ticks "$spid")
    line=$("${load_cmd[@]}" "$port" --conns "$conns" --threads 2 --requests "$requests")
    cpu1=$(cpu_ticks "$spid")
    local tasks
    tasks=$(ls "/proc/$spid/task" 2>/dev/null | wc -l)
    kill "$spid"
    wait "$spid" 2>/dev/null || true
    spid=
    if grep -q '^green:' "$tmp/server.err"; then
        echo "runtime complained ($mode):" >&2
        cat "$tmp/server.err" >&2
        return 1
    fi
    local us
    us=$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
        'BEGIN{printf "%.2f", t / hz * 1e6 / n}')
    echo "$mode: $line os_threads=$tasks server_cpu_us_per_request=$us" >&2
    echo "$us" >>"$tmp/$mode.cpu"
    sed -n 's/.*client_cpu_us_per_request=\([0-9.]*\).*/\1/p' <<<"$line" >>"$tmp/$mode.client"
    sed -n 's/.*waits_per_request=\([0-9.]*\).*/\1/p' <<<"$line" >>"$tmp/$mode.waits"
    sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$line"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of the whole process

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

where="$(nproc) cores shared with the load generator"
((pin)) && where="server on CPU 0, load generator on CPU 1"
echo "memcached $("$memcached" -V | cut -d' ' -f2) -t $threads; $where" \
     "(2 threads, $conns connections, $requests requests per run); median of $runs runs"
modes="native"
for h in $hubs; do modes+=" hubs$h"; done
for r in $(seq "$runs"); do
    for m in $modes; do run_one "$m" >>"$tmp/$m"; done
done
native=$(median <"$tmp/native")
cpu() {  # mode -> the medians of the CPU figures
    printf 'server %s, load %s us CPU/request; %s load waits/request' "$(median <"$tmp/$1.cpu")" \
        "$(median <"$tmp/$1.client")" "$(median <"$tmp/$1.waits")"
}
printf '%-22s %10s req/s               %s\n' "native" "$native" "$(cpu native)"
for h in $hubs; do
    g=$(median <"$tmp/hubs$h")
    printf '%-22s %10s req/s  ratio %.3f  %s\n' "greenrun --hubs $h" "$g" \
        "$(awk -v a="$g" -v b="$native" 'BEGIN{print a / b}')" "$(cpu "hubs$h")"
done
