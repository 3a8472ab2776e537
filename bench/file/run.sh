#!/usr/bin/env bash
# bench/file: file I/O under the hooks, every configuration in one run (README.md has figures).
#  1. cold read of SIZE MiB (not in the page cache) by a fiber, 1 MiB calls, beside a 1 ms
#     ticker fiber: GREEN_FILE_IO=off (the plain blocking call) vs uring vs offload, read(2),
#     pread(2) and copy_file_range(2), on io_uring and epoll: ticker's longest gap, throughput;
#     and the same read natively (a ticker thread beside plain reads): the machine's own floor;
#  2. 4 KiB cached pread: plain system call vs hooked vs a backend operation;
#  3. tests/preload/io/sendfile_server.c natively and under greenrun: CLIENTS x 4 MiB.
# usage: bench/file/run.sh [SIZE_MIB (default 256)] [CLIENTS (default 100)]
# env:   BUILD=<build dir> (default build), DIR=<temp dir parent> (default /tmp)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
size=${1:-256}
clients=${2:-100}
cmake --build "$build" --target file_bench greenrun green_preload preload_io_sendfile_server >/dev/null
bench=$build/bench/file/file_bench
tmp=$(mktemp -d "${DIR:-/tmp}/file_bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

head -c $((size << 20)) /dev/urandom >"$tmp/data"
sync "$tmp/data"
echo "== cold read of $size MiB, 1 MiB calls, 1 ms ticker fiber (kernel $(uname -r), $(nproc) cores)"
for round in 1 2; do
    "$bench" idle
    "$bench" threads "$tmp/data"  # the machine's floor: native threads, no hub
    for backend in io_uring epoll; do
        for fio in off uring offload; do
            for call in read pread copy; do
                GREEN_BACKEND=$backend GREEN_FILE_IO=$fio "$bench" cold $call "$tmp/data"
            done
        done
    done
done
echo "== tiny cached reads"
for backend in io_uring epoll; do GREEN_BACKEND=$backend "$bench" small "$tmp"; done

echo "== sendfile server, $clients clients x 4 MiB"
server=$build/tests/preload/sendfile_server
for run in native greenrun greenrun-epoll native greenrun greenrun-epoll; do
    case $run in
        native) cmd=("$server") ;;
        greenrun) cmd=("$build/hooks/greenrun" -- "$server") ;;
        greenrun-epoll) cmd=("$build/hooks/greenrun" --backend epoll -- "$server") ;;
    esac
    out=$("${cmd[@]}" bench "$clients" 4 2>&1)
    echo "$run: $(echo "$out" | tr '\n' ' ')"
done
