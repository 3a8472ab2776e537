// green::Timeout: scoped expiry, nesting, cancellation, use as a deadline.
#include <gtest/gtest.h>

#include <green/green.hpp>

using namespace std::chrono_literals;

TEST(Timeout, ThrowsIntoTheBlock) {
    auto t0 = green::Clock::now();
    try {
        green::Timeout t(30ms);
        green::sleep(5s);
        FAIL() << "sleep was not interrupted";
    } catch (const green::Timeout& e) {
        EXPECT_GE(green::Clock::now() - t0, 30ms);
        EXPECT_TRUE(e.expired());
    }
}

TEST(Timeout, NotExpiredDoesNothing) {
    green::Timeout t(1s);
    green::sleep(1ms);
    EXPECT_TRUE(t.pending());
    t.cancel();
    EXPECT_FALSE(t.pending());
}

TEST(Timeout, NestedInnerFiresFirstAndIsIdentified) {
    green::Timeout outer(1s);
    try {
        green::Timeout inner(10ms);
        green::sleep(5s);
    } catch (const green::Timeout& e) {
        EXPECT_FALSE(e.is(outer));
        EXPECT_TRUE(outer.pending());
    }
}

TEST(Timeout, NestedOuterFiresFirst) {
    try {
        green::Timeout outer(10ms);
        try {
            green::Timeout inner(5s);
            green::sleep(5s);
        } catch (const green::Timeout& e) {
            EXPECT_TRUE(e.is(outer));
            throw;
        }
    } catch (const green::Timeout&) {
        SUCCEED();
        return;
    }
    FAIL();
}

TEST(Timeout, ExpiryWhileRunnableIsDeliveredAtTheNextSwitch) {
    auto busy = green::spawn([] {
        auto until = green::Clock::now() + 20ms;
        while (green::Clock::now() < until) {
        }
    });
    bool thrown = false;
    try {
        green::Timeout t(1ms);
        green::yield();  // busy runs past our deadline; we are runnable, not parked, meanwhile
        for (int i = 0; i < 1000; ++i) green::yield();
    } catch (const green::Timeout&) {
        thrown = true;
    }
    EXPECT_TRUE(thrown);
    busy.join();
    green::sleep(2ms);  // and nothing stale is thrown later
}

TEST(Timeout, ZeroAndNegativeExpireAtNextSwitch) {
    for (auto d : {0ms, -10ms}) {
        bool thrown = false;
        try {
            green::Timeout t(d);
            green::sleep(1s);
        } catch (const green::Timeout&) {
            thrown = true;
        }
        EXPECT_TRUE(thrown);
    }
}

TEST(Timeout, UsableAsDeadline) {
    // A Timeout throws only into the fiber that armed it; other code can share its expiry
    // as a plain Deadline and simply give up at the same moment.
    auto t0 = green::Clock::now();
    green::Timeout t(20ms);
    auto sleeper = green::spawn([] { green::sleep(5s); });
    auto watcher = green::spawn([&] { return sleeper.join(t); });
    try {
        watcher.join();
    } catch (const green::Timeout& e) {
        EXPECT_TRUE(e.is(t));  // t interrupts only us, its creator...
    }
    EXPECT_FALSE(watcher.get());  // ...while the watcher gave up at t's deadline, no exception
    EXPECT_GE(green::Clock::now() - t0, 20ms);
    EXPECT_FALSE(sleeper.dead());  // gave up long before the sleeper's end
    t.cancel();
    sleeper.kill();
}

TEST(Timeout, OnlyTheCreatingFiberIsInterrupted) {
    auto other = green::spawn([] {
        green::sleep(50ms);
        return 1;
    });
    try {
        green::Timeout t(10ms);
        other.join();
    } catch (const green::Timeout&) {
    }
    EXPECT_EQ(other.get(), 1);
}

TEST(Timeout, KillWinsOverLaterTimeout) {
    auto g = green::spawn([] {
        green::Timeout t(10ms);
        green::sleep(5s);
    });
    green::sleep(1ms);
    g.kill();
    EXPECT_TRUE(g.killed());
}
