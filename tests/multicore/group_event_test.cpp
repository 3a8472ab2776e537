// Event, AsyncResult, Group, Pool and joinall between hubs of a HubPool and plain threads: a set
// from another hub or thread wakes the waiters, and a Group tracks greenlets running on other
// hubs (they leave it on its own hub when they finish; join, kill, failures, Pool slots).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <green/green.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(CrossHubEvent, SetFromAnotherHubOrAPlainThreadWakesWaiters) {
    green::HubPool pool(2);
    green::Event ev;
    std::vector<green::Greenlet<bool>> waiters;
    for (int i = 0; i < 3; ++i)
        waiters.push_back(pool.spawn(0, [&] { return ev.wait(green::Deadline(30s)); }));
    green::sleep(30ms);
    pool.spawn(1, [&] { ev.set(); }).get(green::Deadline(10s));
    for (auto& w : waiters) EXPECT_TRUE(w.get(green::Deadline(10s)));

    green::Event ev2(green::cross_thread);
    auto waiter = pool.spawn(1, [&] { return ev2.wait(green::Deadline(30s)); });
    green::sleep(30ms);
    std::thread t([&] { ev2.set(); });  // a thread without a hub
    EXPECT_TRUE(waiter.get(green::Deadline(10s)));
    t.join();
}

TEST(CrossHubEvent, AsyncResultValueAndExceptionFromOtherHubs) {
    green::HubPool pool(2);
    green::AsyncResult<int> r;
    auto getter = pool.spawn(0, [&] { return r.get(green::Deadline(30s)); });
    green::sleep(30ms);
    pool.spawn(1, [&] { r.set(41); }).get(green::Deadline(10s));
    EXPECT_EQ(getter.get(green::Deadline(10s)), 41);

    green::AsyncResult<int> failing(green::cross_thread);
    auto getter2 = pool.spawn(1, [&] {
        try {
            failing.get(green::Deadline(30s));
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("no exception");
    });
    green::sleep(30ms);
    std::thread t([&] { failing.set_exception(std::runtime_error("boom")); });
    EXPECT_EQ(getter2.get(green::Deadline(10s)), "boom");
    t.join();
}

TEST(CrossHubGroup, CollectsGreenletsOfEveryHub) {
    green::HubPool pool(3);
    green::Group group;
    std::atomic<int> ran{0};
    green::Event go(green::cross_thread);
    for (int i = 0; i < 12; ++i)
        EXPECT_TRUE(group.add(pool.spawn([&] {
            go.wait();
            ++ran;
        })));
    EXPECT_EQ(group.size(), 12u);
    EXPECT_FALSE(group.join(green::Deadline(20ms)));  // they wait for `go`
    go.set();
    EXPECT_TRUE(group.join(green::Deadline(30s)));
    EXPECT_EQ(ran.load(), 12);
    EXPECT_TRUE(group.empty());  // members left on this hub as they finished
}

TEST(CrossHubGroup, JoinRaisesAMemberFailureAndKillReachesOtherHubs) {
    green::HubPool pool(2);
    green::Group group;
    group.add(pool.spawn(0, [] { green::sleep(10ms); }));
    group.add(pool.spawn(1, []() -> int {
        green::sleep(20ms);
        throw std::runtime_error("member failed");
    }));
    EXPECT_THROW(group.join(green::Deadline(30s), true), std::runtime_error);

    green::Group sleepers;
    for (int i = 0; i < 4; ++i)
        sleepers.add(pool.spawn(static_cast<std::size_t>(i % 2), [] { green::sleep(60s); }));
    auto members = sleepers.greenlets();
    sleepers.kill(true, green::Deadline(10s));
    for (auto& g : members) EXPECT_TRUE(g.ready());
    EXPECT_TRUE(sleepers.join(green::Deadline(10s)));
    EXPECT_TRUE(sleepers.empty());

    // Discarded members of other hubs stay running and never touch the group again.
    green::Event release(green::cross_thread);
    auto kept = pool.spawn(1, [&] { release.wait(); });
    {
        green::Group g2;
        g2.add(kept);
        g2.discard(kept);
        EXPECT_TRUE(g2.empty());
        release.set();
        EXPECT_TRUE(kept.join(green::Deadline(10s)));
        green::sleep(10ms);  // a completion posted before the discard finds nothing
        EXPECT_TRUE(g2.empty());
    }
    // A group destroyed while its members of other hubs run: their completions are dropped.
    {
        green::Group g3;
        g3.add(pool.spawn(0, [] { green::sleep(20ms); }));
    }
    green::sleep(50ms);
}

TEST(CrossHubGroup, PoolSlotsComeBackFromOtherHubs) {
    // A Pool counts members of other hubs; each frees its slot (on this hub) when it finishes,
    // so add() gets one again: 8 members through 2 slots.
    green::HubPool pool(2);
    green::Pool limit(2);
    std::atomic<int> finished{0};
    for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(limit.add(pool.spawn([&] {
            green::sleep(5ms);
            ++finished;
        }),
                              green::Deadline(30s)));
        EXPECT_LE(limit.size(), 2u);
    }
    EXPECT_GE(finished.load(), 6);  // the 7th and 8th add waited for two to finish
    EXPECT_TRUE(limit.join(green::Deadline(30s)));
    EXPECT_EQ(finished.load(), 8);
    EXPECT_EQ(limit.free_count(), 2u);
}

TEST(CrossHubEvent, WaitersOnSeveralHubs) {
    green::HubPool pool(3);
    green::Event ev;
    green::AsyncResult<int> r;
    std::vector<green::Greenlet<int>> waiters;
    for (std::size_t h = 0; h < 3; ++h)
        for (int i = 0; i < 2; ++i)
            waiters.push_back(pool.spawn(h, [&] {
                if (!ev.wait(green::Deadline(30s))) return -1;
                return r.get(green::Deadline(30s));
            }));
    green::sleep(30ms);
    ev.set();  // from this plain thread
    green::sleep(10ms);
    pool.spawn(1, [&] { r.set(6); }).get(green::Deadline(10s));
    for (auto& w : waiters) EXPECT_EQ(w.get(green::Deadline(10s)), 6);
    // Deadlines and kills of waiters away from the Event's hub leave nothing behind.
    green::Event never;
    pool.spawn(0, [&] { never.wait(green::Deadline(1ms)); }).get(green::Deadline(10s));  // binds
    auto timed = pool.spawn(1, [&] { return never.wait(green::Deadline(20ms)); });
    EXPECT_FALSE(timed.get(green::Deadline(10s)));
    auto victim = pool.spawn(2, [&] { never.wait(); });
    green::sleep(20ms);
    victim.kill(true, green::Deadline(10s));
    EXPECT_TRUE(victim.killed());
    never.set();
}

TEST(CrossHubJoinall, WaitsForGreenletsOfEveryHubAndRaises) {
    green::HubPool pool(2);
    std::vector<green::Greenlet<int>> gs;
    for (int i = 0; i < 6; ++i)
        gs.push_back(pool.spawn([i] {
            green::sleep(std::chrono::milliseconds(i));
            return i;
        }));
    auto done = green::joinall(gs, green::Deadline(30s), true);
    EXPECT_EQ(done.size(), 6u);
    int sum = 0;
    for (auto& g : gs) sum += g.get();
    EXPECT_EQ(sum, 15);

    auto slow = pool.spawn(0, [] { green::sleep(60s); });
    auto bad = pool.spawn(1, []() -> int {
        green::sleep(10ms);
        throw std::logic_error("bad");
    });
    auto local = green::spawn([] { return 1; });
    EXPECT_THROW(green::joinall({slow, bad, local}, green::Deadline(30s), true), std::logic_error);
    EXPECT_FALSE(slow.ready());  // raised at the failure, not after the slow one
    // A deadline ends it with what finished.
    auto part = green::joinall({slow, local}, green::Deadline(30ms), true);
    EXPECT_EQ(part.size(), 1u);
    slow.kill(true, green::Deadline(10s));
}

}  // namespace
