// Same-hub primitives used from a second OS thread: every call — the wake side (put, release,
// task_done, close) as well as the waits — is refused with std::logic_error and changes
// nothing, instead of readying a waiter on another hub's run queue without waking that hub.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include <green/green.hpp>

using namespace std::chrono_literals;

namespace {

// Runs `f` on a new OS thread (which may or may not have a hub of its own) and waits for it.
template <class F>
void on_other_thread(F f, bool with_hub) {
    std::thread t([&] {
        if (with_hub) green::sleep(0ms);  // the thread gets a hub
        f();
    });
    t.join();
}

class WrongThread : public ::testing::TestWithParam<bool> {};

TEST_P(WrongThread, QueuePutWithAWaiterIsRefusedAndTheWaiterStillGetsItsItem) {
    green::Queue<int> q;
    auto getter = green::spawn([&] { return q.get(5s); });
    green::sleep(0ms);  // the getter waits
    on_other_thread([&] { EXPECT_THROW(q.put(1), std::logic_error); }, GetParam());
    EXPECT_FALSE(getter.ready());
    EXPECT_EQ(q.getters_waiting(), 1u);
    q.put(2);
    EXPECT_EQ(getter.get(5s), 2);
}

TEST_P(WrongThread, QueueCallsWithoutAWaiterAreRefusedToo) {
    green::JoinableQueue<int> q;
    q.put(1);  // binds the queue to this thread's hub
    on_other_thread(
        [&] {
            EXPECT_THROW(q.put(2), std::logic_error);
            EXPECT_THROW(q.try_put(2), std::logic_error);
            EXPECT_THROW(q.get(), std::logic_error);
            EXPECT_THROW(q.try_get(), std::logic_error);
            EXPECT_THROW(q.peek(0s), std::logic_error);
            EXPECT_THROW(q.task_done(), std::logic_error);
            EXPECT_THROW(q.join(0s), std::logic_error);
            EXPECT_THROW(q.close(), std::logic_error);
        },
        GetParam());
    EXPECT_EQ(q.size(), 1u);
    EXPECT_FALSE(q.closed());
    EXPECT_EQ(q.get(), 1);
    q.task_done();
    EXPECT_TRUE(q.join(0s));
}

TEST_P(WrongThread, LockReleaseWithAWaiterIsRefused) {
    green::Lock lock;
    lock.acquire();
    auto waiter = green::spawn([&] { return lock.acquire(5s); });
    green::sleep(0ms);
    on_other_thread([&] { EXPECT_THROW(lock.release(), std::logic_error); }, GetParam());
    EXPECT_FALSE(waiter.ready());
    EXPECT_TRUE(lock.locked());
    lock.release();
    EXPECT_TRUE(waiter.get(5s));
}

TEST_P(WrongThread, SemaphoreCallsAreRefused) {
    green::Semaphore sem(2);
    EXPECT_TRUE(sem.acquire());
    green::BoundedSemaphore bounded(1);
    bounded.acquire();
    on_other_thread(
        [&] {
            EXPECT_THROW(sem.release(), std::logic_error);
            EXPECT_THROW(sem.acquire(), std::logic_error);
            EXPECT_THROW(sem.try_acquire(), std::logic_error);
            EXPECT_THROW(bounded.release(), std::logic_error);
        },
        GetParam());
    EXPECT_EQ(sem.counter(), 1u);
    EXPECT_EQ(bounded.counter(), 0u);
    sem.release();
    bounded.release();
}

TEST_P(WrongThread, RLockAndChannelAreRefused) {
    green::RLock rl;
    rl.acquire();
    green::Channel<int> ch;
    auto getter = green::spawn([&] { return ch.get(5s); });
    green::sleep(0ms);
    on_other_thread(
        [&] {
            EXPECT_THROW(rl.acquire(0s), std::logic_error);
            EXPECT_THROW(ch.put(1), std::logic_error);
        },
        GetParam());
    rl.release();
    EXPECT_FALSE(rl.locked());
    ch.put(3);
    EXPECT_EQ(getter.get(5s), 3);
}

INSTANTIATE_TEST_SUITE_P(Threads, WrongThread, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "WithHub" : "WithoutHub"; });

// Each thread may keep primitives of its own: binding is per object.
TEST(WrongThreadOwnership, EachThreadUsesItsOwnObjects) {
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
