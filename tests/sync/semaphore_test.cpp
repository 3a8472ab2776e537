// Semaphore, BoundedSemaphore, Lock, RLock: FIFO hand-off, timeouts, kill while waiting (the
// permit is never lost), misuse errors, and the standard lock adaptors.
#include <gtest/gtest.h>

#include <chrono>
#include <green/green.hpp>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(Semaphore, WaitersAcquireInArrivalOrder) {
    green::Semaphore sem(0);
    std::vector<int> order;
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < 6; ++i)
        gs.push_back(green::spawn([&, i] {
            EXPECT_TRUE(sem.acquire());
            order.push_back(i);
        }));
    green::sleep(0ms);
    EXPECT_EQ(sem.waiting(), 6u);
    for (int i = 0; i < 6; ++i) {
        sem.release();
        green::sleep(0ms);
    }
    green::joinall(gs);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(sem.counter(), 0u);
}

TEST(Semaphore, ReleaseHandsThePermitOverNoBarging) {
    green::Semaphore sem(1);
    ASSERT_TRUE(sem.acquire());
    bool waiter_got = false;
    auto g = green::spawn([&] { waiter_got = sem.acquire(); });
    green::sleep(0ms);
    sem.release();
    // The permit already belongs to the waiter, although it has not run yet.
    EXPECT_FALSE(sem.try_acquire());
    EXPECT_FALSE(sem.acquire(0s));
    g.join();
    EXPECT_TRUE(waiter_got);
    EXPECT_EQ(sem.counter(), 0u);
}

// The inline acquire and release go through a gate that is open only while nobody waits: each
// way a waiter comes and goes (hand-off, timeout, kill) must leave the counts exact and the
// next uncontended use correct, whichever path it takes.
TEST(Semaphore, UncontendedUseAfterEveryKindOfWait) {
    green::Semaphore sem(2);
    for (int i = 0; i < 100; ++i) {  // uncontended: the inline path
        ASSERT_TRUE(sem.acquire());
        sem.release();
    }
    ASSERT_TRUE(sem.acquire());
    ASSERT_TRUE(sem.acquire());
    EXPECT_FALSE(sem.try_acquire());
    // A waiter that is handed a permit.
    auto handed = green::spawn([&] { return sem.acquire(); });
    green::sleep(0ms);
    EXPECT_EQ(sem.waiting(), 1u);
    sem.release();
    EXPECT_TRUE(handed.get());
    EXPECT_EQ(sem.counter(), 0u);
    // A waiter that times out.
    auto timed = green::spawn([&] { return sem.acquire(green::Deadline(1ms)); });
    EXPECT_FALSE(timed.get());
    EXPECT_EQ(sem.waiting(), 0u);
    // A waiter that is killed before it gets anything.
    auto killed = green::spawn([&] { sem.acquire(); });
    green::sleep(0ms);
    EXPECT_EQ(sem.waiting(), 1u);
    killed.kill();
    EXPECT_EQ(sem.waiting(), 0u);
    sem.release();
    sem.release();
    EXPECT_EQ(sem.counter(), 2u);
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(sem.acquire());
        ASSERT_TRUE(sem.try_acquire());
        EXPECT_FALSE(sem.try_acquire());
        sem.release();
        sem.release();
    }
    EXPECT_EQ(sem.counter(), 2u);
}

TEST(Semaphore, Timeouts) {
    green::Semaphore sem(0);
    EXPECT_FALSE(sem.acquire(0s));
    EXPECT_FALSE(sem.acquire(-1s));
    EXPECT_FALSE(sem.acquire(green::Clock::now() - 1ms));
    auto t0 = green::Clock::now();
    EXPECT_FALSE(sem.acquire(40ms));
    EXPECT_GE(green::Clock::now() - t0, 39ms);
    EXPECT_EQ(sem.waiting(), 0u);
    auto g = green::spawn([&] {
        green::sleep(10ms);
        sem.release();
    });
    t0 = green::Clock::now();
    EXPECT_TRUE(sem.acquire(5s));
    g.join();
    // A permit available now is taken even with an expired deadline.
    sem.release();
    EXPECT_TRUE(sem.acquire(0s));
}

TEST(Semaphore, KilledWaiterAfterGrantPassesThePermitOn) {
    green::Semaphore sem(0);
    bool b_got = false;
    auto a = green::spawn([&] {
        sem.acquire();
        ADD_FAILURE() << "a should have been killed first";
    });
    auto b = green::spawn([&] { b_got = sem.acquire(5s); });
    green::sleep(0ms);
    sem.release();  // granted to a, which has not run yet...
    a.kill();       // ...and is killed: b must get the permit
    b.join();
    EXPECT_TRUE(a.killed());
    EXPECT_TRUE(b_got);
    EXPECT_EQ(sem.counter(), 0u);
}

TEST(Semaphore, KilledLastWaiterReturnsThePermit) {
    green::Semaphore sem(0);
    auto a = green::spawn([&] { sem.acquire(); });
    green::sleep(0ms);
    sem.release();
    a.kill();
    EXPECT_EQ(sem.counter(), 1u);
    EXPECT_TRUE(sem.try_acquire());
}

TEST(Semaphore, KilledWaiterWithoutGrantLeavesTheQueue) {
    green::Semaphore sem(0);
    std::vector<int> got;
    auto a = green::spawn([&] {
        sem.acquire();
        got.push_back(1);
    });
    auto b = green::spawn([&] {
        sem.acquire();
        got.push_back(2);
    });
    green::sleep(0ms);
    a.kill();
    EXPECT_EQ(sem.waiting(), 1u);
    sem.release();
    b.join();
    EXPECT_EQ(got, std::vector<int>{2});
}

TEST(Semaphore, ScopedTimeoutInterruptsAcquire) {
    green::Semaphore sem(0);
    green::Timeout t(20ms);
    EXPECT_THROW(sem.acquire(), green::Timeout);
    EXPECT_EQ(sem.waiting(), 0u);
}

TEST(Semaphore, NegativeInitialValueIsRejected) {
    EXPECT_THROW(green::Semaphore(-1), std::invalid_argument);
}

TEST(BoundedSemaphore, OverReleaseIsAClearError) {
    green::BoundedSemaphore sem(2);
    sem.acquire();
    sem.release();
    try {
        sem.release();
        FAIL() << "no error";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("released too many times"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(sem.counter(), 2u);
}

TEST(Lock, MutualExclusionWithStdGuards) {
    green::Lock lock;
    int inside = 0, max_inside = 0;
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < 10; ++i)
        gs.push_back(green::spawn([&] {
            std::lock_guard guard(lock);
            ++inside;
            max_inside = std::max(max_inside, inside);
            green::sleep(1ms);
            --inside;
        }));
    green::joinall(gs);
    EXPECT_EQ(max_inside, 1);
    EXPECT_FALSE(lock.locked());
}

TEST(Lock, UniqueLockTryLockForAndScopedLock) {
    green::Lock a, b;
    {
        std::scoped_lock both(a, b);
        EXPECT_TRUE(a.locked());
        EXPECT_TRUE(b.locked());
        auto g = green::spawn([&] {
            std::unique_lock lk(a, std::defer_lock);
            EXPECT_FALSE(lk.try_lock_for(10ms));
            EXPECT_FALSE(lk.try_lock_until(std::chrono::system_clock::now() + 5ms));
        });
        g.join();
    }
    EXPECT_FALSE(a.locked());
    std::unique_lock lk(a, std::try_to_lock);
    EXPECT_TRUE(lk.owns_lock());
}

TEST(Lock, ReleasingAnUnlockedLockIsAnError) {
    green::Lock lock;
    try {
        lock.release();
        FAIL() << "no error";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("unlocked"), std::string::npos);
    }
    // Like threading.Lock, another fiber may release a held lock.
    lock.acquire();
    green::spawn([&] { lock.release(); }).join();
    EXPECT_FALSE(lock.locked());
}

TEST(RLock, ReentrantForTheOwnerExclusiveForOthers) {
    green::RLock rl;
    EXPECT_TRUE(rl.acquire());
    EXPECT_TRUE(rl.acquire());
    {
        std::lock_guard again(rl);
        EXPECT_EQ(rl.depth(), 3u);
    }
    EXPECT_TRUE(rl.owned());
    bool other_got = false;
    auto g = green::spawn([&] {
        EXPECT_FALSE(rl.owned());
        EXPECT_FALSE(rl.try_acquire());
        other_got = rl.acquire(5s);
        EXPECT_TRUE(rl.owned());
        rl.release();
    });
    green::sleep(0ms);
    rl.release();
    green::sleep(0ms);
    EXPECT_FALSE(other_got);  // still held once
    rl.release();
    g.join();
    EXPECT_TRUE(other_got);
    EXPECT_FALSE(rl.locked());
}

TEST(RLock, ReleaseByNonOwnerIsAnError) {
    green::RLock rl;
    EXPECT_THROW(rl.release(), std::logic_error);
    rl.acquire();
    auto g = green::spawn([&] {
        try {
            rl.release();
            ADD_FAILURE() << "no error";
        } catch (const std::logic_error& e) {
            EXPECT_NE(std::string(e.what()).find("another fiber"), std::string::npos);
        }
    });
    g.join();
    EXPECT_TRUE(rl.owned());
    rl.release();
}

TEST(RLock, TimeoutWhileHeldByAnother) {
    green::RLock rl;
    auto holder = green::spawn([&] {
        std::lock_guard lk(rl);
        green::sleep(100ms);
    });
    green::sleep(0ms);
    EXPECT_FALSE(rl.acquire(0s));
    EXPECT_FALSE(rl.try_lock_for(10ms));
    EXPECT_TRUE(rl.acquire(5s));
    rl.release();
    holder.join();
}

}  // namespace
