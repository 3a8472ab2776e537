// Compact greenlets switching: their stack-resident data survives thousands of switches among
// many of them, mixed with default greenlets; deep recursion, exceptions thrown across switches,
// kill, and the spawn options that choose the mode.
#include <gtest/gtest.h>

#include <green/green.hpp>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "scheduler.hpp"

using namespace std::chrono_literals;

namespace {

const green::SpawnOptions kCompact{.stack_mode = green::StackMode::Compact};

bool is_compact(const green::GreenletHandle& g) {
    return green::detail::core_ptr_of(g)->compact();
}

// Fills a stack array from `seed`, yields `rounds` times, and returns its checksum after
// checking every element is still what it wrote.
std::uint64_t churn(std::uint64_t seed, int rounds) {
    volatile std::uint64_t local[64];
    for (int i = 0; i < 64; ++i) local[i] = seed * 1'000'003 + static_cast<std::uint64_t>(i);
    for (int r = 0; r < rounds; ++r) {
        green::sleep(0ms);
        for (int i = 0; i < 64; ++i)
            if (local[i] != seed * 1'000'003 + static_cast<std::uint64_t>(i))
                throw std::runtime_error("stack data changed across a switch");
    }
    std::uint64_t sum = 0;
    for (int i = 0; i < 64; ++i) sum += local[i];
    return sum;
}

std::uint64_t expected_churn(std::uint64_t seed) {
    std::uint64_t sum = 0;
    for (int i = 0; i < 64; ++i) sum += seed * 1'000'003 + static_cast<std::uint64_t>(i);
    return sum;
}

TEST(CompactSwitch, SpawnOptionChoosesTheMode) {
    auto c = green::spawn(kCompact, [] { return 1; });
    auto d = green::spawn([] { return 2; });
    EXPECT_TRUE(is_compact(c));
    EXPECT_FALSE(is_compact(d));
    EXPECT_EQ(c.get() + d.get(), 3);
}

TEST(CompactSwitch, ManyCompactFibersKeepTheirStackData) {
    std::vector<green::Greenlet<std::uint64_t>> gs;
    for (std::uint64_t i = 0; i < 200; ++i) gs.push_back(green::spawn(kCompact, churn, i, 50));
    for (std::uint64_t i = 0; i < gs.size(); ++i) EXPECT_EQ(gs[i].get(), expected_churn(i));
}

TEST(CompactSwitch, CompactAndDefaultFibersInterleave) {
    std::vector<green::Greenlet<std::uint64_t>> gs;
    for (std::uint64_t i = 0; i < 100; ++i)
        gs.push_back(i % 2 ? green::spawn(kCompact, churn, i, 40) : green::spawn(churn, i, 40));
    for (std::uint64_t i = 0; i < gs.size(); ++i) EXPECT_EQ(gs[i].get(), expected_churn(i));
}

int recurse(int depth, volatile char* prev) {
    volatile char frame[1024];
    frame[0] = static_cast<char>(depth);
    frame[1023] = prev ? prev[0] : 0;
    if (depth == 0) {
        green::sleep(0ms);  // switched out with the whole depth copied
        return frame[0];
    }
    const int below = recurse(depth - 1, frame);
    green::sleep(0ms);
    return below + (frame[0] == static_cast<char>(depth) ? 1 : -1000);
}

TEST(CompactSwitch, DeepRecursionNearTheStackSizeSurvivesSwitches) {
    // The run stack is the default stack size; go to most of it, in 1 KiB frames.
    const int depth = static_cast<int>(green::default_stack_size() / 1024) * 3 / 4;
    auto a = green::spawn(kCompact, recurse, depth, nullptr);
    auto b = green::spawn(kCompact, recurse, depth / 2, nullptr);
    EXPECT_EQ(a.get(), depth);
    EXPECT_EQ(b.get(), depth / 2);
}

TEST(CompactSwitch, ExceptionsCrossSwitches) {
    auto g = green::spawn(kCompact, [] {
        try {
            try {
                throw std::runtime_error("inner");
            } catch (const std::exception&) {
                green::sleep(0ms);  // switched out inside a handler
                throw;
            }
        } catch (const std::runtime_error& e) {
            green::sleep(1ms);
            EXPECT_EQ(std::uncaught_exceptions(), 0);
            throw std::logic_error(std::string(e.what()) + "-outer");
        }
    });
    try {
        g.get();
        FAIL() << "no exception";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "inner-outer");
    }
}

TEST(CompactSwitch, KillDuringAWait) {
    green::Event never;
    int cleaned = 0;
    auto g = green::spawn(kCompact, [&] {
        struct Cleanup {
            int& n;
            ~Cleanup() { ++n; }
        } c{cleaned};
        never.wait();
    });
    green::sleep(0ms);
    g.kill();
    EXPECT_TRUE(g.dead());
    EXPECT_TRUE(g.killed());
    EXPECT_EQ(cleaned, 1);
}

TEST(CompactSwitch, SpawnFromACompactFiber) {
    auto outer = green::spawn(kCompact, [] {
        std::vector<green::Greenlet<std::uint64_t>> inner;
        for (std::uint64_t i = 0; i < 10; ++i) inner.push_back(green::spawn(kCompact, churn, i, 5));
        std::uint64_t sum = 0;
        for (auto& g : inner) sum += g.get();
        return sum;
    });
    std::uint64_t want = 0;
    for (std::uint64_t i = 0; i < 10; ++i) want += expected_churn(i);
    EXPECT_EQ(outer.get(), want);
}

TEST(CompactSwitch, StackSizeAboveTheRunStackIsRefused) {
    green::SpawnOptions o = kCompact;
    o.stack_size = green::default_stack_size() * 4;
    EXPECT_THROW(green::spawn(o, [] {}), std::length_error);
}

}  // namespace
