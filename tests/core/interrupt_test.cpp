// Interrupts that meet: a kill and a Timeout, or two nested Timeouts, reaching a fiber before it
// runs again. None may be lost: a kill wins over a Timeout, and an outer Timeout is raised once
// the inner one's handler is back in the outer block (timeout.hpp). Also the Timeout and link
// lifetimes that used to read freed memory, and durations too large to add to now.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <green/green.hpp>

#include "scheduler.hpp"

using namespace std::chrono_literals;

namespace {

void interrupt(const green::GreenletHandle& g, std::exception_ptr e) {
    green::detail::Hub::get().interrupt(*green::detail::core_ptr_of(g), std::move(e));
}

}  // namespace

// Issue scenario (a), with both interrupts forced into one turn: the worker's Timeout has
// expired and the kill arrives before the worker runs again. Before the fix the kill was
// dropped and the worker, catching the Timeout, ran on.
TEST(Interrupts, KillIsNotLostBehindAnExpiredTimeout) {
    green::Timeout* armed = nullptr;
    int caught = 0;
    auto worker = green::spawn([&] {
        for (int i = 0; i < 1000; ++i) {
            try {
                green::Timeout t(1h);
                armed = &t;
                green::sleep(1h);
            } catch (const green::Timeout&) {
                ++caught;
            }
        }
    });
    green::sleep(0ms);  // the worker parks under its Timeout
    ASSERT_NE(armed, nullptr);
    interrupt(worker, std::make_exception_ptr(green::Timeout(*armed)));  // as if it expired
    worker.kill(false);
    ASSERT_TRUE(worker.join(5s)) << "the kill was lost";
    EXPECT_TRUE(worker.killed());
    EXPECT_EQ(caught, 0) << "a kill goes before a pending Timeout";
}

TEST(Interrupts, KillFirstThenTimeoutStillKills) {
    green::Timeout* armed = nullptr;
    auto worker = green::spawn([&] {
        for (int i = 0; i < 1000; ++i) {
            try {
                green::Timeout t(1h);
                armed = &t;
                green::sleep(1h);
            } catch (const green::Timeout&) {
            }
        }
    });
    green::sleep(0ms);
    worker.kill(false);
    interrupt(worker, std::make_exception_ptr(green::Timeout(*armed)));
    ASSERT_TRUE(worker.join(5s));
    EXPECT_TRUE(worker.killed());
}

// A second kill while the first is pending is not dropped either: a greenlet that swallows the
// first GreenletExit gets the second at its next wait.
TEST(Interrupts, TwoKillsAreThrownOneAfterTheOther) {
    int swallowed = 0;
    auto worker = green::spawn([&] {
        try {
            green::sleep(1h);
        } catch (const green::GreenletExit&) {
            ++swallowed;
        }
        green::sleep(1h);
    });
    green::sleep(0ms);
    worker.kill(false);
    worker.kill(false);
    ASSERT_TRUE(worker.join(5s)) << "the second kill was lost";
    EXPECT_EQ(swallowed, 1);
    EXPECT_TRUE(worker.killed());
}

// Issue scenario (b) with real timers: inner 15 ms inside outer 20 ms, both due in the same
// turn of the loop (the hub is held busy past both). The inner is raised first; the outer is
// raised at the next wait inside the outer block, not an hour later.
TEST(Interrupts, OuterTimeoutIsRaisedAfterTheInnerHandlerReturns) {
    std::vector<std::string> events;
    auto worker = green::spawn([&] {
        try {
            green::Timeout outer(20ms);
            try {
                green::Timeout inner(15ms);
                green::sleep(1h);
            } catch (const green::Timeout& e) {
                events.push_back(e.duration() == 15ms ? "inner" : "other");
            }
            events.push_back("back in outer");
            green::sleep(1h);  // the outer Timeout must be raised here
            events.push_back("outer lost");
        } catch (const green::Timeout& e) {
            events.push_back(e.duration() == 20ms ? "outer" : "other");
        }
    });
    green::sleep(0ms);                  // the worker parks under both Timeouts
    std::this_thread::sleep_for(40ms);  // both come due before the loop runs again
    ASSERT_TRUE(worker.join(5s)) << "the outer Timeout was not raised";
    EXPECT_EQ(events, (std::vector<std::string>{"inner", "back in outer", "outer"}));
}

// The same, forced: the outer expiry queued behind the inner one is thrown at the outer block's
// next wait.
TEST(Interrupts, QueuedOuterTimeoutIsThrownAtTheNextWait) {
    green::Timeout* outer_p = nullptr;
    green::Timeout* inner_p = nullptr;
    std::vector<std::string> events;
    auto worker = green::spawn([&] {
        try {
            green::Timeout outer(1h);
            outer_p = &outer;
            try {
                green::Timeout inner(1h);
                inner_p = &inner;
                green::sleep(1h);
            } catch (const green::Timeout& e) {
                events.push_back(e.is(*outer_p) ? "outer first" : "inner");
            }
            green::sleep(1h);
            events.push_back("outer lost");
        } catch (const green::Timeout& e) {
            events.push_back("outer");
        }
    });
    green::sleep(0ms);
    interrupt(worker, std::make_exception_ptr(green::Timeout(*inner_p)));
    interrupt(worker, std::make_exception_ptr(green::Timeout(*outer_p)));
    ASSERT_TRUE(worker.join(5s));
    EXPECT_EQ(events, (std::vector<std::string>{"inner", "outer"}));
}

// An expiry still queued when its block ends is withdrawn: it never fires outside its scope.
TEST(Interrupts, QueuedTimeoutIsWithdrawnWhenItsBlockEnds) {
    green::Timeout* outer_p = nullptr;
    green::Timeout* inner_p = nullptr;
    bool slept_after = false;
    auto worker = green::spawn([&] {
        {
            green::Timeout outer(1h);
            outer_p = &outer;
            try {
                green::Timeout inner(1h);
                inner_p = &inner;
                green::sleep(1h);
            } catch (const green::Timeout&) {
            }
        }  // the outer block ends without waiting again: its expiry is withdrawn
        green::sleep(1ms);
        slept_after = true;
    });
    green::sleep(0ms);
    interrupt(worker, std::make_exception_ptr(green::Timeout(*inner_p)));
    interrupt(worker, std::make_exception_ptr(green::Timeout(*outer_p)));
    ASSERT_TRUE(worker.join(5s));
    EXPECT_TRUE(worker.successful());
    EXPECT_TRUE(slept_after);
}

// ---- lifetimes (AddressSanitizer reports these as heap-use-after-free before the fix) ------

TEST(Lifetimes, TimeoutThatOutlivesItsFiberDoesNotFireIntoIt) {
    std::unique_ptr<green::Timeout> held;
    green::spawn([&] { held = std::make_unique<green::Timeout>(5ms); }).join();
    green::sleep(30ms);  // past its deadline: the fiber that armed it is gone
    EXPECT_FALSE(held->pending());
    held.reset();
    green::sleep(1ms);  // and the main fiber got nothing
}

TEST(Lifetimes, TimeoutThatOutlivesItsFiberCanBeRestartedElsewhere) {
    std::unique_ptr<green::Timeout> held;
    green::spawn([&] { held = std::make_unique<green::Timeout>(1h); }).join();
    EXPECT_FALSE(held->pending());
    held->start();  // now armed for the main fiber
    EXPECT_TRUE(held->pending());
    held->cancel();
}

TEST(Lifetimes, UnlinkAfterTheLinkFired) {
    int fired = 0;
    auto g = green::spawn([] {});
    auto id = g.link([&](const green::GreenletHandle&) { ++fired; });
    auto kept = g.link([&](const green::GreenletHandle&) { ++fired; });
    g.join();
    green::sleep(1ms);  // the link callbacks ran; their nodes are freed
    EXPECT_EQ(fired, 2);
    g.unlink(id);
    g.unlink(kept);
    g.unlink(0);
}

TEST(Lifetimes, UnlinkRemovesOnlyItsOwnLink) {
    std::vector<int> fired;
    green::Event gate;
    auto g = green::spawn([&] { gate.wait(); });
    auto a = g.link([&](const green::GreenletHandle&) { fired.push_back(1); });
    g.link([&](const green::GreenletHandle&) { fired.push_back(2); });
    g.unlink(a);
    g.unlink(a);  // twice: no effect
    gate.set();
    g.join();
    green::sleep(1ms);
    EXPECT_EQ(fired, (std::vector<int>{2}));
}

// ---- durations too large to add to now ----------------------------------------------------

TEST(HugeDurations, SleepMaxStaysParked) {
    bool returned = false;
    auto g = green::spawn(green::SpawnOptions{.ref = false}, [&] {
        green::sleep(green::Duration::max());
        returned = true;
    });
    green::sleep(10ms);
    EXPECT_FALSE(returned) << "sleep(Duration::max()) returned at once";
    g.kill();
    EXPECT_FALSE(returned);
    EXPECT_TRUE(g.killed());
}

TEST(HugeDurations, TimeoutMaxNeverFires) {
    green::Timeout t(green::Duration::max());
    EXPECT_NO_THROW(green::sleep(10ms));
    EXPECT_TRUE(t.pending());
    EXPECT_FALSE(t.expired());
    green::Timeout hours(std::chrono::hours::max());  // beyond Duration: saturates too
    EXPECT_NO_THROW(green::sleep(1ms));
    EXPECT_TRUE(hours.pending());
}

TEST(HugeDurations, SpawnLaterMaxNeverStarts) {
    auto g = green::spawn_later(green::Duration::max(), [] {});
    green::sleep(10ms);
    EXPECT_FALSE(g.started());
    g.kill();
    EXPECT_TRUE(g.ready());
}

TEST(HugeDurations, WaitsWithMaxDurationsBlock) {
    green::Event never;
    auto g = green::spawn(green::SpawnOptions{.ref = false},
                          [&] { return never.wait(green::Duration::max()); });
    green::sleep(10ms);
    EXPECT_FALSE(g.ready());
    g.kill();
}
