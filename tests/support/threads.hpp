// Helpers for the thread-patching tests (GREEN_PATCH=all, hooks/ on the include path): OS thread
// counts, starting a pthread, absolute timespecs for the timed pthread calls.
#pragma once

#include <pthread.h>
#include <time.h>

#include <fstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "patch_config.hpp"

namespace green_test {

// "Threads:" of /proc/self/status: OS threads of this process.
inline int os_threads() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
    return -1;
}

// `ms` milliseconds from now on `clock`, as the absolute time the timed pthread calls take.
inline timespec abs_in(clockid_t clock, long ms) {
    timespec ts;
    clock_gettime(clock, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000L;
    } else if (ts.tv_nsec < 0) {
        ts.tv_sec -= 1;
        ts.tv_nsec += 1000000000L;
    }
    return ts;
}

// Every test here needs thread patching (ctest sets GREEN_PATCH=all).
inline void require_patched() {
    ASSERT_TRUE(green::hooks::patch_config().threads)
        << "run with GREEN_PATCH=all: these tests check pthreads turned into fibers";
}

// Starts a pthread (a fiber here) running `fn`.
template <class F>
pthread_t start(F fn) {
    auto* heap = new F(std::move(fn));
    pthread_t t;
    int rc = pthread_create(
        &t, nullptr,
        [](void* p) -> void* {
            F* f = static_cast<F*>(p);
            (*f)();
            delete f;
            return nullptr;
        },
        heap);
    EXPECT_EQ(rc, 0);
    return t;
}

}  // namespace green_test
