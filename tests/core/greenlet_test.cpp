// Greenlets: results, failures, kill in every state, join/joinall/killall, wait/iwait, links.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <green/green.hpp>

#include "support/pipe.hpp"

using namespace std::chrono_literals;

TEST(Greenlet, GetReturnsValue) {
    auto g = green::spawn([](int a, std::string b) { return b + std::to_string(a); }, 7, "x");
    EXPECT_FALSE(g.ready());
    EXPECT_EQ(g.get(), "x7");
    EXPECT_TRUE(g.ready());
    EXPECT_TRUE(g.successful());
    EXPECT_TRUE(g.dead());
    EXPECT_EQ(g.value(), "x7");
}

TEST(Greenlet, MoveOnlyResultAndArguments) {
    auto g = green::spawn([](std::unique_ptr<int> p) { return std::make_unique<int>(*p * 2); },
                          std::make_unique<int>(21));
    g.join();
    EXPECT_EQ(*g.value(), 42);
}

TEST(Greenlet, ExceptionPropagatesThroughGet) {
    auto g = green::spawn([]() -> int { throw std::out_of_range("nope"); });
    EXPECT_THROW(g.get(), std::out_of_range);
    EXPECT_TRUE(g.dead());
    EXPECT_FALSE(g.successful());
    EXPECT_NE(g.exception(), nullptr);
    EXPECT_THROW(g.get(), std::out_of_range);  // stays stored
}

TEST(Greenlet, FailureIsReportedOnceOnStderr) {
    testing::internal::CaptureStderr();
    auto g = green::spawn(green::SpawnOptions{"reporter"}, [] { throw std::runtime_error("bad"); });
    g.join();
    g.join();
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("reporter failed with std::runtime_error: bad"), std::string::npos) << err;
    EXPECT_EQ(err.find("reporter", err.find("reporter") + 1), std::string::npos) << err;
}

TEST(Greenlet, KillSleepingGreenletRunsDestructors) {
    bool destroyed = false;
    struct Flag {
        bool& f;
        ~Flag() { f = true; }
    };
    auto g = green::spawn([&] {
        Flag flag{destroyed};
        green::sleep(10s);
    });
    green::sleep(1ms);
    g.kill();
    EXPECT_TRUE(destroyed);
    EXPECT_TRUE(g.dead());
    EXPECT_TRUE(g.killed());
    EXPECT_TRUE(g.successful());  // as in gevent, GreenletExit is not a failure
    EXPECT_THROW(g.get(), green::GreenletExit);
}

TEST(Greenlet, KillBeforeStartNeverRuns) {
    bool ran = false;
    auto g = green::spawn([&] { ran = true; });
    g.kill(false);
    EXPECT_TRUE(g.dead());
    green::sleep(1ms);
    EXPECT_FALSE(ran);
    EXPECT_TRUE(g.join(0s));
}

TEST(Greenlet, KillSpawnLaterBeforeItStarts) {
    bool ran = false;
    auto g = green::spawn_later(50ms, [&] { ran = true; });
    g.kill();
    green::sleep(80ms);
    EXPECT_FALSE(ran);
    EXPECT_TRUE(g.dead());
}

TEST(Greenlet, KillWithCustomException) {
    auto g = green::spawn([] { green::sleep(10s); });
    green::sleep(0ms);
    g.kill(std::make_exception_ptr(std::runtime_error("custom")));
    EXPECT_TRUE(g.dead());
    EXPECT_FALSE(g.successful());
    EXPECT_THROW(g.get(), std::runtime_error);
}

TEST(Greenlet, KillDeadGreenletIsANoop) {
    auto g = green::spawn([] { return 1; });
    EXPECT_EQ(g.get(), 1);
    g.kill();
    EXPECT_EQ(g.get(), 1);
}

TEST(Greenlet, KillNonBlockingThenJoin) {
    auto g = green::spawn([] { green::sleep(10s); });
    green::sleep(0ms);
    g.kill(false);
    EXPECT_FALSE(g.dead());  // not yet unwound
    EXPECT_TRUE(g.join(1s));
    EXPECT_TRUE(g.killed());
}

TEST(Greenlet, GreenletThatIgnoresKillIsBoundedByKillTimeout) {
    auto g = green::spawn([] {
        for (int i = 0; i < 2; ++i) {
            try {
                green::sleep(200ms);
            } catch (const green::GreenletExit&) {
            }
        }
    });
    green::sleep(0ms);
    // kill() came back while the greenlet was still inside its second sleep: the kill timeout
    // bounded the wait, not the greenlet's own end (no wall-clock bound: CI machines stall).
    g.kill(true, 20ms);
    EXPECT_FALSE(g.dead());
    g.join();
    EXPECT_TRUE(g.dead());
}

TEST(Greenlet, JoinTimeout) {
    // Sleeps until killed: with a 1 s sleep, a CI stall of a second (ASan, two jobs on two
    // cores) let the greenlet finish before get(5ms) timed out.
    auto g = green::spawn([] { green::sleep(1h); });
    EXPECT_FALSE(g.join(10ms));
    EXPECT_FALSE(g.join(0ms));
    EXPECT_FALSE(g.join(-1s));
    EXPECT_THROW(g.get(5ms), green::Timeout);
    g.kill();
}

TEST(Greenlet, SelfJoinIsAnError) {
    green::Greenlet<void> self;
    auto g = green::spawn([&] { EXPECT_THROW(self.join(), std::logic_error); });
    self = g;
    g.join();
    EXPECT_TRUE(g.successful());
}

TEST(Greenlet, JoinallWithTimeoutReturnsFinishedOnes) {
    auto fast = green::spawn([] { green::sleep(1ms); });
    auto slow = green::spawn([] { green::sleep(5s); });
    auto done = green::joinall({fast, slow}, 100ms);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0], fast);
    slow.kill();
}

TEST(Greenlet, JoinallRaiseErrorRethrowsFirstFailure) {
    // `ok` cannot end before joinall returns: the throw must not wait for it (no clock needed).
    green::Event release;
    auto ok = green::spawn([&] { release.wait(); });
    auto bad = green::spawn([] {
        green::sleep(5ms);
        throw std::invalid_argument("first");
    });
    EXPECT_THROW(green::joinall({ok, bad}, green::Deadline(30s), true), std::invalid_argument);
    EXPECT_FALSE(ok.dead());
    release.set();
    ok.join();
}

TEST(Greenlet, KillallKillsEveryone) {
    std::vector<green::Greenlet<void>> gs;
    for (int i = 0; i < 20; ++i) gs.push_back(green::spawn([] { green::sleep(10s); }));
    green::sleep(0ms);
    green::killall(gs);
    for (auto& g : gs) EXPECT_TRUE(g.killed());
}

TEST(Greenlet, WaitReturnsInCompletionOrder) {
    auto a = green::spawn([] { green::sleep(30ms); });
    auto b = green::spawn([] { green::sleep(10ms); });
    auto c = green::spawn([] { green::sleep(20ms); });
    auto ready = green::wait({a, b, c});
    ASSERT_EQ(ready.size(), 3u);
    EXPECT_EQ(ready[0], &b.waitable());
    EXPECT_EQ(ready[1], &c.waitable());
    EXPECT_EQ(ready[2], &a.waitable());
}

TEST(Greenlet, WaitCountAndTimeout) {
    auto a = green::spawn([] { green::sleep(5ms); });
    auto b = green::spawn([] { green::sleep(5s); });
    EXPECT_EQ(green::wait({a, b}, {}, 1).size(), 1u);
    EXPECT_EQ(green::wait({a, b}, 20ms).size(), 1u);
    b.kill();
}

TEST(Greenlet, IwaitIteratesAsReady) {
    std::vector<green::Greenlet<int>> gs;
    for (int i : {3, 1, 2})
        gs.push_back(green::spawn([i] {
            green::sleep(i * 5ms);
            return i;
        }));
    std::vector<int> order;
    for (green::Waitable* w : green::iwait({gs[0], gs[1], gs[2]})) {
        for (auto& g : gs)
            if (&g.waitable() == w) order.push_back(g.get());
    }
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Greenlet, LinkRunsCallbackInANewGreenlet) {
    std::vector<std::string> calls;
    auto g = green::spawn(green::SpawnOptions{"linked"}, [] { return 5; });
    g.link([&](const green::GreenletHandle& h) {
        green::sleep(1ms);  // a link callback may block: it has its own greenlet
        calls.push_back("any:" + h.name());
    });
    g.link_value([&](const green::GreenletHandle&) { calls.push_back("value"); });
    g.link_exception([&](const green::GreenletHandle&) { calls.push_back("exception"); });
    auto removed = g.link([&](const green::GreenletHandle&) { calls.push_back("unlinked"); });
    g.unlink(removed);
    g.join();
    green::sleep(10ms);
    std::sort(calls.begin(), calls.end());
    EXPECT_EQ(calls, (std::vector<std::string>{"any:linked", "value"}));
}

TEST(Greenlet, LinkExceptionFiresOnFailure) {
    bool fired = false;
    auto g = green::spawn([] { throw std::runtime_error("x"); });
    g.link_exception([&](const green::GreenletHandle& h) { fired = !h.successful(); });
    g.join();
    green::sleep(1ms);
    EXPECT_TRUE(fired);
}

TEST(Greenlet, SpawnLaterStartsAfterDelay) {
    auto t0 = green::Clock::now();
    auto g = green::spawn_later(50ms, [&] { return green::Clock::now() - t0; });
    EXPECT_FALSE(g.started());
    EXPECT_GE(g.get(), 50ms);
}

TEST(Greenlet, GetcurrentAndNames) {
    EXPECT_FALSE(green::getcurrent());  // the main fiber is not a Greenlet
    auto g =
        green::spawn(green::SpawnOptions{"worker-1"}, [] { return green::getcurrent().name(); });
    EXPECT_EQ(g.get(), "worker-1");
    auto h = green::spawn([] { return green::getcurrent().name(); });
    EXPECT_EQ(h.get().rfind("Greenlet-", 0), 0u);
}

TEST(Greenlet, HandleOutlivesAndDroppedHandleStillRuns) {
    int runs = 0;
    {
        green::spawn([&] { ++runs; });
    }  // handle dropped at once: the greenlet still runs
    green::sleep(1ms);
    EXPECT_EQ(runs, 1);
}

// gevent's ref=False: the waits of a greenlet spawned with ref=false do not keep the hub alive,
// so a wait that only it could end raises LoopExit instead of blocking.
TEST(Greenlet, UnrefGreenletSleepingDoesNotKeepTheHubAlive) {
    auto daemon = green::spawn(green::SpawnOptions{.name = "daemon", .ref = false},
                               [] { green::sleep(10s); });
    green::sleep(0ms);  // it starts and parks in its sleep
    green::Event never;
    EXPECT_THROW(never.wait(), green::LoopExit);
    EXPECT_THROW(daemon.join(), green::LoopExit);
    daemon.kill();
    EXPECT_TRUE(daemon.killed());
}

TEST(Greenlet, UnrefGreenletInAnIoWaitDoesNotKeepTheHubAlive) {
    green_test::Pipe pipe;
    auto daemon =
        green::spawn(green::SpawnOptions{.ref = false}, [&] { green::wait_read(pipe.r); });
    green::sleep(0ms);
    green::Event never;
    EXPECT_THROW(never.wait(), green::LoopExit);
    daemon.kill();
}

// Closing the fd under an unref'd waiter wakes it with EBADF, and the hub stays alive until it
// does (io_uring delivers that wake-up through a cancel completion still to come).
TEST(Greenlet, ClosingTheFdOfAnUnrefWaiterWakesIt) {
    green_test::Pipe pipe;
    auto daemon = green::spawn(green::SpawnOptions{.ref = false},
                               [&] { return green_test::wait_read_errno(pipe.r); });
    green::sleep(0ms);
    green_test::Pipe::close_fd(pipe.r);
    EXPECT_EQ(daemon.get(), EBADF);
}

// Not keeping the hub alive is not the same as not being polled: an unref'd greenlet's I/O
// completes while other fibers keep the run queue busy.
TEST(Greenlet, UnrefWaiterIsPolledWhileOthersRun) {
    green_test::Pipe pipe;
    bool woke = false;
    auto daemon = green::spawn(green::SpawnOptions{.ref = false}, [&] {
        green::wait_read(pipe.r);
        woke = true;
    });
    green::sleep(0ms);
    ASSERT_EQ(::write(pipe.w, "x", 1), 1);
    for (int i = 0; i < 100000 && !woke; ++i) green::sleep(0ms);  // never idle
    EXPECT_TRUE(woke);
}

TEST(Greenlet, UnrefSpawnLaterDoesNotKeepTheHubAlive) {
    bool ran = false;
    auto later = green::spawn_later(green::SpawnOptions{.ref = false}, 10s, [&] { ran = true; });
    green::Event never;
    EXPECT_THROW(never.wait(), green::LoopExit);
    EXPECT_FALSE(ran);
    later.kill();
}

TEST(Greenlet, UnrefGreenletRunsWhileTheHubLivesForOtherReasons) {
    bool done = false;
    auto daemon = green::spawn(green::SpawnOptions{.ref = false}, [&] {
        green::sleep(10ms);
        done = true;
    });
    green::sleep(100ms);  // the main fiber's own sleep keeps the hub alive meanwhile
    EXPECT_TRUE(done);
    EXPECT_TRUE(daemon.ready());
}
