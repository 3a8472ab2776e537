#!/usr/bin/env bash
# Builds green and runs the main demo.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGREEN_BUILD_TESTS=OFF -DGREEN_BUILD_BENCH=OFF
cmake --build build -j"$(nproc)"
./build/examples/gevent/eat_play
