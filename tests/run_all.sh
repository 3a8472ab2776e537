#!/usr/bin/env bash
# Builds green twice (optimised, then ASan+UBSan) and runs the whole suite on both I/O backends.
# Each phase configures afresh and names every option it relies on, so nothing left in build/ or
# build-asan/ (the demo's build without tests, a narrowed GREEN_TEST_DIRS) can shrink the suite;
# ctest fails when it finds no tests. CMAKE_CXX_COMPILER_LAUNCHER=ccache in the environment is
# honoured (and CMAKE_C_COMPILER_LAUNCHER); a launcher set only in an old cache is not.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
every_test=(-G Ninja -DGREEN_BUILD_TESTS=ON -DGREEN_BUILD_EXAMPLES=ON -DGREEN_TEST_DIRS=)

echo "== run_all: phase 1/2, optimised build, every test on both backends"
cmake --fresh -S . -B build "${every_test[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGREEN_SANITIZE=OFF -DGREEN_BUILD_BENCH=ON
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure --no-tests=error -j"$jobs"

echo "== run_all: phase 2/2, ASan+UBSan build, every test that can run under ASan"
cmake --fresh -S . -B build-asan "${every_test[@]}" -DCMAKE_BUILD_TYPE=Debug \
    -DGREEN_SANITIZE=ON -DGREEN_BUILD_BENCH=OFF
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure --no-tests=error \
    -j"$jobs" -LE no-asan
