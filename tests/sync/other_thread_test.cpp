// Same-hub primitives used from a second OS thread (issue 15 lifted the old refusal): the call
// switches the object to shared mode through its owning hub and then works as on one hub —
// the wake side (put, release, task_done, close) hands over to waiters of the first hub, and
// the waits and reads agree with what the first hub sees. Whether the second thread had a hub of
// its own before does not matter (it gets one).
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include <green/green.hpp>

using namespace std::chrono_literals;

namespace {

// Runs `f` on a new OS thread (which may or may not have a hub of its own) and waits for it
// cooperatively: the first cross-thread use of an object bound here runs on this hub's loop.
template <class F>
void on_other_thread(F f, bool with_hub) {
    green::Event done(green::cross_thread);
    std::thread t([&] {
        if (with_hub) green::sleep(0ms);  // the thread gets a hub
        f();
        done.set();
    });
    EXPECT_TRUE(done.wait(green::Deadline(30s)));
    t.join();
}

class OtherThread : public ::testing::TestWithParam<bool> {};

TEST_P(OtherThread, QueuePutWithAWaiterHandsTheItemOver) {
    green::Queue<int> q;
    auto getter = green::spawn([&] { return q.get(5s); });
    green::sleep(0ms);  // the getter waits
    on_other_thread([&] { q.put(1); }, GetParam());
    EXPECT_EQ(getter.get(5s), 1);
    EXPECT_EQ(q.getters_waiting(), 0u);
}

TEST_P(OtherThread, QueueCallsWithoutAWaiterWork) {
    green::JoinableQueue<int> q;
    q.put(1);  // binds the queue to this thread's hub
    on_other_thread(
        [&] {
            q.put(2);
            EXPECT_TRUE(q.try_put(3));
            EXPECT_EQ(q.get(), 1);
            EXPECT_EQ(q.try_get(), 2);
            EXPECT_EQ(q.peek(0s), 3);
            q.task_done();
            q.task_done();
            EXPECT_FALSE(q.join(0s));
        },
        GetParam());
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.get(), 3);
    q.task_done();
    EXPECT_TRUE(q.join(0s));
    EXPECT_THROW(q.task_done(), std::logic_error);
    on_other_thread([&] { q.close(); }, GetParam());
    EXPECT_TRUE(q.closed());
}

TEST_P(OtherThread, LockReleaseWithAWaiterHandsItOver) {
    green::Lock lock;
    lock.acquire();
    auto waiter = green::spawn([&] { return lock.acquire(5s); });
    green::sleep(0ms);
    on_other_thread([&] { lock.release(); }, GetParam());  // a Lock has no owner
    EXPECT_TRUE(waiter.get(5s));
    EXPECT_TRUE(lock.locked());
    lock.release();
    EXPECT_FALSE(lock.locked());
}

TEST_P(OtherThread, SemaphoreCallsWork) {
    green::Semaphore sem(2);
    EXPECT_TRUE(sem.acquire());
    green::BoundedSemaphore bounded(1);
    bounded.acquire();
    on_other_thread(
        [&] {
            sem.release();
            EXPECT_TRUE(sem.acquire());
            EXPECT_TRUE(sem.try_acquire());
            EXPECT_FALSE(sem.try_acquire());
            bounded.release();
            EXPECT_THROW(bounded.release(), std::logic_error);
        },
        GetParam());
    EXPECT_EQ(sem.counter(), 0u);
    EXPECT_EQ(bounded.counter(), 1u);
    sem.release();
    sem.release();
}

TEST_P(OtherThread, RLockOwnershipAndChannelHandOff) {
    green::RLock rl;
    rl.acquire();
    green::Channel<int> ch;
    auto getter = green::spawn([&] { return ch.get(5s); });
    green::sleep(0ms);
    on_other_thread(
        [&] {
            EXPECT_FALSE(rl.acquire(0s));  // owned by this thread's main fiber
            EXPECT_THROW(rl.release(), std::logic_error);
            ch.put(3);
        },
        GetParam());
    EXPECT_EQ(getter.get(5s), 3);
    rl.release();
    EXPECT_FALSE(rl.locked());
}

INSTANTIATE_TEST_SUITE_P(Threads, OtherThread, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "WithHub" : "WithoutHub"; });

// Each thread may keep primitives of its own: binding is per object.
TEST(OtherThreadOwnership, EachThreadUsesItsOwnObjects) {
    std::thread t([] {
        green::Queue<int> q;
        green::Lock lock;
        auto g = green::spawn([&] { return q.get(5s); });
        lock.acquire();
        q.put(7);
        lock.release();
        EXPECT_EQ(g.get(5s), 7);
    });
    t.join();
    green::Queue<int> q;
    q.put(1);
    EXPECT_EQ(q.get(), 1);
}

}  // namespace
