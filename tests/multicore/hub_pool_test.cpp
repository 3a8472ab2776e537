// HubPool: greenlets spawned on chosen hubs (and round robin), run on distinct OS threads, and
// are joined, killed and linked from other hubs and from plain threads; stop() kills what still
// runs and joins the threads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <green/green.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(HubPool, SpawnOnEachHubRunsOnItsOwnThread) {
    green::HubPool pool(3);
    ASSERT_EQ(pool.size(), 3u);
    std::vector<green::Greenlet<std::thread::id>> gs;
    for (std::size_t i = 0; i < pool.size(); ++i)
        gs.push_back(pool.spawn(i, [&pool, i] {
            EXPECT_EQ(pool.current_index(), i);
            return std::this_thread::get_id();
        }));
    std::set<std::thread::id> ids;
    for (auto& g : gs) ids.insert(g.get(10s));
    EXPECT_EQ(ids.size(), 3u);
    EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);
    EXPECT_EQ(pool.current_index(), pool.size());
}

TEST(HubPool, RoundRobinPlacesOnEveryHub) {
    green::HubPool pool(2);
    std::vector<green::Greenlet<std::size_t>> gs;
    for (int i = 0; i < 10; ++i) gs.push_back(pool.spawn([&pool] { return pool.current_index(); }));
    std::vector<int> per_hub(2);
    for (auto& g : gs) ++per_hub.at(g.get(10s));
    EXPECT_EQ(per_hub[0], 5);
    EXPECT_EQ(per_hub[1], 5);
}

TEST(HubPool, ArgumentsResultsAndExceptionsTravel) {
    green::HubPool pool(2);
    auto sum = pool.spawn(
        1, [](int a, std::string b) { return a + static_cast<int>(b.size()); }, 40,
        std::string("ab"));
    EXPECT_EQ(sum.get(10s), 42);
    auto bad = pool.spawn(0, []() -> int { throw std::runtime_error("boom"); });
    EXPECT_THROW(bad.get(10s), std::runtime_error);
    EXPECT_TRUE(bad.ready());
    EXPECT_FALSE(bad.successful());
    EXPECT_THROW(pool.spawn(2, [] {}), std::out_of_range);
}

TEST(HubPool, JoinTimesOutThenSucceeds) {
    green::HubPool pool(1);
    green::Event go(green::cross_thread);
    auto g = pool.spawn(0, [&] { go.wait(); });
    EXPECT_FALSE(g.join(50ms));
    go.set();
    EXPECT_TRUE(g.join(10s));
}

TEST(HubPool, KillFromPlainThreadAndFromAnotherHub) {
    green::HubPool pool(2);
    std::atomic<int> unwound{0};
    auto sleeper = [&] {
        struct Guard {
            std::atomic<int>& n;
            ~Guard() { ++n; }
        } guard{unwound};
        green::sleep(1h);
    };
    auto a = pool.spawn(0, sleeper);
    auto b = pool.spawn(0, sleeper);
    green::sleep(20ms);
    a.kill(true, 10s);  // from this (plain) thread
    EXPECT_TRUE(a.ready());
    EXPECT_TRUE(a.killed());
    auto killer = pool.spawn(1, [b] {
        b.kill(true, green::Deadline(10s));
        return b.ready();
    });
    EXPECT_TRUE(killer.get(10s));
    EXPECT_TRUE(b.killed());
    EXPECT_EQ(unwound.load(), 2);
}

TEST(HubPool, JoinFromFiberOfAnotherHub) {
    green::HubPool pool(2);
    auto worker = pool.spawn(0, [] {
        green::sleep(30ms);
        return 7;
    });
    auto waiter = pool.spawn(1, [worker] { return worker.get() * 6; });
    EXPECT_EQ(waiter.get(10s), 42);
}

TEST(HubPool, LinkFromAnotherThreadRunsOnTheGreenletsHub) {
    green::HubPool pool(2);
    green::Event go(green::cross_thread);
    green::AsyncResult<std::size_t> where(green::cross_thread);
    auto g = pool.spawn(1, [&] { go.wait(); });
    g.link([&](const green::GreenletHandle&) { where.set(pool.current_index()); });
    auto unlinked = g.link([&](const green::GreenletHandle&) { ADD_FAILURE() << "unlinked"; });
    g.unlink(unlinked);
    // A round trip through hub 1's mailbox, posted after the unlink: once it is back, the link
    // and unlink have been applied there, before the greenlet could finish.
    pool.spawn(1, [] {}).join(green::Deadline(10s));
    go.set();
    EXPECT_EQ(where.get(10s), 1u);
}

TEST(HubPool, StopKillsWhatStillRunsAndJoinsThreads) {
    std::atomic<int> unwound{0};
    std::vector<green::Greenlet<void>> gs;
    {
        green::HubPool pool(2);
        for (int i = 0; i < 20; ++i)
            gs.push_back(pool.spawn([&] {
                struct Guard {
                    std::atomic<int>& n;
                    ~Guard() { ++n; }
                } guard{unwound};
                green::Event never;
                never.wait();
            }));
        // Spawned from inside a pool hub: also killed.
        pool.spawn(0,
                   [&] {
                       green::spawn([&] {
                           struct Guard {
                               std::atomic<int>& n;
                               ~Guard() { ++n; }
                           } guard{unwound};
                           green::sleep(1h);
                       });
                   })
            .join(10s);
        green::sleep(30ms);
        pool.stop();
        EXPECT_THROW(pool.spawn(0, [] {}), std::logic_error);
        pool.stop();  // idempotent
    }
    EXPECT_EQ(unwound.load(), 21);
    for (auto& g : gs) {
        EXPECT_TRUE(g.ready());
        EXPECT_TRUE(g.killed());
    }
}

TEST(HubPool, StopFromAPoolHubIsRefused) {
    green::HubPool pool(1);
    auto g = pool.spawn(0, [&] { pool.stop(); });
    EXPECT_FALSE(g.join(10s) && g.successful());
    EXPECT_THROW(g.get(), std::logic_error);
}

TEST(HubPool, ManyGreenletsAcrossHubsFromManyThreads) {
    green::HubPool pool(2);
    std::atomic<long> total{0};
    std::vector<std::thread> spawners;
    for (int t = 0; t < 3; ++t)
        spawners.emplace_back([&] {
            std::vector<green::Greenlet<int>> gs;
            for (int i = 0; i < 300; ++i)
                gs.push_back(pool.spawn([i] {
                    green::sleep(0ms);
                    return i;
                }));
            for (auto& g : gs) total += g.get(green::Deadline(30s));
        });
    for (auto& t : spawners) t.join();
    EXPECT_EQ(total.load(), 3L * (299 * 300 / 2));
}

TEST(HubPool, PinnedHubsStillRun) {
    green::HubPool pool(2, green::HubPoolOptions{.pin_cpus = true});
    EXPECT_EQ(pool.spawn(1, [] { return 5; }).get(10s), 5);
}

TEST(HubPool, ZeroHubsIsRefused) {
    EXPECT_THROW(green::HubPool(0), std::invalid_argument);
}

}  // namespace
