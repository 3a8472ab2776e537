// The hub: timers, yielding order, LoopExit, cross-thread posts, idle, backend choice.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <green/green.hpp>

#include "scheduler.hpp"
#include "support/stopwatch.hpp"

using namespace std::chrono_literals;
using green_test::seconds_since;

TEST(Hub, BackendMatchesRequest) {
    const char* want = std::getenv("GREEN_BACKEND");
    std::string got = green::backend_name();
    if (want && std::string(want) == "epoll") {
        EXPECT_EQ(got, "epoll");
    }
    EXPECT_TRUE(got == "epoll" || got == "io_uring");
}

TEST(Hub, SleepsOverlap) {
    auto t0 = green::Clock::now();
    std::vector<green::Greenlet<void>> gs;
    for (int i = 0; i < 10; ++i) gs.push_back(green::spawn([] { green::sleep(200ms); }));
    green::joinall(gs);
    double took = seconds_since(t0);
    EXPECT_GE(took, 0.19);
    EXPECT_LT(took, 1.5);  // 10 x 200 ms would be 2 s if they did not overlap
}

TEST(Hub, SleepNeverEndsEarly) {
    for (auto d : {1ms, 5ms, 20ms}) {
        auto t0 = green::Clock::now();
        green::sleep(d);
        EXPECT_GE(green::Clock::now() - t0, d);
    }
}

TEST(Hub, TimersFireInDeadlineOrder) {
    std::vector<int> order;
    std::vector<green::Greenlet<void>> gs;
    for (int i : {5, 1, 4, 2, 3})
        gs.push_back(green::spawn([&order, i] {
            green::sleep(i * 10ms);
            order.push_back(i);
        }));
    green::joinall(gs);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST(Hub, SleepZeroYieldsInFifoOrder) {
    std::string trace;
    auto a = green::spawn([&] {
        for (int i = 0; i < 3; ++i) {
            trace += 'a';
            green::sleep(0s);
        }
    });
    auto b = green::spawn([&] {
        for (int i = 0; i < 3; ++i) {
            trace += 'b';
            green::yield();
        }
    });
    green::joinall({a, b});
    EXPECT_EQ(trace, "ababab");
}

TEST(Hub, NegativeSleepYields) {
    bool ran = false;
    auto g = green::spawn([&] { ran = true; });
    green::sleep(-5s);
    EXPECT_TRUE(ran);
    g.join();
}

// gevent's spelling: plain seconds. sleep(0) and a negative number yield, a fraction sleeps at
// least that long, NaN is refused, infinity is accepted as "as long as can be" (not waited here).
TEST(Hub, SleepInSecondsAsGeventSpellsIt) {
    std::string trace;
    auto a = green::spawn([&] {
        trace += 'a';
        green::sleep(0);
        trace += 'a';
    });
    auto b = green::spawn([&] {
        trace += 'b';
        green::sleep(-1.5);
        trace += 'b';
    });
    green::joinall({a, b});
    EXPECT_EQ(trace, "abab");

    const auto t0 = green::Clock::now();
    green::sleep(0.02);
    EXPECT_GE(green::Clock::now() - t0, 20ms);

    EXPECT_THROW(green::sleep(std::nan("")), std::invalid_argument);
    bool woke = false;
    auto forever = green::spawn([&] {
        green::sleep(HUGE_VAL);
        woke = true;
    });
    green::sleep(0);
    forever.kill();
    EXPECT_FALSE(woke);
    EXPECT_TRUE(forever.dead());
}

// The hub takes the next fiber's stack early (to prefetch it); a fiber killed before it ever
// ran must still give that stack back.
TEST(Hub, StackReservedForAFiberKilledBeforeItRanIsReturned) {
    auto& pool = green::detail::Hub::get().stacks();
    {
        std::vector<green::Greenlet<void>> warm;
        for (int i = 0; i < 3; ++i) warm.push_back(green::spawn([] { green::sleep(0ms); }));
        green::joinall(warm);
    }
    const std::size_t free_before = pool.free_stacks();
    bool b_ran = false;
    green::Greenlet<void> b;
    auto a = green::spawn([&] { b.kill(); });  // b is next in the run queue: its stack is taken
    b = green::spawn([&] { b_ran = true; });
    green::joinall(std::vector<green::GreenletHandle>{a, b});
    green::sleep(0ms);
    EXPECT_FALSE(b_ran);
    EXPECT_TRUE(b.killed());
    EXPECT_EQ(pool.free_stacks(), free_before);
}

// A greenlet killed before it ran sits dead in the run queue until the loop next runs; when its
// thread ends first (a main() that spawns, kills and returns), the hub's teardown frees it.
TEST(Hub, GreenletKilledBeforeItRanIsFreedWhenItsThreadEnds) {
    auto token = std::make_shared<int>(0);
    std::weak_ptr<int> alive = token;
    std::thread([t = std::move(token)]() mutable {
        auto g = green::spawn([t = std::move(t)] { green::sleep(1s); });
        g.kill();
    }).join();
    EXPECT_TRUE(alive.expired());
}

TEST(Hub, LoopExitInsteadOfHang) {
    green::WaitQueue nobody_notifies;
    EXPECT_THROW(nobody_notifies.wait(), green::LoopExit);
}

TEST(Hub, LoopExitWhenJoiningAGreenletThatWaitsForever) {
    auto stuck = green::spawn([] {
        green::WaitQueue q;
        q.wait();
    });
    EXPECT_THROW(stuck.join(), green::LoopExit);
    EXPECT_FALSE(stuck.dead());
    stuck.kill();  // unwinds it; the kill itself needs no waiting
    EXPECT_TRUE(stuck.dead());
}

TEST(Hub, UnrefTimerDoesNotKeepHubAlive) {
    green::detail::Timer t;
    t.ref = false;
    t.when = green::Clock::now() + 10s;
    t.fire = [](green::detail::Timer&) {};
    green::detail::Hub::get().add_timer(t);
    green::WaitQueue q;
    EXPECT_THROW(q.wait(), green::LoopExit);
    green::detail::Hub::get().cancel_timer(t);
}

TEST(Hub, CrossThreadPostWakesAWaitingFiber) {
    green::WaitQueue q;
    auto hub = green::current_hub();
    std::atomic<bool> posted{false};
    green::HubHandle::KeepAlive keep(hub);  // another thread will wake us: not a LoopExit
    std::thread t([&] {
        std::this_thread::sleep_for(50ms);
        hub.post([&] {
            posted = true;
            q.notify_one();
        });
    });
    EXPECT_TRUE(q.wait(5s));
    EXPECT_TRUE(posted.load());
    t.join();
}

TEST(Hub, ReleasingTheLastKeepAliveLetsLoopExitHappen) {
    green::WaitQueue q;
    auto hub = green::current_hub();
    auto keep = std::make_unique<green::HubHandle::KeepAlive>(hub);
    std::thread t([&] {
        std::this_thread::sleep_for(30ms);
        hub.post([&] { keep.reset(); });
    });
    EXPECT_THROW(q.wait(), green::LoopExit);
    t.join();
}

TEST(Hub, PostToAHubWhoseThreadEndedFails) {
    green::HubHandle other;
    std::thread([&] { other = green::current_hub(); }).join();
    EXPECT_FALSE(other.post([] {}));
}

TEST(Hub, IdleRunsAfterOtherWork) {
    std::string trace;
    auto g = green::spawn([&] {
        for (int i = 0; i < 3; ++i) {
            trace += 'w';
            green::yield();
        }
    });
    green::idle();
    trace += 'i';
    EXPECT_EQ(trace, "wwwi");
    g.join();
}

TEST(Hub, EachThreadHasItsOwnHub) {
    std::atomic<int> total{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
        ts.emplace_back([&] {
            std::vector<green::Greenlet<int>> gs;
            for (int i = 0; i < 100; ++i)
                gs.push_back(green::spawn([i] {
                    green::sleep(1ms);
                    return i;
                }));
            for (auto& g : gs) total += g.get();
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(total.load(), 4 * 4950);
}
