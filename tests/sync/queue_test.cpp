// Queue family: orders, FIFO service of getters and putters, timeouts, non-throwing variants,
// move-only items, kill while waiting (the handed item is never lost), close and iteration,
// JoinableQueue and Channel.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <green/green.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(Queue, FifoLifoPriorityOrders) {
    green::Queue<std::string> fifo;
    green::LifoQueue<std::string> lifo;
    for (const char* s : {"first", "second", "third"}) {
        fifo.put(s);
        lifo.put(s);
    }
    EXPECT_EQ(fifo.get(), "first");
    EXPECT_EQ(fifo.get(), "second");
    EXPECT_EQ(fifo.get(), "third");
    EXPECT_EQ(lifo.get(), "third");
    EXPECT_EQ(lifo.get(), "second");
    EXPECT_EQ(lifo.get(), "first");

    green::PriorityQueue<std::pair<int, std::string>> pq;
    pq.put({20, "a"});
    pq.put({10, "b"});
    pq.put({30, "c"});
    EXPECT_EQ(pq.get().second, "b");
    EXPECT_EQ(pq.get().second, "a");
    EXPECT_EQ(pq.get().second, "c");
}

TEST(Queue, PriorityEqualItemsKeepArrivalOrderAndCompareIsHonoured) {
    struct Job {
        int prio;
        int id;
    };
    struct ByPrio {
        bool operator()(const Job& a, const Job& b) const { return a.prio < b.prio; }
    };
    green::PriorityQueue<Job, ByPrio> pq;
    for (int i = 0; i < 6; ++i) pq.put(Job{i % 2, i});
    std::vector<int> ids;
    while (!pq.empty()) ids.push_back(pq.get().id);
    EXPECT_EQ(ids, (std::vector<int>{0, 2, 4, 1, 3, 5}));

    green::PriorityQueue<int, std::greater<int>> maxq;
    for (int v : {3, 9, 1}) maxq.put(v);
    EXPECT_EQ(maxq.get(), 9);
    EXPECT_EQ(maxq.get(), 3);
}

TEST(Queue, GettersAreServedInArrivalOrder) {
    green::Queue<int> q;
    std::vector<std::pair<int, int>> got;  // (getter, item)
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < 5; ++i) gs.push_back(green::spawn([&, i] { got.push_back({i, q.get()}); }));
    green::sleep(0ms);
    EXPECT_EQ(q.getters_waiting(), 5u);
    for (int i = 0; i < 5; ++i) q.put(i * 10);
    green::joinall(gs);
    ASSERT_EQ(got.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(got[i], std::make_pair(i, i * 10));
}

TEST(Queue, PuttersAreServedInArrivalOrder) {
    green::Queue<int> q(1);
    q.put(0);
    EXPECT_TRUE(q.full());
    std::vector<green::GreenletHandle> gs;
    for (int i = 1; i <= 4; ++i) gs.push_back(green::spawn([&, i] { q.put(i); }));
    green::sleep(0ms);
    EXPECT_EQ(q.putters_waiting(), 4u);
    std::vector<int> got;
    for (int i = 0; i < 5; ++i) got.push_back(q.get());
    green::joinall(gs);
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Queue, GetTimeouts) {
    green::Queue<int> q;
    EXPECT_THROW(q.get(0s), green::QueueEmpty);
    EXPECT_THROW(q.get(-1s), green::QueueEmpty);
    EXPECT_THROW(q.get_nowait(), green::QueueEmpty);
    EXPECT_THROW(q.get(green::Clock::now() - 1s), green::QueueEmpty);
    auto t0 = green::Clock::now();
    EXPECT_THROW(q.get(40ms), green::QueueEmpty);
    EXPECT_GE(green::Clock::now() - t0, 39ms);
    EXPECT_EQ(q.getters_waiting(), 0u);
    EXPECT_FALSE(q.try_get().has_value());
    EXPECT_FALSE(q.try_get(10ms).has_value());
    auto g = green::spawn([&] {
        green::sleep(10ms);
        q.put(5);
    });
    EXPECT_EQ(q.get(5s), 5);
    g.join();
}

TEST(Queue, PutTimeoutsAndTryPutKeepsTheItem) {
    green::Queue<std::unique_ptr<int>> q(1);
    q.put(std::make_unique<int>(1));
    EXPECT_THROW(q.put(std::make_unique<int>(2), 0s), green::QueueFull);
    EXPECT_THROW(q.put_nowait(std::make_unique<int>(2)), green::QueueFull);
    auto t0 = green::Clock::now();
    EXPECT_THROW(q.put(std::make_unique<int>(2), 30ms), green::QueueFull);
    EXPECT_GE(green::Clock::now() - t0, 29ms);
    auto item = std::make_unique<int>(3);
    EXPECT_FALSE(q.try_put(std::move(item)));
    ASSERT_TRUE(item);  // not moved from on failure
    EXPECT_EQ(q.putters_waiting(), 0u);
    auto g = green::spawn([&] {
        green::sleep(10ms);
        EXPECT_EQ(*q.get(), 1);
    });
    EXPECT_TRUE(q.try_put(std::move(item), 5s));
    EXPECT_FALSE(item);
    g.join();
    EXPECT_EQ(*q.get(), 3);
}

TEST(Queue, KilledGetterHandsItsItemToTheNextGetter) {
    green::Queue<int> q;
    int b_got = -1;
    auto a = green::spawn([&] {
        q.get();
        ADD_FAILURE() << "a should have been killed";
    });
    auto b = green::spawn([&] { b_got = q.get(5s); });
    green::sleep(0ms);
    q.put(42);  // handed to a, which has not run yet
    a.kill();
    b.join();
    EXPECT_EQ(b_got, 42);
    EXPECT_TRUE(q.empty());
}

TEST(Queue, KilledLastGetterPutsItsItemBackFirst) {
    green::Queue<int> q;
    auto a = green::spawn([&] { q.get(); });
    green::sleep(0ms);
    q.put(1);  // handed to a
    q.put(2);  // buffered
    a.kill();
    ASSERT_EQ(q.size(), 2u);
    EXPECT_EQ(q.get(), 1);
    EXPECT_EQ(q.get(), 2);
}

TEST(Queue, KilledPutterLeavesTheQueueConsistent) {
    green::Queue<int> q(1);
    q.put(0);
    auto a = green::spawn([&] { q.put(1); });
    auto b = green::spawn([&] { q.put(2); });
    green::sleep(0ms);
    a.kill();
    EXPECT_EQ(q.putters_waiting(), 1u);
    EXPECT_EQ(q.get(), 0);
    EXPECT_EQ(q.get(), 2);
    b.join();
    EXPECT_TRUE(q.empty());
}

TEST(Queue, ScopedTimeoutInterruptsGet) {
    green::Queue<int> q;
    green::Timeout t(20ms);
    EXPECT_THROW(q.get(), green::Timeout);
    EXPECT_EQ(q.getters_waiting(), 0u);
}

TEST(Queue, CloseWakesGettersAndEndsIteration) {
    green::Queue<int> q;
    int closed_getters = 0;
    auto g1 = green::spawn([&] {
        try {
            q.get();
        } catch (const green::QueueClosed&) {
            ++closed_getters;
        }
    });
    green::sleep(0ms);
    q.close();
    g1.join();
    EXPECT_EQ(closed_getters, 1);
    EXPECT_THROW(q.put(1), green::QueueClosed);
    EXPECT_FALSE(q.try_put(1));

    green::Queue<int> q2(2);
    auto producer = green::spawn([&] {
        for (int i = 0; i < 10; ++i) q2.put(i);
        q2.close();
    });
    std::vector<int> got;
    for (int& v : q2) got.push_back(v);
    producer.join();
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_THROW(q2.get(), green::QueueClosed);
    EXPECT_FALSE(q2.try_get().has_value());
}

TEST(Queue, CloseFailsWaitingPutters) {
    green::Queue<int> q(1);
    q.put(1);
    bool closed = false;
    auto p = green::spawn([&] {
        try {
            q.put(2);
        } catch (const green::QueueClosed&) {
            closed = true;
        }
    });
    green::sleep(0ms);
    q.close();
    p.join();
    EXPECT_TRUE(closed);
    EXPECT_EQ(q.get(), 1);  // what was buffered still drains
    EXPECT_THROW(q.get(), green::QueueClosed);
}

TEST(Queue, IterateUntilSentinel) {
    green::Queue<std::string> q;
    auto producer = green::spawn([&] {
        for (const char* s : {"a", "b", "c", "STOP", "after"}) q.put(s);
    });
    std::string seen;
    for (auto& s : q.until("STOP")) seen += s;
    producer.join();
    EXPECT_EQ(seen, "abc");
    EXPECT_EQ(q.get(), "after");
}

TEST(Queue, MoveOnlyItemsThroughHandOff) {
    green::Queue<std::unique_ptr<std::string>> q;
    auto g = green::spawn([&] { return *q.get(); });
    green::sleep(0ms);
    q.put(std::make_unique<std::string>("moved"));
    EXPECT_EQ(g.get(), "moved");
}

TEST(Queue, PeekLeavesTheItem) {
    green::PriorityQueue<int> q;
    EXPECT_FALSE(q.try_peek().has_value());
    EXPECT_THROW(q.peek(0s), green::QueueEmpty);
    EXPECT_THROW(q.peek(10ms), green::QueueEmpty);
    auto g = green::spawn([&] {
        green::sleep(5ms);
        q.put(7);
        green::sleep(5ms);  // the peeker runs and sees 7 before 3 arrives
        q.put(3);
    });
    EXPECT_EQ(q.peek(5s), 7);
    g.join();
    EXPECT_EQ(q.try_peek(), 3);
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.get(), 3);
    q.close();
    EXPECT_EQ(q.peek(), 7);
    q.get();
    EXPECT_THROW(q.peek(), green::QueueClosed);
}

TEST(Channel, KilledGetterDoesNotLoseTheItem) {
    green::Channel<int> ch;
    auto a = green::spawn([&] { ch.get(); });
    green::sleep(0ms);
    ch.put(5, 0s);  // handed to the waiting getter a
    a.kill();       // a never saw it: the item must still be gettable
    EXPECT_EQ(ch.get(0s), 5);

    int b_got = 0;
    auto c = green::spawn([&] { ch.get(); });
    auto b = green::spawn([&] { b_got = ch.get(); });
    green::sleep(0ms);
    ch.put(6);
    c.kill();
    b.join();
    EXPECT_EQ(b_got, 6);
}

TEST(JoinableQueue, JoinWaitsForTaskDone) {
    green::JoinableQueue<int> q;
    std::vector<int> done;
    auto worker = green::spawn([&] {
        for (;;) {
            int v = q.get();
            green::sleep(1ms);
            done.push_back(v);
            q.task_done();
        }
    });
    for (int i = 0; i < 5; ++i) q.put(i);
    EXPECT_EQ(q.unfinished_tasks(), 5u);
    EXPECT_FALSE(q.join(0s));
    EXPECT_TRUE(q.join(5s));
    EXPECT_EQ(done, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_EQ(q.unfinished_tasks(), 0u);
    worker.kill();
}

TEST(JoinableQueue, TooManyTaskDoneIsAnError) {
    green::JoinableQueue<int> q;
    q.put(1);
    q.get();
    q.task_done();
    EXPECT_THROW(q.task_done(), std::logic_error);
    EXPECT_TRUE(q.join(0s));
}

TEST(Channel, PutWaitsForAGetterAndGetForAPutter) {
    green::Channel<int> ch;
    EXPECT_THROW(ch.put(1, 0s), green::QueueFull);
    EXPECT_THROW(ch.get(0s), green::QueueEmpty);
    std::vector<std::string> log;
    auto putter = green::spawn([&] {
        log.push_back("put-start");
        ch.put(7);
        log.push_back("put-done");
    });
    green::sleep(5ms);
    EXPECT_EQ(log, std::vector<std::string>{"put-start"});
    EXPECT_EQ(ch.putters_waiting(), 1u);
    EXPECT_EQ(ch.get(), 7);
    putter.join();
    EXPECT_EQ(log.back(), "put-done");

    auto getter = green::spawn([&] { return ch.get(); });
    green::sleep(0ms);
    ch.put_nowait(9);  // a getter waits: no blocking needed
    EXPECT_EQ(getter.get(), 9);
    EXPECT_EQ(ch.size(), 0u);
}

TEST(Channel, PingPong) {
    green::Channel<int> to, from;
    auto echo = green::spawn([&] {
        for (int i = 0; i < 1000; ++i) from.put(to.get() + 1);
    });
    int v = 0;
    for (int i = 0; i < 1000; ++i) {
        to.put(v);
        v = from.get();
    }
    echo.join();
    EXPECT_EQ(v, 1000);
}

}  // namespace
