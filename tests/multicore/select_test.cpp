// green::select over queues and channels: exactly one branch happens (counted over many rounds,
// with every branch ready at once), the others leave no trace (no item taken or put, no waiter
// left), deadlines, default, close, kill and Timeout while parked, and a cross-hub stress with
// selects on both ends and checksums.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <green/green.hpp>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Bounded wait (in this fiber) until pred() holds.
template <class P>
bool eventually(P pred) {
    for (int i = 0; i < 5000; ++i) {
        if (pred()) return true;
        green::sleep(1ms);
    }
    return pred();
}

TEST(Select, AllBranchesReadyPicksExactlyOneAtRandom) {
    green::Queue<int> a, b;
    green::Queue<int> room(4);  // a put branch that is always ready too
    int picked[3] = {};
    constexpr int kRounds = 3000;
    for (int r = 0; r < kRounds; ++r) {
        a.put(1);
        b.put(2);
        std::optional<int> x, y;
        const int i = green::select(green::recv(a, x), green::recv(b, y), green::send(room, 3));
        ASSERT_GE(i, 0);
        ASSERT_LT(i, 3);
        ++picked[i];
        // Exactly that branch happened.
        EXPECT_EQ(x.has_value(), i == 0);
        EXPECT_EQ(y.has_value(), i == 1);
        EXPECT_EQ(a.size(), i == 0 ? 0u : 1u);
        EXPECT_EQ(b.size(), i == 1 ? 0u : 1u);
        EXPECT_EQ(room.size(), i == 2 ? 1u : 0u);
        EXPECT_EQ(a.getters_waiting() + b.getters_waiting() + room.putters_waiting(), 0u);
        // Back to empty for the next round.
        while (!a.empty()) a.get();
        while (!b.empty()) b.get();
        while (!room.empty()) room.get();
    }
    // Random order: every branch won a fair share (each has probability 1/3; 600 of 3000 is
    // far below what chance allows to miss).
    for (int n : picked) EXPECT_GT(n, 600);
    EXPECT_EQ(picked[0] + picked[1] + picked[2], kRounds);
}

TEST(Select, DefaultAndDeadlineLeaveNoTrace) {
    green::Queue<int> q;
    green::Queue<int> full(1);
    full.put(0);
    green::Channel<int> ch;
    std::optional<int> out = 42;
    EXPECT_EQ(green::select(green::recv(q, out), green::send(full, 1), green::send(ch, 2),
                            green::default_case()),
              3);
    EXPECT_EQ(out, 42);  // untouched
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(green::select(green::recv(q, out), green::send(full, 1), green::send(ch, 2),
                            green::after(30ms)),
              3);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 25ms);
    EXPECT_EQ(out, 42);
    EXPECT_EQ(q.getters_waiting(), 0u);
    EXPECT_EQ(full.putters_waiting(), 0u);
    EXPECT_EQ(ch.putters_waiting(), 0u);
    EXPECT_EQ(full.size(), 1u);
    // Later operations see the queues as if the select never happened.
    q.put(7);
    EXPECT_EQ(q.size(), 1u);
    EXPECT_FALSE(ch.try_get().has_value());
    // after() alone is a sleep; default_case alone returns at once.
    EXPECT_EQ(green::select(green::after(1ms)), 0);
    EXPECT_EQ(green::select(green::default_case()), 0);
}

TEST(Select, WokenByAPutOrAGetterOnTheSameHub) {
    green::Queue<int> a, b;
    green::Channel<std::string> ch;
    auto sel = green::spawn([&] {
        std::optional<int> x, y;
        const int i = green::select(green::recv(a, x), green::recv(b, y), green::send(ch, "hi"));
        return i * 100 + (y ? *y : -1);
    });
    green::sleep(0ms);
    EXPECT_EQ(a.getters_waiting(), 1u);
    EXPECT_EQ(ch.putters_waiting(), 1u);
    b.put(5);
    EXPECT_EQ(sel.get(green::Deadline(10s)), 105);
    EXPECT_EQ(a.getters_waiting() + ch.putters_waiting(), 0u);
    a.put(1);  // no select left to take it
    EXPECT_EQ(a.size(), 1u);

    auto sel2 = green::spawn([&] {
        std::optional<int> x;
        return green::select(green::recv(b, x), green::send(ch, "hello"));
    });
    green::sleep(0ms);
    EXPECT_EQ(ch.get(green::Deadline(10s)), "hello");
    EXPECT_EQ(sel2.get(green::Deadline(10s)), 1);
    EXPECT_EQ(b.getters_waiting(), 0u);
}

TEST(Select, PutBranchOnABoundedQueueGetsTheRoomAGetterMakes) {
    green::Queue<int> q(2);
    q.put(1);
    q.put(2);
    green::Queue<int> other;
    auto sel = green::spawn([&] {
        std::optional<int> x;
        return green::select(green::recv(other, x), green::send(q, 3));
    });
    green::sleep(0ms);
    EXPECT_EQ(q.putters_waiting(), 1u);
    EXPECT_EQ(q.get(), 1);  // the room goes to the select's put
    EXPECT_EQ(sel.get(green::Deadline(10s)), 1);
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.get(), 2);
    EXPECT_EQ(q.get(), 3);
    EXPECT_EQ(other.getters_waiting(), 0u);
}

TEST(Select, TwoSelectsMeetOnAChannel) {
    green::Channel<int> ch;
    green::Queue<int> never;
    auto sender = green::spawn([&] {
        std::optional<int> x;
        return green::select(green::recv(never, x), green::send(ch, 11));
    });
    green::sleep(0ms);
    std::optional<int> got, x;
    EXPECT_EQ(green::select(green::recv(never, x), green::recv(ch, got)), 1);
    EXPECT_EQ(got, 11);
    EXPECT_EQ(sender.get(green::Deadline(10s)), 1);
    EXPECT_EQ(never.getters_waiting(), 0u);
}

TEST(Select, OneSelectDoesNotMeetItself) {
    green::Channel<int> ch;
    auto sel = green::spawn([&] {
        std::optional<int> got;
        const int i = green::select(green::recv(ch, got), green::send(ch, 1), green::after(50ms));
        return i;
    });
    EXPECT_EQ(sel.get(green::Deadline(10s)), 2);  // nobody else: its own send and recv never match
    auto sel2 = green::spawn([&] {
        std::optional<int> got;
        return green::select(green::recv(ch, got), green::send(ch, 1));
    });
    green::sleep(0ms);
    EXPECT_EQ(ch.get(green::Deadline(10s)), 1);
    EXPECT_EQ(sel2.get(green::Deadline(10s)), 1);
    EXPECT_EQ(ch.getters_waiting() + ch.putters_waiting(), 0u);
}

TEST(Select, ClosedQueues) {
    green::Queue<int> q, open;
    q.put(1);
    q.close();
    std::optional<int> got, x;
    EXPECT_EQ(green::select(green::recv(open, x), green::recv(q, got)), 1);
    EXPECT_EQ(got, 1);  // drains first
    EXPECT_EQ(green::select(green::recv(open, x), green::recv(q, got)), 1);
    EXPECT_FALSE(got.has_value());  // closed and drained: ready, nothing received
    EXPECT_THROW(green::select(green::recv(open, x), green::send(q, 2)), green::QueueClosed);
    EXPECT_EQ(open.getters_waiting(), 0u);

    // close() while a select waits wakes it on that branch.
    green::Channel<int> ch;
    auto sel = green::spawn([&] {
        std::optional<int> a, b;
        const int i = green::select(green::recv(open, a), green::recv(ch, b));
        return i == 1 && !b;
    });
    green::sleep(0ms);
    ch.close();
    EXPECT_TRUE(sel.get(green::Deadline(10s)));
    EXPECT_EQ(open.getters_waiting(), 0u);
}

TEST(Select, KillAndTimeoutWhileParkedDeregisterEverything) {
    green::HubPool pool(2);
    green::Queue<int> local, remote(1);
    green::Channel<int> ch;
    remote.put(0);  // full: a put branch waits; bound to this thread's hub, another hub's queue
    auto victim = pool.spawn(0, [&] {
        std::optional<int> x;
        return green::select(green::recv(local, x), green::send(remote, 1), green::send(ch, 2));
    });
    ASSERT_TRUE(eventually([&] { return remote.putters_waiting() == 1u; }));
    victim.kill(true, green::Deadline(10s));
    EXPECT_TRUE(victim.killed());
    EXPECT_EQ(local.getters_waiting(), 0u);
    EXPECT_EQ(remote.putters_waiting(), 0u);
    EXPECT_EQ(ch.putters_waiting(), 0u);
    EXPECT_EQ(remote.size(), 1u);

    auto timed = pool.spawn(1, [&] {
        std::optional<int> x;
        try {
            green::Timeout t(40ms);
            green::select(green::recv(local, x), green::send(remote, 1), green::send(ch, 2));
        } catch (const green::Timeout&) {
            return true;
        }
        return false;
    });
    EXPECT_TRUE(timed.get(green::Deadline(10s)));
    EXPECT_EQ(local.getters_waiting() + remote.putters_waiting() + ch.putters_waiting(), 0u);
    // Nothing of theirs is left: items go to the buffer and a getter waits for a real putter.
    local.put(3);
    EXPECT_EQ(local.size(), 1u);
    EXPECT_FALSE(ch.try_get(green::Deadline(10ms)).has_value());
}

TEST(Select, AKilledSelectGivesItsReceivedItemBack) {
    // The item is handed over, then the kill arrives before the select runs: the item goes back
    // to the queue (as for an interrupted get), so it is not lost.
    green::Queue<int> q;
    green::Queue<int> never;
    auto victim = green::spawn([&] {
        std::optional<int> x, y;
        return green::select(green::recv(never, x), green::recv(q, y));
    });
    green::sleep(0ms);
    q.put(9);            // handed to the select, which has not run yet
    victim.kill(false);  // delivered before it runs
    victim.join(green::Deadline(10s));
    EXPECT_TRUE(victim.killed());
    EXPECT_EQ(q.get(green::Deadline(1s)), 9);
    EXPECT_EQ(never.getters_waiting(), 0u);
}

TEST(Select, WaitsOnQueuesOfOtherHubs) {
    green::HubPool pool(3);
    green::Channel<int> a;
    green::Queue<int> b(1);
    auto sel = pool.spawn(0, [&] {
        std::optional<int> x, y;
        const int i = green::select(green::recv(a, x), green::recv(b, y), green::after(30s));
        return i == 1 ? *y : -1;
    });
    // Asked on hub 0, which owns b while it is single-hub (a read from here would race).
    ASSERT_TRUE(eventually([&] {
        return pool.spawn(0, [&] { return b.getters_waiting(); }).get(green::Deadline(10s)) == 1u;
    }));
    pool.spawn(2, [&] { b.put(77); }).get(green::Deadline(10s));
    EXPECT_EQ(sel.get(green::Deadline(10s)), 77);
    EXPECT_EQ(a.getters_waiting(), 0u);
    // Deadline of a select waiting on queues shared between hubs.
    auto timed = pool.spawn(1, [&] {
        std::optional<int> x, y;
        return green::select(green::recv(a, x), green::recv(b, y), green::after(30ms));
    });
    EXPECT_EQ(timed.get(green::Deadline(10s)), 2);
    EXPECT_EQ(a.getters_waiting() + b.getters_waiting(), 0u);
}

// Producers on every hub send each item with a select over two channels and a bounded queue;
// consumers on every hub receive with selects over the same three: every item arrives exactly
// once (count and sum), whichever pair of selects met.
TEST(Select, CrossHubStressNothingLostOrDuplicated) {
    constexpr std::size_t kHubs = 4;
#if defined(__SANITIZE_ADDRESS__)
    constexpr long kPerProducer = 5000;
#else
    constexpr long kPerProducer = 25000;
#endif
    green::HubPool pool(kHubs);
    green::Channel<long> c1, c2;
    green::Queue<long> q(8);
    std::atomic<long> sum{0}, count{0};
    std::atomic<long> via[3] = {};
    std::vector<green::Greenlet<void>> consumers, producers;
    for (std::size_t h = 0; h < kHubs; ++h)
        consumers.push_back(pool.spawn(h, [&] {
            long s = 0, n = 0;
            for (;;) {
                std::optional<long> x, y, z;
                const int i =
                    green::select(green::recv(c1, x), green::recv(c2, y), green::recv(q, z));
                std::optional<long>& got = i == 0 ? x : i == 1 ? y : z;
                if (!got) break;  // a closed one: the producers are done
                s += *got;
                ++n;
                ++via[i];
            }
            // The channels hold nothing once closed; the queue may still buffer items (it was
            // closed first, so its iteration ends once drained).
            for (long v : q) {
                s += v;
                ++n;
            }
            sum += s;
            count += n;
        }));
    for (std::size_t h = 0; h < kHubs; ++h)
        producers.push_back(pool.spawn(h, [&, h] {
            const long base = static_cast<long>(h) * kPerProducer;
            for (long i = 0; i < kPerProducer; ++i) {
                if (i % 5 == 0) {
                    c1.put(base + i);  // a plain put meets consumers' selects too
                } else {
                    (void)green::select(green::send(c1, base + i), green::send(c2, base + i),
                                        green::send(q, base + i));
                }
            }
        }));
    for (auto& p : producers) p.get(green::Deadline(100s));
    // Every item was taken (channels) or buffered (q): close all three, q first.
    q.close();
    c1.close();
    c2.close();
    for (auto& c : consumers) c.get(green::Deadline(60s));
    const long n = static_cast<long>(kHubs) * kPerProducer;
    EXPECT_EQ(count.load(), n);
    EXPECT_EQ(sum.load(), n * (n - 1) / 2);
    EXPECT_GT(via[0].load(), 0);
    EXPECT_GT(via[1].load(), 0);
    EXPECT_GT(via[2].load(), 0);
    EXPECT_EQ(c1.getters_waiting() + c2.getters_waiting() + q.getters_waiting(), 0u);
}

// A select on one hub, with every branch made ready at once by producers on the other hubs,
// takes exactly one item per round; the rest stay with their producers for later rounds.
TEST(Select, BranchesReadiedConcurrentlyFromOtherHubs) {
    green::HubPool pool(4);
    green::Channel<int> ch[3];
    constexpr int kPer = 2000;
    std::vector<green::Greenlet<void>> producers;
    for (int p = 0; p < 3; ++p)
        producers.push_back(pool.spawn(static_cast<std::size_t>(p + 1), [&, p] {
            for (int i = 0; i < kPer; ++i) ch[p].put(p * kPer + i);
        }));
    auto consumer = pool.spawn(0, [&] {
        long sum = 0;
        int per[3] = {};
        for (int r = 0; r < 3 * kPer; ++r) {
            std::optional<int> x[3];
            const int i = green::select(green::recv(ch[0], x[0]), green::recv(ch[1], x[1]),
                                        green::recv(ch[2], x[2]));
            if ((x[0].has_value() + x[1].has_value() + x[2].has_value()) != 1 || !x[i]) return -1L;
            // Items of one channel arrive in order.
            if (*x[i] != i * kPer + per[i]) return -2L;
            ++per[i];
            sum += *x[i];
        }
        return sum;
    });
    const long n = 3L * kPer;
    EXPECT_EQ(consumer.get(green::Deadline(100s)), n * (n - 1) / 2);
    for (auto& p : producers) p.get(green::Deadline(10s));
}

TEST(Select, WorksWithTheOtherQueueFlavours) {
    green::PriorityQueue<int> pq;
    green::LifoQueue<int> lq;
    green::JoinableQueue<int> jq;
    pq.put(5);
    pq.put(2);
    lq.put(1);
    lq.put(4);
    std::optional<int> a, b, c;
    std::vector<int> got;
    for (int r = 0; r < 4; ++r) {
        a.reset();
        b.reset();
        const int i = green::select(green::recv(pq, a), green::recv(lq, b), green::recv(jq, c),
                                    green::default_case());
        ASSERT_LT(i, 2);
        got.push_back(i == 0 ? *a * 10 : *b);
    }
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<int>{1, 4, 20, 50}));
    EXPECT_EQ(green::select(green::send(jq, 3), green::default_case()), 0);
    EXPECT_EQ(jq.unfinished_tasks(), 1u);
    EXPECT_EQ(green::select(green::recv(jq, c)), 0);
    jq.task_done();
    EXPECT_TRUE(jq.join(green::Deadline(1s)));
}

}  // namespace
