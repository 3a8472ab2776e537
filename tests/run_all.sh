#!/usr/bin/env bash
# Builds green three times (optimised, ASan+UBSan, ThreadSanitizer) and runs the whole suite on
# both I/O backends, then the cross-hub tests (tests/multicore, tests/sync) under TSan.
# Each phase configures afresh and names every option it relies on, so nothing left in build/ or
# build-asan/ (the demo's build without tests, a narrowed GREEN_TEST_DIRS) can shrink the suite;
# ctest fails when it finds no tests. CMAKE_CXX_COMPILER_LAUNCHER=ccache in the environment is
# honoured (and CMAKE_C_COMPILER_LAUNCHER); a launcher set only in an old cache is not.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
every_test=(-G Ninja -DGREEN_BUILD_TESTS=ON -DGREEN_BUILD_EXAMPLES=ON -DGREEN_TEST_DIRS=)

echo "== run_all: phase 1/3, optimised build, every test on both backends"
cmake --fresh -S . -B build "${every_test[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGREEN_SANITIZE=OFF -DGREEN_BUILD_BENCH=ON
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure --no-tests=error -j"$jobs"

echo "== run_all: phase 2/3, ASan+UBSan build, every test that can run under ASan"
cmake --fresh -S . -B build-asan "${every_test[@]}" -DCMAKE_BUILD_TYPE=Debug \
    -DGREEN_SANITIZE=ON -DGREEN_BUILD_BENCH=OFF
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure --no-tests=error \
    -j"$jobs" -LE no-asan

# The linked hooks' tests run here too, but for signals and fork (tests/hooks);
# thread patching (tests/threads) does not: TSan's interceptors and the hooks' sit on the same
# pthread functions (README).
echo "== run_all: phase 3/3, ThreadSanitizer build, the cross-hub and hook tests (multicore, sync, hooks)"
cmake --fresh -S . -B build-tsan -G Ninja -DGREEN_BUILD_TESTS=ON -DGREEN_BUILD_EXAMPLES=OFF \
    "-DGREEN_TEST_DIRS=multicore;sync;hooks" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGREEN_TSAN=ON \
    -DGREEN_BUILD_BENCH=OFF
cmake --build build-tsan -j"$jobs"
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --output-on-failure --no-tests=error \
    -j"$jobs"
