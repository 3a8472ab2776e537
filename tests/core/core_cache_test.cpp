// The per-hub cache of greenlet cores: how many idle cores a class keeps, that any block of a
// class fits every request of it, and that a burst of greenlets is served again from the cache.
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstddef>
#include <cstdlib>
#include <set>
#include <vector>

#include "config.hpp"
#include "core_cache.hpp"
#include "green/green.hpp"
#include "scheduler.hpp"

using green::detail::CoreCache;

TEST(CoreCache, KeepsUpToItsLimitPerClassAndHandsBackLastInFirstOut) {
    CoreCache cache(2);
    alignas(16) static unsigned char blocks[4][320];
    EXPECT_EQ(cache.take(300), nullptr);  // empty
    EXPECT_TRUE(cache.put(blocks[0], 300));
    EXPECT_TRUE(cache.put(blocks[1], 300));
    EXPECT_FALSE(cache.put(blocks[2], 300));  // the class is full
    EXPECT_TRUE(cache.put(blocks[3], 40));    // another class is not
    EXPECT_EQ(cache.take(290), blocks[1]);    // same class (249..312 bytes)
    EXPECT_EQ(cache.take(300), blocks[0]);
    EXPECT_EQ(cache.take(300), nullptr);
    EXPECT_EQ(cache.take(56), blocks[3]);
    while (cache.take(300)) {
    }
    (void)cache.take(56);  // nothing of ours left for the destructor to free
}

TEST(CoreCache, ABlockOfAClassFitsEveryRequestOfIt) {
    for (std::size_t size = 1; size <= 1024; ++size) {
        const std::size_t rounded = CoreCache::rounded(size);
        EXPECT_GE(rounded, size);
        // Every size that lands in the same class gets a block no larger than this one.
        EXPECT_EQ(CoreCache::rounded(rounded), rounded) << size;
    }
    EXPECT_EQ(CoreCache::rounded(5000), 5000u);  // beyond the classes: not cached
    CoreCache cache(1);
    alignas(16) static unsigned char big[5000];
    EXPECT_FALSE(cache.put(big, sizeof big));
}

// A hub keeps as many idle cores as it keeps warm stacks: after a burst of greenlets no larger
// than that, malloc hands out none of their blocks (the cache holds them all), and the next
// burst runs on those very cores. Off under AddressSanitizer, where every
// core goes back to the allocator so that a use after free stays detectable.
TEST(CoreCache, ABurstOfGreenletsReusesTheCoresOfTheLastOne) {
#ifdef __SANITIZE_ADDRESS__
    GTEST_SKIP() << "cores are not cached under AddressSanitizer";
#else
    const std::size_t burst = std::min<std::size_t>(green::detail::config().warm_stacks, 1000);
    ASSERT_GT(burst, 256u) << "the test wants a burst above the old fixed limit";
    auto run_burst = [burst] {
        std::set<const void*> cores;
        std::vector<green::Greenlet<void> > gs;
        gs.reserve(burst);
        for (std::size_t i = 0; i < burst; ++i)
            gs.push_back(
                green::spawn([&cores] { cores.insert(green::detail::Hub::get().current()); }));
        green::joinall(gs);
        return cores;
    };
    std::size_t core_block = 0;
    green::spawn([&core_block] {
        core_block = malloc_usable_size(green::detail::Hub::get().current());
    }).join();
    const auto first = run_burst();
    std::vector<void*> probes;
    for (std::size_t i = 0; i < burst; ++i) probes.push_back(std::malloc(core_block));
    std::size_t handed_out = 0;
    for (void* p : probes) handed_out += first.count(p);
    for (void* p : probes) std::free(p);
    EXPECT_EQ(handed_out, 0u) << "cores of the burst went back to malloc";
    const auto second = run_burst();
    ASSERT_EQ(first.size(), burst);
    ASSERT_EQ(second.size(), burst);
    std::size_t reused = 0;
    for (const void* c : second) reused += first.count(c);
    EXPECT_EQ(reused, burst);
#endif
}

// The memory goal of a parked greenlet (bench/README.md): the core of a greenlet whose function
// captures two references fits one 256-byte malloc chunk, with the cache's rounding.
TEST(CoreCache, AGreenletCapturingTwoReferencesFitsA256ByteChunk) {
    int a = 0, b = 0;
    auto fn = [&a, &b] { a += b; };
    using Core = green::detail::BoundCore<void, decltype(fn)>;
    EXPECT_LE(CoreCache::rounded(sizeof(Core)) + 8, 256u) << "sizeof core: " << sizeof(Core);
}
