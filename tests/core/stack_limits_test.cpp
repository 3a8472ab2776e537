// Stack limits as a user meets them: impossible sizes are refused by spawn, running out of
// memory for stacks throws std::bad_alloc from spawn, and every kind of overflow (runaway
// recursion with or without a guard page, a frame larger than the stack) ends in the named
// report. This file is compiled with -fstack-clash-protection (tests/core/CMakeLists.txt), as
// code that keeps frames larger than a page on a fiber stack should be: see README.md.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <green/green.hpp>

#include "config.hpp"
#include "scheduler.hpp"

using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__)
#define GREEN_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GREEN_TEST_ASAN 1
#endif
#endif

namespace {

green::SpawnOptions sized(const char* name, std::size_t bytes) {
    green::SpawnOptions o;
    o.name = name;
    o.stack_size = bytes;
    return o;
}

[[gnu::noinline]] int recurse(int n) {
    volatile char pad[512];
    pad[0] = static_cast<char>(n);
    return n <= 0 ? pad[0] : recurse(n - 1) + pad[0];
}

// 256 KiB of locals, written from the lowest address up (the order that, without stack
// probes, would write into a neighbour's stack before touching any guard page).
[[gnu::noinline]] int big_frame() {
    volatile char buf[256 * 1024];
    for (std::size_t i = 0; i < sizeof buf; i += 512)
        buf[i] = static_cast<char>(1 + (i >> 9) % 100);
    return buf[512];
}

// Parks `n` fibers with `bytes` stacks: the neighbours an overflowing fiber would run into.
std::vector<green::Greenlet<void>> park_neighbours(green::Event& gate, int n, std::size_t bytes) {
    std::vector<green::Greenlet<void>> gs;
    for (int i = 0; i < n; ++i)
        gs.push_back(green::spawn(sized("neighbour", bytes), [&gate] { gate.wait(); }));
    green::sleep(0ms);
    return gs;
}

}  // namespace

TEST(StackLimits, SpawnRefusesImpossibleStackSizes) {
    for (std::size_t bad :
         {green::detail::kMaxStackSize + 1, std::size_t{1} << 56, std::size_t{1} << 60, SIZE_MAX}) {
        bool ran = false;
        EXPECT_THROW(green::spawn(sized("too-big", bad), [&ran] { ran = true; }), std::length_error)
            << bad;
        EXPECT_FALSE(ran);
    }
    green::sleep(1ms);
    // The hub is unharmed: a normal spawn still works.
    EXPECT_EQ(green::spawn([] { return 7; }).get(), 7);
}

TEST(StackLimits, DefaultStackSizeIsBounded) {
    const std::size_t before = green::default_stack_size();
    EXPECT_THROW(green::set_default_stack_size(std::size_t{1} << 56), std::length_error);
    EXPECT_THROW(green::set_default_stack_size(1024), std::invalid_argument);
    EXPECT_EQ(green::default_stack_size(), before);
}

// When the kernel refuses the memory for a stack, spawn throws std::bad_alloc that the caller
// can handle (as pthread_create returns EAGAIN), and the hub keeps working.
TEST(StackLimitsDeathTest, StackExhaustionThrowsBadAllocFromSpawn) {
#ifdef GREEN_TEST_ASAN
    GTEST_SKIP() << "ASan reserves terabytes of shadow memory: RLIMIT_AS cannot be lowered";
#else
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            green::sleep(0ms);  // the hub and its loop fiber's stack exist before the limit
            rlimit lim{};
            getrlimit(RLIMIT_AS, &lim);
            // Room for one chunk of 63 such stacks (4 GiB of address space), not two.
            std::ifstream status("/proc/self/status");
            long vm_kb = 0;
            for (std::string line; std::getline(status, line);)
                if (line.rfind("VmSize:", 0) == 0) vm_kb = std::atol(line.c_str() + 7);
            lim.rlim_cur = static_cast<rlim_t>(vm_kb) * 1024 + (rlim_t{6} << 30);
            setrlimit(RLIMIT_AS, &lim);
            std::vector<green::Greenlet<void>> gs;
            green::Event gate;
            try {
                for (int i = 0; i < 100000; ++i)
                    gs.push_back(green::spawn(sized("hog", 64u << 20), [&gate] { gate.wait(); }));
                std::fprintf(stderr, "no bad_alloc after 100000 spawns\n");
                std::exit(1);
            } catch (const std::bad_alloc&) {
                std::fprintf(stderr, "caught bad_alloc after %zu spawns\n", gs.size());
            }
            gate.set();
            green::joinall(gs, 10s);
            for (auto& g : gs)
                if (!g.ready()) std::exit(2);
            std::exit(green::spawn([] { return 3; }).get() == 3 ? 0 : 4);
        },
        ::testing::ExitedWithCode(0), "caught bad_alloc after [1-9][0-9]* spawns");
#endif
}

TEST(StackLimitsDeathTest, RunawayRecursionOnGuardedStackIsNamed) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            green::Event gate;
            auto neighbours = park_neighbours(gate, 4, 64 * 1024);
            green::spawn(sized("guarded-runaway", 64 * 1024), [] {
                return recurse(1 << 20);
            }).join();
        },
        "stack overflow in fiber 'guarded-runaway'");
}

// No guard pages at all (GREEN_GUARD_PAGES=0): the recursion runs down through the parked
// neighbours' stacks, but faults at the chunk's guard page at the latest, and the handler sees
// a stack pointer below the fiber's stack and names it. (Under AddressSanitizer the first
// write into a neighbour's poisoned frames is reported by ASan first: not silent either.)
TEST(StackLimitsDeathTest, RunawayRecursionOnCanaryOnlyStackIsNamed) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    // In the environment the death test's child process starts with: the configuration may be
    // read before the statement runs (under a preloaded hook library).
    setenv("GREEN_GUARD_PAGES", "0", 1);
    EXPECT_DEATH(
        {
            green::Event gate;
            auto neighbours = park_neighbours(gate, 4, 64 * 1024);
            green::spawn(sized("canary-runaway", 64 * 1024), [] {
                return recurse(1 << 20);
            }).join();
        },
#ifdef GREEN_TEST_ASAN
        "stack overflow in fiber 'canary-runaway'|AddressSanitizer: stack-buffer-overflow");
#else
        "stack overflow in fiber 'canary-runaway'");
#endif
    unsetenv("GREEN_GUARD_PAGES");
}

TEST(StackLimitsDeathTest, LargeFrameOnGuardedStackIsNamed) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            green::Event gate;
            auto neighbours = park_neighbours(gate, 4, 128 * 1024);
            green::spawn(sized("big-frame", 128 * 1024), [] { return big_frame(); }).join();
        },
        "stack overflow in fiber 'big-frame'");
}

// Stack 9,001 of a hub: it used to have only a canary (the first 8,192 had guard pages), and a
// large frame wrote into its neighbour silently. With guard regions it has a guard page too.
TEST(StackLimitsDeathTest, LargeFrameBeyondTheFirst8192StacksIsNamed) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    green::spawn([] {}).join();
    if (!green::detail::Hub::get().stacks().guard_regions())
        GTEST_SKIP() << "kernel without guard regions: stacks past GREEN_GUARD_PAGES have a canary";
    EXPECT_DEATH(
        {
            green::Event gate;
            auto neighbours = park_neighbours(gate, 9000, 128 * 1024);
            green::spawn(sized("big-frame-9001", 128 * 1024), [] { return big_frame(); }).join();
        },
        "stack overflow in fiber 'big-frame-9001'");
}

// The frame fits (256 KiB of locals on a 512 KiB stack): probing costs nothing in behaviour.
TEST(StackLimits, LargeFrameThatFitsRuns) {
    EXPECT_EQ(green::spawn(sized("fits", 512 * 1024), [] { return big_frame(); }).get(), 2);
}
