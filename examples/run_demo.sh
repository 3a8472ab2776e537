#!/usr/bin/env bash
# Builds green and runs the main demo: the crawler. 100 pages, each answering after 100 ms, are
# fetched by libcurl's ordinary blocking API, one fiber per page, on one thread: about one
# delay in all, not 100 of them. It configures build/ afresh with every option it relies on
# (tests/run_all.sh does the same, so the two can run in either order).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --fresh -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGREEN_SANITIZE=OFF \
    -DGREEN_BUILD_TESTS=OFF -DGREEN_BUILD_EXAMPLES=ON -DGREEN_BUILD_BENCH=OFF
cmake --build build -j"$(nproc)" --target crawler eat_play
./build/examples/crawler/crawler --pages 100 --delay 100 | tail -n 8
echo "--- and gevent's eat/play (two sleeps of 3 s and 5 s overlap: 5 s in all) ---"
./build/examples/gevent/eat_play
