// The stack pool: stacks share mappings, are reused LIFO, every stack has a guard page where
// the kernel has guard regions (a budget of them elsewhere), and sizes are bounded.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <new>
#include <set>
#include <stdexcept>
#include <string>

#include "config.hpp"
#include "stack_pool.hpp"

namespace {
int count_mappings() {
    std::ifstream maps("/proc/self/maps");
    int n = 0;
    for (std::string line; std::getline(maps, line);) ++n;
    return n;
}
}  // namespace

using green::detail::StackPool;
using green::detail::StackPoolOptions;

// Without guard regions (the fallback for kernels before 6.13): 8192 guarded stacks cost two
// mappings each; the other 11808 share their chunks.
TEST(StackPool, ManyStacksFewMappings) {
    StackPoolOptions o;
    o.guard_regions = false;
    StackPool pool(o);
    const int before = count_mappings();
    std::vector<green::detail::StackSlot> slots;
    for (int i = 0; i < 20000; ++i) slots.push_back(pool.allocate(64 * 1024));
    const int after = count_mappings();
    EXPECT_LT(after - before, 2 * 8192 + 200);
    EXPECT_LT(pool.chunks(), 100u);
    EXPECT_EQ(pool.guarded(), StackPool::kMprotectGuards);
    for (auto& s : slots) pool.release(s);
}

// With guard regions every stack has a guard page, and still only its chunk's mapping.
TEST(StackPool, GuardRegionsGuardEveryStackWithoutMappings) {
    StackPool pool;
    auto first = pool.allocate(64 * 1024);
    if (!pool.guard_regions()) {
        pool.release(first);
        GTEST_SKIP() << "kernel without MADV_GUARD_INSTALL (Linux < 6.13)";
    }
    const int before = count_mappings();
    std::vector<green::detail::StackSlot> slots;
    for (int i = 0; i < 20000; ++i) slots.push_back(pool.allocate(64 * 1024));
    const int after = count_mappings();
    EXPECT_LE(after - before, static_cast<int>(pool.chunks()) + 2);
    for (const auto& s : slots) {
        ASSERT_TRUE(s.guarded);
        ASSERT_TRUE(pool.in_guard_page(static_cast<char*>(s.base) - 1));
    }
    EXPECT_EQ(pool.guarded(), 20001u);
    for (auto& s : slots) pool.release(s);
    pool.release(first);
}

// The guard pages installed a chunk at a time (one process_madvise) are real: a write just below
// any stack of the chunk, first, middle or last, faults.
TEST(StackPoolDeathTest, ChunkGuardsInstalledTogetherFault) {
    StackPool pool;
    std::vector<green::detail::StackSlot> slots;
    for (int i = 0; i < 256; ++i) slots.push_back(pool.allocate(64 * 1024));
    if (!pool.guard_regions()) {
        for (auto& s : slots) pool.release(s);
        GTEST_SKIP() << "kernel without MADV_GUARD_INSTALL (Linux < 6.13)";
    }
    for (int i : {0, 1, 128, 255}) {
        volatile char* below = static_cast<char*>(slots[i].base) - 1;
        EXPECT_DEATH(*below = 1, "") << "stack " << i;
    }
    for (auto& s : slots) pool.release(s);
}

// The top page of a stack (where its first frames go) is faulted in ahead in batches that grow
// with the stacks carved: a program's first stack is not touched, a burst's later ones are
// resident before their fiber writes to them.
TEST(StackPool, TopPagesOfABurstAreFaultedInAhead) {
    StackPool pool;
    const std::size_t page = StackPool::page_size();
    auto resident = [&](const green::detail::StackSlot& s) {
        unsigned char v = 0;
        char* top_page = static_cast<char*>(s.base) + s.size - page;
        EXPECT_EQ(::mincore(top_page, page, &v), 0);
        return (v & 1) != 0;
    };
    std::vector<green::detail::StackSlot> slots;
    for (int i = 0; i < 100; ++i) slots.push_back(pool.allocate(64 * 1024));
    EXPECT_FALSE(resident(slots[0]));
    int ahead = 0;
    for (int i = 50; i < 100; ++i) ahead += resident(slots[i]);
    EXPECT_EQ(ahead, 50) << "stacks 50..99 should all have been faulted in ahead";
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
// A reservation (spawn) holds a free stack back from allocate() without choosing it: the
// reserved fiber takes the warmest free stack when it first runs, and a reservation dropped
// unused gives the stack back to allocate().
TEST(StackPool, ReservedStacksAreTakenWarmestFirstAndNotLent) {
    StackPool pool;
    const auto a = pool.allocate(64 * 1024);
    pool.reserve(64 * 1024);  // every free stack is spoken for: one is carved
    EXPECT_EQ(pool.free_stacks(), 1u);
    const auto b = pool.allocate(64 * 1024);  // not the reserved one: a fresh carve
    EXPECT_EQ(pool.free_stacks(), 1u);
    pool.release(a);  // the warmest now
    const auto taken = pool.take_reserved(64 * 1024);
    EXPECT_EQ(taken.base, a.base);
    EXPECT_EQ(pool.free_stacks(), 1u);
    pool.reserve(64 * 1024);  // a free stack exists: nothing carved
    EXPECT_EQ(pool.free_stacks(), 1u);
    pool.unreserve(64 * 1024);
    const auto again = pool.allocate(64 * 1024);  // lent again once the promise is dropped
    EXPECT_EQ(pool.free_stacks(), 0u);
    EXPECT_NE(again.base, b.base);
    EXPECT_THROW(pool.reserve(std::size_t{1} << 56), std::length_error);
    pool.release(again);
    pool.release(taken);
    pool.release(b);
}

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
    StackPoolOptions o;
    o.warm_limit = 0;
    StackPool pool(o);
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
    StackPoolOptions o;
    o.guard_budget = 0;
    o.guard_budget_set = true;
    StackPool pool(o);
    auto s = pool.allocate(64 * 1024);
    EXPECT_FALSE(s.guarded);
    EXPECT_TRUE(green::detail::StackPool::canary_intact(s));
    static_cast<char*>(s.base)[3] = 1;
    EXPECT_FALSE(green::detail::StackPool::canary_intact(s));
    static_cast<char*>(s.base)[3] = 0;
    pool.release(s);
}

// Even with no guard page budget, each chunk starts with a guard page: a fiber running off a
// canary-only stack faults inside its own chunk instead of writing on into other memory.
TEST(StackPool, EveryChunkStartsWithAGuardPage) {
    for (bool regions : {true, false}) {
        StackPoolOptions o;
        o.guard_budget = 0;
        o.guard_budget_set = true;
        o.guard_regions = regions;
        StackPool pool(o);
        auto s = pool.allocate(64 * 1024);
        EXPECT_FALSE(s.guarded);
        // The chunk's guard page lies one slot guard page below the first stack.
        char* chunk_guard = static_cast<char*>(s.base) - 2 * StackPool::page_size();
        EXPECT_TRUE(pool.in_guard_page(chunk_guard));
        pool.release(s);
    }
}

// Sizes past the maximum are refused before any arithmetic: 2^56 used to wrap the slot size
// (SIGSEGV) and SIZE_MAX the rounding (a silent 16 KiB stack).
TEST(StackPool, ImpossibleSizesAreRefused) {
    StackPool pool;
    const std::size_t mappings_before = pool.chunks();
    for (std::size_t bad :
         {green::detail::kMaxStackSize + 1, std::size_t{1} << 56, SIZE_MAX - 100, SIZE_MAX})
        EXPECT_THROW(pool.allocate(bad), std::length_error) << bad;
    EXPECT_EQ(pool.chunks(), mappings_before);
    auto s = pool.allocate(green::detail::kMaxStackSize);  // the largest is fine
    EXPECT_EQ(s.size, green::detail::kMaxStackSize);
    pool.release(s);
    auto tiny = pool.allocate(1);  // tiny sizes are raised to the minimum
    EXPECT_EQ(tiny.size, green::detail::kMinStackSize);
    pool.release(tiny);
}
