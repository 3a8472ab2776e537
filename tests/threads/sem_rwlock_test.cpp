// Fiber-aware POSIX semaphores and read-write locks (pthread_rwlock, std::shared_mutex).
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>

#include <gtest/gtest.h>

#include <atomic>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "support/stopwatch.hpp"
#include "support/threads.hpp"

using namespace green_test;

TEST(Semaphore, LimitsConcurrency) {
    require_patched();
    sem_t sem;
    ASSERT_EQ(sem_init(&sem, 0, 5), 0);
    int inside = 0, max_inside = 0, done = 0;
    std::vector<std::thread> ts;
    for (int i = 0; i < 20; ++i)
        ts.emplace_back([&] {
            ASSERT_EQ(sem_wait(&sem), 0);
            max_inside = std::max(max_inside, ++inside);
            for (int k = 0; k < 5; ++k) std::this_thread::yield();
            --inside;
            ++done;
            sem_post(&sem);
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(max_inside, 5);
    EXPECT_EQ(done, 20);
    int v = -1;
    sem_getvalue(&sem, &v);
    EXPECT_EQ(v, 5);
    sem_destroy(&sem);
}

TEST(Semaphore, TimedWaits) {
    require_patched();
    sem_t sem;
    ASSERT_EQ(sem_init(&sem, 0, 0), 0);
    timespec past = abs_in(CLOCK_REALTIME, -10);
    errno = 0;
    EXPECT_EQ(sem_timedwait(&sem, &past), -1);
    EXPECT_EQ(errno, ETIMEDOUT);
    timespec bad = abs_in(CLOCK_REALTIME, 10);
    bad.tv_nsec = 2000000000L;
    EXPECT_EQ(sem_timedwait(&sem, &bad), -1);
    EXPECT_EQ(errno, EINVAL);
    timespec soon = abs_in(CLOCK_MONOTONIC, 10);
    EXPECT_EQ(sem_clockwait(&sem, CLOCK_BOOTTIME + 100, &soon), -1);
    EXPECT_EQ(errno, EINVAL);

    auto t0 = std::chrono::steady_clock::now();
    timespec in50 = abs_in(CLOCK_MONOTONIC, 50);
    EXPECT_EQ(sem_clockwait(&sem, CLOCK_MONOTONIC, &in50), -1);
    EXPECT_EQ(errno, ETIMEDOUT);
    EXPECT_GE(ms_since(t0), 45);

    std::thread poster([&] { sem_post(&sem); });
    timespec in5s = abs_in(CLOCK_REALTIME, 5000);
    t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(sem_timedwait(&sem, &in5s), 0);
    poster.join();
    EXPECT_EQ(sem_trywait(&sem), -1);
    EXPECT_EQ(errno, EAGAIN);
    sem_destroy(&sem);
}

TEST(RwLock, ReadersShareWritersExclude) {
    require_patched();
    static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    int readers = 0, max_readers = 0, writers = 0, bad = 0;
    long value = 0;
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; ++i)
        ts.emplace_back([&] {
            for (int k = 0; k < 20; ++k) {
                pthread_rwlock_rdlock(&rw);
                max_readers = std::max(max_readers, ++readers);
                if (writers) ++bad;
                std::this_thread::yield();
                --readers;
                pthread_rwlock_unlock(&rw);
            }
        });
    for (int i = 0; i < 3; ++i)
        ts.emplace_back([&] {
            for (int k = 0; k < 20; ++k) {
                pthread_rwlock_wrlock(&rw);
                ++writers;
                if (readers || writers > 1) ++bad;
                long v = value;
                std::this_thread::yield();
                value = v + 1;
                --writers;
                pthread_rwlock_unlock(&rw);
                std::this_thread::yield();
            }
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(bad, 0);
    EXPECT_GT(max_readers, 1);
    EXPECT_EQ(value, 60);
}

TEST(RwLock, ErrorsAndTimeouts) {
    require_patched();
    static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    ASSERT_EQ(pthread_rwlock_wrlock(&rw), 0);
    EXPECT_EQ(pthread_rwlock_wrlock(&rw), EDEADLK);
    EXPECT_EQ(pthread_rwlock_rdlock(&rw), EDEADLK);
    static int timed = -1;
    static long waited_ms = 0;
    pthread_t t;
    pthread_create(
        &t, nullptr,
        [](void*) -> void* {
            auto t0 = std::chrono::steady_clock::now();
            timespec in50 = abs_in(CLOCK_REALTIME, 50);
            timed = pthread_rwlock_timedrdlock(&rw, &in50);
            waited_ms = ms_since(t0);
            return nullptr;
        },
        nullptr);
    pthread_join(t, nullptr);
    EXPECT_EQ(timed, ETIMEDOUT);
    EXPECT_GE(waited_ms, 45);
    ASSERT_EQ(pthread_rwlock_unlock(&rw), 0);
    EXPECT_EQ(pthread_rwlock_tryrdlock(&rw), 0);
    EXPECT_EQ(pthread_rwlock_trywrlock(&rw), EBUSY);
    EXPECT_EQ(pthread_rwlock_unlock(&rw), 0);
}

TEST(RwLock, StdSharedMutex) {
    require_patched();
    std::shared_mutex sm;
    int shared_inside = 0, peak = 0, total = 0;
    std::vector<std::thread> ts;
    for (int i = 0; i < 6; ++i)
        ts.emplace_back([&, i] {
            if (i % 3 == 0) {
                std::unique_lock lk(sm);
                std::this_thread::yield();
                ++total;
            } else {
                std::shared_lock lk(sm);
                peak = std::max(peak, ++shared_inside);
                std::this_thread::yield();
                --shared_inside;
            }
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(total, 2);
    EXPECT_GE(peak, 2);
}

TEST(Semaphore, PostHandsThePermitToTheWaiter) {
    require_patched();
    // A binary semaphore used as a lock: a holder that re-takes it right after posting must not
    // starve a waiting thread.
    sem_t sem;
    ASSERT_EQ(sem_init(&sem, 0, 1), 0);
    std::atomic<int> rounds{0};
    int waiter_got_it_at = -1;
    std::thread hog([&] {
        for (int i = 0; i < 50; ++i) {
            sem_wait(&sem);
            rounds = i;
            std::this_thread::yield();
            sem_post(&sem);
        }
    });
    std::thread waiter([&] {
        sem_wait(&sem);
        waiter_got_it_at = rounds;
        sem_post(&sem);
    });
    hog.join();
    waiter.join();
    EXPECT_GE(waiter_got_it_at, 0);
    EXPECT_LT(waiter_got_it_at, 5);
    int v = -1;
    sem_getvalue(&sem, &v);
    EXPECT_EQ(v, 1);
    sem_destroy(&sem);
}
