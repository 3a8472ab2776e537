// Group and Pool: membership, the size limit (spawn waits while full), join/kill, map, imap
// (ordered, lazy), imap_unordered, apply, and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <green/green.hpp>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(Pool, NeverRunsMoreThanItsSize) {
    green::Pool pool(3);
    int running = 0, peak = 0;
    for (int i = 0; i < 12; ++i)
        pool.spawn([&] {
            ++running;
            peak = std::max(peak, running);
            green::sleep(5ms);
            --running;
        });
    EXPECT_TRUE(pool.join(10s));
    EXPECT_EQ(peak, 3);
    EXPECT_TRUE(pool.empty());
    EXPECT_EQ(pool.free_count(), 3u);
}

TEST(Pool, SpawnBlocksWhileFull) {
    green::Pool pool(1);
    green::Event release;
    pool.spawn([&] { release.wait(); });
    EXPECT_TRUE(pool.full());
    EXPECT_EQ(pool.free_count(), 0u);
    bool second_spawned = false;
    auto spawner = green::spawn([&] {
        pool.spawn([] {});
        second_spawned = true;
    });
    green::sleep(5ms);
    EXPECT_FALSE(second_spawned);
    EXPECT_FALSE(pool.wait_available(0s));
    release.set();
    spawner.join();
    EXPECT_TRUE(second_spawned);
    EXPECT_TRUE(pool.join(5s));
    EXPECT_TRUE(pool.wait_available(0s));
}

TEST(Pool, ZeroSizeIsRejected) {
    EXPECT_THROW(green::Pool(0), std::invalid_argument);
}

TEST(Group, JoinTimeoutAndKill) {
    green::Group group;
    int unwound = 0;
    for (int i = 0; i < 5; ++i)
        group.spawn([&] {
            struct G {
                int& n;
                ~G() { ++n; }
            } g{unwound};
            green::sleep(10s);
        });
    EXPECT_EQ(group.size(), 5u);
    EXPECT_FALSE(group.join(10ms));
    auto members = group.greenlets();
    group.kill();
    EXPECT_TRUE(group.empty());
    EXPECT_EQ(unwound, 5);
    for (auto& g : members) EXPECT_TRUE(g.killed());
    EXPECT_TRUE(group.join(0s));
}

TEST(Group, AddDiscardContains) {
    green::Group group;
    green::Event go;
    auto g = green::spawn([&] { go.wait(); });
    EXPECT_TRUE(group.add(g));
    EXPECT_TRUE(group.contains(g));
    EXPECT_TRUE(group.add(g));  // again: no-op
    EXPECT_EQ(group.size(), 1u);
    group.discard(g);
    EXPECT_FALSE(group.contains(g));
    EXPECT_TRUE(group.join(0s));
    group.add(g);
    go.set();
    EXPECT_TRUE(group.join(5s));  // members leave when they finish
    EXPECT_FALSE(group.contains(g));
    EXPECT_TRUE(group.add(g));  // finished: not added
    EXPECT_TRUE(group.empty());
}

// Membership is found through the greenlet's own links: one greenlet in two groups, linked
// by joiners and other groups too, belongs to each until it leaves that one.
TEST(Group, OneGreenletInTwoGroupsBesideOtherLinks) {
    green::Group a, b;
    green::Event go;
    auto g = green::spawn([&] { go.wait(); });
    auto other = green::spawn([&] { go.wait(); });
    auto joiner = green::spawn([&] { g.join(); });
    green::sleep(0);  // the joiner links g first
    ASSERT_TRUE(a.add(g));
    ASSERT_TRUE(b.add(g));
    ASSERT_TRUE(b.add(other));
    EXPECT_TRUE(a.contains(g));
    EXPECT_TRUE(b.contains(g));
    EXPECT_FALSE(a.contains(other));
    EXPECT_FALSE(a.contains(joiner));
    a.discard(g);
    EXPECT_FALSE(a.contains(g));
    EXPECT_TRUE(b.contains(g));  // still b's
    EXPECT_EQ(a.size(), 0u);
    EXPECT_EQ(b.size(), 2u);
    a.add(g);
    go.set();
    EXPECT_TRUE(b.join(5s));
    EXPECT_TRUE(a.join(5s));
    EXPECT_TRUE(joiner.join(5s));
    EXPECT_FALSE(a.contains(g));
    EXPECT_FALSE(b.contains(g));
    EXPECT_FALSE(green::Group().contains(green::GreenletHandle()));
}

TEST(Pool, AddWaitsForASlot) {
    green::Pool pool(1);
    green::Event go;
    pool.spawn([&] { go.wait(); });
    auto outsider = green::spawn([] { green::sleep(10ms); });
    EXPECT_FALSE(pool.add(outsider, 5ms));
    EXPECT_FALSE(pool.contains(outsider));
    go.set();
    EXPECT_TRUE(pool.add(outsider, 5s));
    EXPECT_TRUE(pool.join(5s));
}

TEST(Group, JoinRaiseErrorRethrowsAMemberFailure) {
    green::Group group;
    group.spawn([] { green::sleep(5s); });
    group.spawn([] {
        green::sleep(5ms);
        throw std::runtime_error("member failed");
    });
    EXPECT_THROW(group.join(5s, true), std::runtime_error);
    group.kill();
}

TEST(Pool, MapKeepsInputOrder) {
    green::Pool pool(4);
    std::vector<int> in{5, 1, 4, 2, 3};
    auto out = pool.map(
        [](int v) {
            green::sleep(std::chrono::milliseconds(v));
            return v * v;
        },
        in);
    EXPECT_EQ(out, (std::vector<int>{25, 1, 16, 4, 9}));
    auto words = pool.map([](const std::string& s) { return s.size(); },
                          std::vector<std::string>{"a", "bb", "ccc"});
    EXPECT_EQ(words, (std::vector<std::size_t>{1, 2, 3}));
}

TEST(Pool, MapRethrowsATaskException) {
    green::Pool pool(2);
    EXPECT_THROW(pool.map(
                     [](int v) {
                         if (v == 3) throw std::invalid_argument("three");
                         return v;
                     },
                     std::vector<int>{1, 2, 3, 4}),
                 std::invalid_argument);
}

TEST(Pool, MapOfVoidFunction) {
    green::Pool pool(2);
    int sum = 0;
    pool.map([&](int v) { sum += v; }, std::vector<int>{1, 2, 3});
    EXPECT_EQ(sum, 6);
}

TEST(Pool, ImapIsOrderedAndLazy) {
    green::Pool pool(3);
    int started = 0;
    auto results = pool.imap(
        [&](int v) {
            ++started;
            green::sleep(std::chrono::milliseconds(v % 2 == 0 ? 10 : 5));
            return v;
        },
        std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
    EXPECT_EQ(started, 0);  // nothing runs until we wait
    std::vector<int> got;
    for (int v : results) {
        got.push_back(v);
        if (got.size() == 1) {
            EXPECT_LT(started, 8);  // the pool limit keeps it lazy
        }
    }
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(Pool, ImapUnorderedYieldsByCompletion) {
    // Submitted 4, 3, 2, 1; a releaser lets them finish 1, 2, 3, 4, each only after the previous
    // result reached the consumer. An iterator in submission order would wait for 4 while the
    // releaser waits for 1: LoopExit, not a wrong order that timing could hide.
    green::Group group;
    green::Event done[5];
    green::Queue<int> received;
    auto releaser = green::spawn([&] {
        for (int v = 1; v <= 4; ++v) {
            done[v].set();
            EXPECT_EQ(received.get(), v);
        }
    });
    std::vector<int> got;
    for (int v : group.imap_unordered(
             [&](int v) {
                 done[v].wait();
                 return v;
             },
             std::vector<int>{4, 3, 2, 1})) {
        got.push_back(v);
        received.put(v);
    }
    releaser.join();
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
}

TEST(Pool, ImapDroppedEarlyKillsTheRest) {
    green::Pool pool(2);
    int finished = 0;
    {
        auto it = pool.imap(
            [&](int v) {
                green::sleep(std::chrono::milliseconds(v == 0 ? 1 : 200));
                ++finished;
                return v;
            },
            std::vector<int>{0, 1, 2, 3, 4});
        EXPECT_EQ(it.next(), 0);
    }
    EXPECT_TRUE(pool.join(5s));
    EXPECT_EQ(finished, 1);
}

// Tasks that outlive their abandoned imap (they catch the kill and finish later) must not
// deliver into its freed results (ASan checks this).
TEST(Pool, ImapTasksOutlivingTheImapDeliverNothing) {
    green::Pool pool(3);
    int finished = 0;
    {
        auto it = pool.imap(
            [&](int v) {
                if (v == 0) return v;
                try {
                    green::sleep(5s);
                } catch (const green::GreenletExit&) {
                    green::sleep(20ms);  // finishes after the imap, the feeder and their state
                    ++finished;
                }
                return v;
            },
            std::vector<int>{0, 1, 2});
        EXPECT_EQ(it.next(), 0);
    }
    green::sleep(1ms);  // the feeder ends: its state goes with it
    EXPECT_TRUE(pool.join(5s));
    EXPECT_EQ(finished, 2);
    EXPECT_TRUE(pool.empty());
}

TEST(Pool, ApplyAndApplyAsync) {
    green::Pool pool(1);
    EXPECT_EQ(pool.apply([](int a, int b) { return a + b; }, 2, 3), 5);
    // From inside a member of the full pool, apply runs directly instead of deadlocking.
    auto g = pool.spawn([&] { return pool.apply([] { return std::string("inner"); }); });
    EXPECT_EQ(g.get(5s), "inner");
    auto a = pool.apply_async([] { return 11; });
    EXPECT_EQ(a.get(5s), 11);
    auto m = pool.map_async([](int v) { return -v; }, std::vector<int>{1, 2});
    EXPECT_EQ(m.get(5s), (std::vector<int>{-1, -2}));
}

TEST(Pool, KillWhileSpawnersWaitKeepsSlotsConsistent) {
    green::Pool pool(2);
    for (int i = 0; i < 2; ++i) pool.spawn([] { green::sleep(10s); });
    auto waiting_spawner = green::spawn([&] { pool.spawn([] {}); });
    green::sleep(0ms);
    waiting_spawner.kill();  // killed while waiting for a slot
    pool.kill();
    EXPECT_TRUE(pool.empty());
    EXPECT_EQ(pool.free_count(), 2u);
}

}  // namespace
