// The stack pool: stacks share mappings, are reused LIFO, and guard pages are budgeted.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <set>
#include <string>

#include "stack_pool.hpp"

namespace {
int count_mappings() {
    std::ifstream maps("/proc/self/maps");
    int n = 0;
    for (std::string line; std::getline(maps, line);) ++n;
    return n;
}
}  // namespace

TEST(StackPool, ManyStacksFewMappings) {
    green::detail::StackPool pool;
    const int before = count_mappings();
    std::vector<green::detail::StackSlot> slots;
    for (int i = 0; i < 20000; ++i) slots.push_back(pool.allocate(64 * 1024));
    const int after = count_mappings();
    // 8192 guarded stacks cost two mappings each; the other 11808 share their chunks.
    EXPECT_LT(after - before, 2 * 8192 + 200);
    EXPECT_LT(pool.chunks(), 100u);
    for (auto& s : slots) pool.release(s);
}

TEST(StackPool, ReuseIsLifo) {
    green::detail::StackPool pool;
    auto a = pool.allocate(64 * 1024);
    pool.release(a);
    auto b = pool.allocate(64 * 1024);
    EXPECT_EQ(a.base, b.base);
    pool.release(b);
}

// Consecutive stacks start their frames at different offsets within a page (different L1
// sets, no 4K aliasing between two fibers' contexts), always within the slot's top half page.
TEST(StackPool, ConsecutiveStacksStartAtDifferentPageOffsets) {
    green::detail::StackPool pool;
    std::vector<green::detail::StackSlot> slots;
    for (int i = 0; i < 32; ++i) slots.push_back(pool.allocate(64 * 1024));
    std::set<std::uintptr_t> offsets;
    for (const auto& s : slots) {
        const char* top = green::detail::StackPool::top(s);
        const char* end = static_cast<const char*>(s.base) + s.size;
        EXPECT_LE(top, end);
        EXPECT_GT(top, end - 2048);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(top) % 64, 0u);
        offsets.insert(reinterpret_cast<std::uintptr_t>(top) % 4096);
    }
    for (std::size_t i = 1; i < slots.size(); ++i)
        EXPECT_NE(
            reinterpret_cast<std::uintptr_t>(green::detail::StackPool::top(slots[i])) % 4096,
            reinterpret_cast<std::uintptr_t>(green::detail::StackPool::top(slots[i - 1])) % 4096);
    EXPECT_GE(offsets.size(), 16u);
    for (auto& s : slots) pool.release(s);
}

// trim() hands back only stacks that stayed free for a whole interval, at most once per
// interval: a workload that keeps reusing its stacks never pays madvise plus page faults.
TEST(StackPool, TrimGivesBackOnlyStacksColdForAnInterval) {
    using green::detail::StackPool;
    setenv("GREEN_WARM_STACKS", "0", 1);
    StackPool pool;
    unsetenv("GREEN_WARM_STACKS");
    std::vector<green::detail::StackSlot> slots;
    for (int i = 0; i < 10; ++i) slots.push_back(pool.allocate(64 * 1024));
    for (auto& s : slots) pool.release(s);
    const auto t0 = green::Clock::now();
    pool.trim(t0);  // starts the first interval: nothing has been cold for one yet
    EXPECT_EQ(pool.trimmed(), 0u);

    // Three stacks are reused and returned within the interval: they are warm.
    std::vector<green::detail::StackSlot> reused;
    for (int i = 0; i < 3; ++i) reused.push_back(pool.allocate(64 * 1024));
    for (auto& s : reused) pool.release(s);
    pool.trim(t0 + StackPool::kTrimInterval / 2);  // too soon: does nothing
    EXPECT_EQ(pool.trimmed(), 0u);

    pool.trim(t0 + StackPool::kTrimInterval);
    EXPECT_EQ(pool.trimmed(), 7u);
    pool.trim(t0 + 2 * StackPool::kTrimInterval);  // now the other three were cold too
    EXPECT_EQ(pool.trimmed(), 10u);

    // Reuse takes trimmed stacks back out of the count.
    auto again = pool.allocate(64 * 1024);
    EXPECT_EQ(pool.trimmed(), 9u);
    pool.release(again);
}

TEST(StackPool, GuardPageIsRecognised) {
    green::detail::StackPool pool;
    auto s = pool.allocate(64 * 1024);
    ASSERT_TRUE(s.guarded);
    EXPECT_TRUE(pool.in_guard_page(static_cast<char*>(s.base) - 1));
    EXPECT_FALSE(pool.in_guard_page(s.base));
    pool.release(s);
}

TEST(StackPool, CanaryReadsZeroOnFreshStacks) {
    setenv("GREEN_GUARD_PAGES", "0", 1);
    green::detail::StackPool pool;
    unsetenv("GREEN_GUARD_PAGES");
    auto s = pool.allocate(64 * 1024);
    EXPECT_FALSE(s.guarded);
    EXPECT_TRUE(green::detail::StackPool::canary_intact(s));
    static_cast<char*>(s.base)[3] = 1;
    EXPECT_FALSE(green::detail::StackPool::canary_intact(s));
    static_cast<char*>(s.base)[3] = 0;
    pool.release(s);
}
