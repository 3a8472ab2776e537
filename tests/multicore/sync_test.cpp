// The coordination primitives shared between hubs and plain OS threads: items and permits are
// handed straight to a waiter on another hub (woken through its hub's mailbox), nothing is lost
// or duplicated (checksums, exact counts), kills and deadlines of cross-hub waiters keep the
// hand-off rules, and an object used on one hub first becomes shared while fibers wait on it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <green/green.hpp>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// A plain OS thread the test's main hub waits for cooperatively (std::thread::join would block
// the hub, and the first cross-hub use of an object bound here needs this hub's loop).
class PlainThread {
  public:
    template <class F>
    explicit PlainThread(F f)
        : t_([this, f]() mutable {
              f();
              done_.set();
          }) {}
    ~PlainThread() {
        EXPECT_TRUE(done_.wait(green::Deadline(60s)));
        t_.join();
    }

  private:
    green::Event done_{green::cross_thread};
    std::thread t_;
};

TEST(CrossHubQueue, PingPongBetweenHubs) {
    green::HubPool pool(2);
    green::Queue<int> ping, pong;
    constexpr int kRounds = 20000;
    auto a = pool.spawn(0, [&] {
        long sum = 0;
        for (int i = 0; i < kRounds; ++i) {
            ping.put(i);
            sum += pong.get();
        }
        return sum;
    });
    auto b = pool.spawn(1, [&] {
        for (int i = 0; i < kRounds; ++i) pong.put(ping.get() * 2);
    });
    EXPECT_EQ(a.get(green::Deadline(60s)), 2L * kRounds * (kRounds - 1) / 2);
    b.get(green::Deadline(10s));
}

TEST(CrossHubQueue, ProducersOnHubsAndAPlainThreadConsumersOnHubs) {
    green::HubPool pool(2);
    green::Queue<long> q(16);
    constexpr long kPerProducer = 30000;
    constexpr int kProducers = 3;  // hub 0, hub 1, a plain thread
    std::atomic<long> sum{0}, count{0};
    std::vector<green::Greenlet<void>> consumers;
    for (int c = 0; c < 4; ++c)
        consumers.push_back(pool.spawn(c % 2, [&] {
            for (long v : q) {
                sum += v;
                ++count;
            }
        }));
    auto produce = [&](long base) {
        for (long i = 0; i < kPerProducer; ++i) q.put(base + i);
    };
    auto p0 = pool.spawn(0, produce, 0L);
    auto p1 = pool.spawn(1, produce, kPerProducer);
    {
        PlainThread t([&] { produce(2 * kPerProducer); });
    }
    p0.get(green::Deadline(60s));
    p1.get(green::Deadline(60s));
    q.close();
    for (auto& c : consumers) c.get(green::Deadline(60s));
    const long n = kProducers * kPerProducer;
    EXPECT_EQ(count.load(), n);
    EXPECT_EQ(sum.load(), n * (n - 1) / 2);
}

TEST(CrossHubQueue, ChannelKeepsOrderAcrossHubs) {
    green::HubPool pool(2);
    green::Channel<int> ch;
    auto producer = pool.spawn(0, [&] {
        for (int i = 0; i < 5000; ++i) ch.put(i);
        ch.close();
    });
    auto consumer = pool.spawn(1, [&] {
        int expect = 0;
        for (int v : ch) {
            if (v != expect) return false;
            ++expect;
        }
        return expect == 5000;
    });
    EXPECT_TRUE(consumer.get(green::Deadline(60s)));
    producer.get(green::Deadline(10s));
}

TEST(CrossHubQueue, OtherFlavoursWorkAcrossHubs) {
    green::HubPool pool(2);
    green::PriorityQueue<int> pq;
    green::LifoQueue<int> lq;
    green::JoinableQueue<int> jq;
    pool.spawn(0,
               [&] {
                   for (int v : {5, 1, 3}) pq.put(v);
                   for (int v : {1, 2, 3}) lq.put(v);
               })
        .get(green::Deadline(10s));
    auto got = pool.spawn(1, [&] {
        std::vector<int> out;
        for (int i = 0; i < 3; ++i) out.push_back(pq.get());
        for (int i = 0; i < 3; ++i) out.push_back(lq.get());
        return out;
    });
    EXPECT_EQ(got.get(green::Deadline(10s)), (std::vector<int>{1, 3, 5, 3, 2, 1}));

    std::atomic<int> done{0};
    auto worker = pool.spawn(1, [&] {
        for (int i = 0; i < 100; ++i) {
            jq.get();
            ++done;
            jq.task_done();
        }
    });
    auto joiner = pool.spawn(0, [&] {
        for (int i = 0; i < 100; ++i) jq.put(i);
        jq.join();
        return done.load();
    });
    EXPECT_EQ(joiner.get(green::Deadline(30s)), 100);
    worker.get(green::Deadline(10s));
    EXPECT_EQ(jq.unfinished_tasks(), 0u);
}

TEST(CrossHubQueue, PeekAndCloseWakeWaitersOnOtherHubs) {
    green::HubPool pool(2);
    green::Queue<int> q;
    auto peeker = pool.spawn(0, [&] { return q.peek(green::Deadline(30s)); });
    green::sleep(30ms);
    pool.spawn(1, [&] { q.put(9); }).get(green::Deadline(10s));
    EXPECT_EQ(peeker.get(green::Deadline(10s)), 9);
    EXPECT_EQ(q.get(), 9);  // peek left it there
    auto getter = pool.spawn(0, [&] {
        try {
            q.get(green::Deadline(30s));
        } catch (const green::QueueClosed&) {
            return true;
        }
        return false;
    });
    green::sleep(30ms);
    pool.spawn(1, [&] { q.close(); }).get(green::Deadline(10s));
    EXPECT_TRUE(getter.get(green::Deadline(10s)));
}

TEST(CrossHubQueue, KilledGetterOnAnotherHubPassesItsItemOn) {
    green::HubPool pool(2);
    green::Queue<int> q;
    auto victim = pool.spawn(0, [&] { return q.get(); });
    green::sleep(30ms);  // it waits
    victim.kill(true, green::Deadline(10s));
    EXPECT_TRUE(victim.killed());
    auto next = pool.spawn(1, [&] { return q.get(green::Deadline(30s)); });
    green::sleep(30ms);
    q.put(4);  // from this plain (test) thread
    EXPECT_EQ(next.get(green::Deadline(10s)), 4);
    EXPECT_EQ(q.size(), 0u);
}

TEST(CrossHubQueue, DeadlineOfACrossHubWaiter) {
    green::HubPool pool(2);
    green::Queue<int> q(1);
    q.put(1);  // full; bound to this thread's hub
    auto putter = pool.spawn(0, [&] { return q.try_put(2, green::Deadline(50ms)); });
    auto getter = pool.spawn(1, [&] { return q.get(); });
    EXPECT_EQ(getter.get(green::Deadline(10s)), 1);
    // The getter made room before or after the putter's deadline: either way exactly one of
    // the outcomes, and the queue agrees.
    const bool put = putter.get(green::Deadline(10s));
    EXPECT_EQ(q.size(), put ? 1u : 0u);
    green::Queue<int> empty;
    auto waiter = pool.spawn(1, [&] { return empty.try_get(green::Deadline(50ms)); });
    EXPECT_FALSE(waiter.get(green::Deadline(10s)).has_value());
}

TEST(CrossHubQueue, BecomesSharedWhileFibersOfItsHubWait) {
    // Getters of this thread's hub wait in single-hub mode; a plain thread's put switches the
    // queue to shared mode and hands each its item.
    green::Queue<int> q;
    std::vector<green::Greenlet<int>> getters;
    for (int i = 0; i < 3; ++i) getters.push_back(green::spawn([&] { return q.get(); }));
    green::sleep(0ms);
    ASSERT_EQ(q.getters_waiting(), 3u);
    {
        PlainThread t([&] {
            for (int i = 1; i <= 3; ++i) q.put(i * 10);
        });
    }
    int total = 0;
    for (auto& g : getters) total += g.get(green::Deadline(10s));
    EXPECT_EQ(total, 60);
    // Still usable from here, now under the lock.
    q.put(5);
    EXPECT_EQ(q.get(), 5);
}

TEST(CrossHubLock, CountsAreExactUnderContention) {
    green::HubPool pool(2);
    green::Lock lock;
    long counter = 0;  // guarded by `lock` only
    constexpr int kPerFiber = 2000;
    auto work = [&] {
        for (int i = 0; i < kPerFiber; ++i) {
            std::lock_guard g(lock);
            const long v = counter;
            if (i % 7 == 0) green::sleep(0ms);  // hold it across a switch now and then
            counter = v + 1;
        }
    };
    std::vector<green::Greenlet<void>> gs;
    for (int i = 0; i < 8; ++i) gs.push_back(pool.spawn(work));
    { PlainThread t(work); }
    for (auto& g : gs) g.get(green::Deadline(60s));
    std::lock_guard g(lock);
    EXPECT_EQ(counter, 9L * kPerFiber);
}

// A lock used uncontended on its hub (its inline path open there) is then taken by fibers of
// other hubs while this hub's main fiber keeps taking it: the first use from another hub shuts
// the inline path, and no increment is lost.
TEST(CrossHubLock, InlinePathOnItsHubThenOtherHubsJoin) {
    green::Lock lock;
    long counter = 0;  // guarded by `lock` only
    for (int i = 0; i < 1000; ++i) {
        std::lock_guard g(lock);
        ++counter;
    }
    green::HubPool pool(2);
    constexpr int kPerFiber = 2000;
    std::vector<green::Greenlet<void>> gs;
    for (int i = 0; i < 4; ++i)
        gs.push_back(pool.spawn([&] {
            for (int k = 0; k < kPerFiber; ++k) {
                std::lock_guard g(lock);
                ++counter;
            }
        }));
    for (int k = 0; k < kPerFiber; ++k) {
        {
            std::lock_guard g(lock);
            const long v = counter;
            if (k % 5 == 0) green::sleep(0ms);  // hold it across a switch now and then
            counter = v + 1;
        }
        if (k % 3 == 0) green::sleep(0ms);  // the other hubs' first use needs this hub's loop
    }
    for (auto& g : gs) g.get(green::Deadline(60s));
    std::lock_guard g(lock);
    EXPECT_EQ(counter, 1000L + 5L * kPerFiber);
}

TEST(CrossHubLock, SemaphoreNeverOverCommits) {
    green::HubPool pool(2);
    green::BoundedSemaphore sem(3);
    std::atomic<int> inside{0}, most{0}, entries{0};
    std::vector<green::Greenlet<void>> gs;
    for (int i = 0; i < 12; ++i)
        gs.push_back(pool.spawn([&] {
            for (int k = 0; k < 300; ++k) {
                std::lock_guard g(sem);
                const int now = ++inside;
                int seen = most.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
                ++entries;
                green::sleep(0ms);
                --inside;
            }
        }));
    for (auto& g : gs) g.get(green::Deadline(60s));
    EXPECT_EQ(entries.load(), 12 * 300);
    EXPECT_LE(most.load(), 3);
    EXPECT_EQ(sem.counter(), 3u);
    EXPECT_THROW(sem.release(), std::logic_error);
}

TEST(CrossHubLock, WaitersAreServedInArrivalOrderAcrossHubs) {
    green::HubPool pool(2);
    green::Lock lock;
    lock.acquire();  // held by this thread's main fiber
    std::vector<int> order;
    green::Lock order_lock;
    std::vector<green::Greenlet<void>> gs;
    for (int i = 0; i < 6; ++i) {
        gs.push_back(pool.spawn(static_cast<std::size_t>(i % 2), [&, i] {
            lock.acquire();
            {
                std::lock_guard g(order_lock);
                order.push_back(i);
            }
            lock.release();
        }));
        // Bounded wait until it queued, so arrival order is known.
        for (int spin = 0; spin < 10000 && lock.waiting() < static_cast<std::size_t>(i + 1); ++spin)
            green::sleep(1ms);
        ASSERT_EQ(lock.waiting(), static_cast<std::size_t>(i + 1));
    }
    lock.release();
    for (auto& g : gs) g.get(green::Deadline(30s));
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(CrossHubLock, KilledAndTimedOutWaitersOnOtherHubs) {
    green::HubPool pool(2);
    green::Lock lock;
    lock.acquire();
    auto timed = pool.spawn(0, [&] { return lock.acquire(green::Deadline(50ms)); });
    EXPECT_FALSE(timed.get(green::Deadline(10s)));
    auto victim = pool.spawn(1, [&] { lock.acquire(); });
    auto next = pool.spawn(0, [&] {
        lock.acquire();
        lock.release();
        return true;
    });
    for (int spin = 0; spin < 10000 && lock.waiting() < 2; ++spin) green::sleep(1ms);
    ASSERT_EQ(lock.waiting(), 2u);
    victim.kill(true, green::Deadline(10s));
    EXPECT_EQ(lock.waiting(), 1u);
    lock.release();
    EXPECT_TRUE(next.get(green::Deadline(10s)));
    EXPECT_FALSE(lock.locked());
}

TEST(CrossHubLock, RLockIsReentrantAndOwnedPerFiberAcrossHubs) {
    green::HubPool pool(2);
    green::RLock rl;
    long counter = 0;
    std::vector<green::Greenlet<void>> gs;
    for (int i = 0; i < 4; ++i)
        gs.push_back(pool.spawn([&] {
            for (int k = 0; k < 500; ++k) {
                std::lock_guard a(rl);
                std::lock_guard b(rl);
                EXPECT_TRUE(rl.owned());
                EXPECT_EQ(rl.depth(), 2u);
                ++counter;
            }
        }));
    for (auto& g : gs) g.get(green::Deadline(60s));
    EXPECT_EQ(counter, 2000);
    EXPECT_FALSE(rl.locked());
    rl.acquire();
    auto other = pool.spawn(0, [&] {
        try {
            rl.release();
        } catch (const std::logic_error&) {
            return true;
        }
        return false;
    });
    EXPECT_TRUE(other.get(green::Deadline(10s)));
    rl.release();
}

}  // namespace
