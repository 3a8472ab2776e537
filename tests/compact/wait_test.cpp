// Compact greenlets waiting on every primitive while other compact greenlets run on the same run
// stack: the records the runtime keeps for a wait (queue nodes, items in hand-off, timers,
// Timeouts) must survive the copy, so several compact waiters park at once in each test.
#include <gtest/gtest.h>

#include <green/green.hpp>

#include "support/sleep_order.hpp"

#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

const green::SpawnOptions kCompact{.stack_mode = green::StackMode::Compact};

TEST(CompactWait, SleepAndTimedWaits) {
    const auto order = green_test::wake_order_of_reverse_sleepers(
        kCompact, [](std::chrono::milliseconds d) { green::sleep(d); });
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(CompactWait, EventWakesEveryCompactWaiter) {
    green::Event ev;
    int woke = 0;
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < 20; ++i)
        gs.push_back(green::spawn(kCompact, [&] {
            volatile int marker = 1234;
            ev.wait();
            EXPECT_EQ(marker, 1234);
            ++woke;
        }));
    green::sleep(0ms);
    ev.set();
    green::joinall(gs);
    EXPECT_EQ(woke, 20);
}

TEST(CompactWait, LockAndSemaphoreHandOffs) {
    green::Lock lock;
    green::Semaphore sem(2);
    int inside = 0, most = 0, total = 0;
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < 16; ++i)
        gs.push_back(green::spawn(kCompact, [&] {
            for (int r = 0; r < 5; ++r) {
                sem.acquire();
                ++inside;
                most = std::max(most, inside);
                green::sleep(0ms);
                --inside;
                sem.release();
                lock.acquire();
                ++total;
                green::sleep(0ms);
                lock.release();
            }
        }));
    green::joinall(gs);
    EXPECT_EQ(total, 80);
    EXPECT_EQ(most, 2);
}

TEST(CompactWait, QueueItemsReachCompactGettersAndComeFromCompactPutters) {
    green::Queue<std::string> q(1);  // putters wait: the rendezvous takes from their nodes
    std::vector<std::string> got;
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < 4; ++i)
        gs.push_back(green::spawn(kCompact, [&] {
            for (int k = 0; k < 10; ++k) got.push_back(q.get());
        }));
    for (int i = 0; i < 4; ++i)
        gs.push_back(green::spawn(kCompact, [&q, i] {
            for (int k = 0; k < 10; ++k) q.put("item-" + std::to_string(i * 10 + k));
        }));
    green::joinall(gs);
    ASSERT_EQ(got.size(), 40u);
    std::sort(got.begin(), got.end());
    for (int i = 0; i < 40; ++i) {
        const std::string want = "item-" + std::to_string(i);
        EXPECT_NE(std::find(got.begin(), got.end(), want), got.end()) << want;
    }
}

TEST(CompactWait, ChannelRendezvousBetweenCompactFibers) {
    green::Channel<int> ch;
    long sum = 0;
    auto getter = green::spawn(kCompact, [&] {
        for (int i = 0; i < 100; ++i) sum += ch.get();
    });
    auto putter = green::spawn(kCompact, [&] {
        for (int i = 1; i <= 100; ++i) ch.put(i);
    });
    green::joinall({getter, putter});
    EXPECT_EQ(sum, 5050);
}

TEST(CompactWait, TimedPutKeepsTheItemWhenNobodyTakesIt) {
    green::Channel<std::string> ch;
    auto g = green::spawn(kCompact, [&] {
        std::string item = "kept";
        EXPECT_THROW(ch.put(item, green::Deadline(1ms)), green::QueueFull);
        return item;
    });
    EXPECT_EQ(g.get(), "kept");
}

TEST(CompactWait, TimeoutInterruptsACompactWait) {
    green::Event never;
    std::vector<green::Greenlet<bool>> gs;
    for (int i = 0; i < 5; ++i)
        gs.push_back(green::spawn(kCompact, [&never] {
            green::Timeout t(2ms);
            try {
                never.wait();
            } catch (const green::Timeout& e) {
                return e.is(t) && t.expired();
            }
            return false;
        }));
    for (auto& g : gs) EXPECT_TRUE(g.get());
}

TEST(CompactWait, CancelledTimeoutNeverFires) {
    auto g = green::spawn(kCompact, [] {
        {
            green::Timeout t(1ms);
            t.cancel();
            EXPECT_FALSE(t.pending());
        }
        green::sleep(3ms);
        return 7;
    });
    auto other = green::spawn(kCompact, [] { green::sleep(2ms); });
    EXPECT_EQ(g.get(), 7);
    other.join();
}

TEST(CompactWait, JoinFromACompactFiber) {
    auto worker = green::spawn(kCompact, [] {
        green::sleep(1ms);
        return 5;
    });
    auto joiner = green::spawn(kCompact, [&] { return worker.get() * 2; });
    EXPECT_EQ(joiner.get(), 10);
}

}  // namespace
