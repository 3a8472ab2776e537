// Event: wake order, every flavour of timeout, kill and Timeout while waiting, LoopExit, and
// use through green::wait / iwait.
#include <gtest/gtest.h>

#include <chrono>
#include <green/green.hpp>
#include <vector>

#include "support/stopwatch.hpp"

using namespace std::chrono_literals;
using green_test::seconds_since;

namespace {

TEST(Event, SetWakesEveryWaiterInArrivalOrder) {
    green::Event ev;
    std::vector<int> order;
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < 5; ++i)
        gs.push_back(green::spawn([&, i] {
            EXPECT_TRUE(ev.wait());
            order.push_back(i);
        }));
    green::sleep(0ms);
    EXPECT_TRUE(order.empty());
    ev.set();
    green::joinall(gs);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Event, WaitOnSetEventReturnsAtOnce) {
    green::Event ev;
    ev.set();
    EXPECT_TRUE(ev.is_set());
    EXPECT_TRUE(ev.wait());
    EXPECT_TRUE(ev.wait(0s));
    ev.clear();
    EXPECT_FALSE(ev.is_set());
    EXPECT_FALSE(ev.wait(0s));
}

TEST(Event, ZeroAndNegativeTimeoutsPollWithoutSwitching) {
    green::Event ev;
    bool other_ran = false;
    auto g = green::spawn([&] { other_ran = true; });
    EXPECT_FALSE(ev.wait(0s));
    EXPECT_FALSE(ev.wait(-5ms));
    EXPECT_FALSE(ev.wait(green::Clock::now() - 1s));  // an expired time point
    EXPECT_FALSE(other_ran);
    g.join();
}

TEST(Event, ExpiredTimeoutReturnsFalseAfterTheDelay) {
    green::Event ev;
    auto t0 = green::Clock::now();
    EXPECT_FALSE(ev.wait(50ms));
    EXPECT_GE(seconds_since(t0), 0.049);
}

TEST(Event, SetBeforeTheTimeoutReturnsTrueEarly) {
    green::Event ev;
    auto setter = green::spawn([&] {
        green::sleep(20ms);
        ev.set();
    });
    EXPECT_TRUE(ev.wait(5s));
    setter.join();
}

TEST(Event, WaiterWokenBySetReturnsTrueEvenIfClearedRightAfter) {
    green::Event ev;
    bool result = false;
    auto waiter = green::spawn([&] { result = ev.wait(5s); });
    green::sleep(0ms);
    ev.set();
    ev.clear();
    waiter.join();
    EXPECT_TRUE(result);
    EXPECT_FALSE(ev.is_set());
}

TEST(Event, KilledWaiterUnwindsAndOthersStillWake) {
    green::Event ev;
    int unwound = 0, woke = 0;
    struct Guard {
        int& n;
        ~Guard() { ++n; }
    };
    auto victim = green::spawn([&] {
        Guard g{unwound};
        ev.wait();
        ADD_FAILURE() << "killed waiter returned from wait";
    });
    auto other = green::spawn([&] {
        ev.wait();
        ++woke;
    });
    green::sleep(0ms);
    victim.kill();
    EXPECT_TRUE(victim.dead());
    EXPECT_EQ(unwound, 1);
    ev.set();
    other.join();
    EXPECT_EQ(woke, 1);
}

TEST(Event, ScopedTimeoutInterruptsWait) {
    green::Event ev;
    green::Timeout t(30ms);
    try {
        ev.wait();
        FAIL() << "wait returned";
    } catch (const green::Timeout& e) {
        EXPECT_TRUE(e.is(t));
    }
}

TEST(Event, MainWaitingOnNothingGetsLoopExit) {
    green::Event ev;
    EXPECT_THROW(ev.wait(), green::LoopExit);
    // The event is still usable afterwards.
    ev.set();
    EXPECT_TRUE(ev.wait());
}

TEST(Event, WorksWithGreenWaitAndIwait) {
    green::Event a, b;
    auto g = green::spawn([&] {
        green::sleep(10ms);
        b.set();
        green::sleep(10ms);
        a.set();
    });
    std::vector<green::Waitable*> order;
    for (green::Waitable* w : green::iwait({a, b}, 5s)) order.push_back(w);
    ASSERT_EQ(order.size(), 2u);
    EXPECT_EQ(order[0], &b);
    EXPECT_EQ(order[1], &a);
    g.join();

    green::Event never;
    auto ready = green::wait({never, a}, 1s, 1);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0], &a);
}

TEST(Event, ManyRoundsOfSetAndClear) {
    green::Event ping, pong;
    int rounds = 0;
    auto g = green::spawn([&] {
        for (int i = 0; i < 1000; ++i) {
            ping.wait();
            ping.clear();
            ++rounds;
            pong.set();
        }
    });
    for (int i = 0; i < 1000; ++i) {
        ping.set();
        pong.wait();
        pong.clear();
    }
    g.join();
    EXPECT_EQ(rounds, 1000);
}

}  // namespace
