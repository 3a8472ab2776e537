// Compact greenlets waiting on every primitive while other compact greenlets run on the same run
// stack: the records the runtime keeps for a wait (queue nodes, items in hand-off, timers,
// Timeouts) must survive the copy, so several compact waiters park at once in each test.
#include <gtest/gtest.h>

#include <green/green.hpp>

#include "support/sleep_order.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
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

// The explicit wait for a node on the caller's stack: a compact fiber's is declined before the
// node is queued (it would be copied away with the stack), an ordinary fiber's parks as wait().
TEST(CompactWait, WaitOnStackDeclinesOnlyACompactFiber) {
    using green::WaitQueue;
    WaitQueue q;
    auto compact = green::spawn(kCompact, [&] {
        WaitQueue::Node n;
        const auto r = q.wait_on_stack(n, green::Deadline(50ms));
        EXPECT_FALSE(n.linked);
        EXPECT_TRUE(q.empty());
        return r;
    });
    EXPECT_EQ(compact.get(), WaitQueue::StackWait::Compact);
    auto notified = green::spawn([&] {
        WaitQueue::Node n;
        return q.wait_on_stack(n, green::Deadline(10s));
    });
    green::sleep(0ms);
    EXPECT_EQ(q.size(), 1u);
    EXPECT_TRUE(q.notify_one());
    EXPECT_EQ(notified.get(), WaitQueue::StackWait::Notified);
    auto timed_out = green::spawn([&] {
        WaitQueue::Node n;
        return q.wait_on_stack(n, green::Deadline(1ms));
    });
    EXPECT_EQ(timed_out.get(), WaitQueue::StackWait::Timeout);
    EXPECT_TRUE(q.empty());
}

// Shared mode (a plain thread used the queues first): compact getters and putters wait under the
// queues' lock, with their nodes and items on the heap, and a thread on another hub wakes them.
TEST(CompactWait, SharedQueuesBetweenCompactFibersAndPlainThreads) {
    green::Queue<std::string> in(1), out(1);
    std::thread([&] {  // binds both queues to this thread's hub, which then exits
        in.put("first");
        out.put("first");
    })
        .join();
    EXPECT_EQ(in.get(), "first");  // the owner has exited: this call makes them shared
    EXPECT_EQ(out.get(), "first");
    long got_sum = 0;
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < 4; ++i)
        gs.push_back(green::spawn(kCompact, [&] {
            for (int k = 0; k < 25; ++k) got_sum += std::stol(in.get());
        }));
    for (int i = 0; i < 4; ++i)
        gs.push_back(green::spawn(kCompact, [&out, i] {
            for (int k = 1; k <= 25; ++k) out.put(std::to_string(i * 25 + k));
        }));
    std::thread producer([&] {
        for (int k = 1; k <= 100; ++k) in.put(std::to_string(k));
    });
    long put_sum = 0;
    std::thread consumer([&] {
        for (int k = 0; k < 100; ++k) put_sum += std::stol(out.get());
    });
    green::joinall(gs);
    producer.join();
    consumer.join();
    EXPECT_EQ(got_sum, 5050);
    EXPECT_EQ(put_sum, 5050);
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

// Several compact selectors park at once on the same two channels, so each one's nodes, claim
// and receive slot are in use while the others run on the run stack.
TEST(CompactWait, SelectReceivesBetweenCompactFibers) {
    green::Channel<int> a, b;
    std::vector<green::Greenlet<int>> selectors;
    for (int i = 0; i < 4; ++i)
        selectors.push_back(green::spawn(kCompact, [&] {
            std::optional<int> x, y;
            const int branch = green::select(green::recv(a, x), green::recv(b, y));
            return branch == 0 ? *x : -*y;
        }));
    auto sender = green::spawn(kCompact, [&] {
        a.put(1);
        b.put(2);
        a.put(3);
        b.put(4);
    });
    sender.join();
    std::vector<int> got;
    for (auto& s : selectors) got.push_back(s.get());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<int>{-4, -2, 1, 3}));
}

// The item a parked compact sender offers is read by the getter while the sender is copied out.
TEST(CompactWait, SelectSendOffersItsItemWhileSwitchedOut) {
    green::Channel<std::string> ch;
    const std::string long_item(200, 'x');  // not in the string object itself
    auto sender = green::spawn(kCompact, [&] {
        return green::select(green::send(ch, long_item + "!"), green::after(green::Deadline(60s)));
    });
    auto getter = green::spawn(kCompact, [&] {
        return ch.get();  // spawned second: the sender is parked by now
    });
    EXPECT_EQ(getter.get(), long_item + "!");
    EXPECT_EQ(sender.get(), 0);
}

// Killed while it waits: nothing taken, and no node left in the channels.
TEST(CompactWait, KilledSelectLeavesNoTrace) {
    green::Channel<int> a, b;
    auto g = green::spawn(kCompact, [&] {
        std::optional<int> x, y;
        green::select(green::recv(a, x), green::recv(b, y));
    });
    green::sleep(0ms);  // g runs and parks
    g.kill();
    auto late = green::spawn(kCompact, [&] { return a.get() + b.get(); });
    auto putter = green::spawn([&] {
        a.put(20);
        b.put(22);
    });
    EXPECT_EQ(late.get(), 42);
    putter.join();
}

// iwait's state is written by each completion while the waiting compact fiber is switched out.
TEST(CompactWait, IwaitAndJoinallFromACompactFiber) {
    green::Event e1, e2, e3;
    auto waiter = green::spawn(kCompact, [&] {
        std::vector<green::Waitable*> order;
        for (green::Waitable* w : green::iwait({e1, e2, e3})) order.push_back(w);
        return order;
    });
    auto setter = green::spawn(kCompact, [&] {
        for (green::Event* e : {&e3, &e1, &e2}) {
            green::sleep(0ms);
            e->set();
        }
    });
    EXPECT_EQ(waiter.get(), (std::vector<green::Waitable*>{&e3, &e1, &e2}));
    setter.join();

    auto failing = green::spawn(kCompact, [] {
        green::sleep(1ms);
        throw std::runtime_error("boom");
    });
    auto fine = green::spawn(kCompact, [] { green::sleep(2ms); });
    auto joiner = green::spawn(kCompact, [&] {
        try {
            green::joinall({failing, fine}, {}, true);
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    });
    EXPECT_EQ(joiner.get(), "boom");
    fine.join();
}

}  // namespace
