// Fiber-aware condition variables: producer/consumer, timed waits on both clocks, past and
// invalid deadlines, broadcast, and waking a real OS thread from a fiber.
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "os_thread.hpp"
#include "support/stopwatch.hpp"
#include "support/threads.hpp"

using namespace green_test;

TEST(Cond, BoundedProducerConsumer) {
    require_patched();
    std::mutex mu;
    std::condition_variable not_full, not_empty;
    std::deque<int> q;
    long sum = 0;
    std::vector<std::thread> ts;
    for (int p = 0; p < 4; ++p)
        ts.emplace_back([&, p] {
            for (int i = 1; i <= 500; ++i) {
                std::unique_lock lk(mu);
                not_full.wait(lk, [&] { return q.size() < 8; });
                q.push_back(p * 1000 + i);
                not_empty.notify_one();
            }
        });
    for (int c = 0; c < 4; ++c)
        ts.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                std::unique_lock lk(mu);
                not_empty.wait(lk, [&] { return !q.empty(); });
                sum += q.front();
                q.pop_front();
                not_full.notify_one();
            }
        });
    for (auto& t : ts) t.join();
    long want = 0;
    for (int p = 0; p < 4; ++p)
        for (int i = 1; i <= 500; ++i) want += p * 1000 + i;
    EXPECT_EQ(sum, want);
}

static void timed_wait_on(clockid_t clock) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, clock);
    pthread_cond_t cv;
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_t m;
    pthread_mutex_init(&m, &ma);
    pthread_mutexattr_destroy(&ma);

    std::atomic<int> ticks{0};
    std::atomic<bool> stop{false};
    std::thread ticker([&] {
        while (!stop) {
            ++ticks;
            std::this_thread::yield();
        }
    });
    pthread_mutex_lock(&m);
    auto t0 = std::chrono::steady_clock::now();
    timespec in60 = abs_in(clock, 60);
    EXPECT_EQ(pthread_cond_timedwait(&cv, &m, &in60), ETIMEDOUT);
    EXPECT_GE(ms_since(t0), 55);
    EXPECT_GT(ticks, 0);

    // Past: at once, the mutex kept, nobody else ran.
    const int before = ticks;
    timespec past = abs_in(clock, -50);
    EXPECT_EQ(pthread_cond_timedwait(&cv, &m, &past), ETIMEDOUT);
    EXPECT_EQ(ticks, before);
    timespec bad = abs_in(clock, 10);
    bad.tv_nsec = -1;
    EXPECT_EQ(pthread_cond_timedwait(&cv, &m, &bad), EINVAL);
    EXPECT_EQ(pthread_mutex_unlock(&m), 0);  // error-checking: proves we still owned it
    stop = true;
    ticker.join();
    pthread_cond_destroy(&cv);
    pthread_mutex_destroy(&m);
}

TEST(Cond, TimedWaitMonotonic) {
    require_patched();
    timed_wait_on(CLOCK_MONOTONIC);
}

TEST(Cond, TimedWaitRealtime) {
    require_patched();
    timed_wait_on(CLOCK_REALTIME);
}

TEST(Cond, ClockWaitAndStdWaitFor) {
    require_patched();
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    timespec soon = abs_in(CLOCK_MONOTONIC, 20);
    EXPECT_EQ(pthread_cond_clockwait(&cv, &m, CLOCK_THREAD_CPUTIME_ID, &soon), EINVAL);
    EXPECT_EQ(pthread_cond_clockwait(&cv, &m, CLOCK_MONOTONIC, &soon), ETIMEDOUT);
    pthread_mutex_unlock(&m);

    std::mutex mu;
    std::condition_variable c;
    bool flag = false;
    std::thread setter([&] {
        std::this_thread::yield();
        std::lock_guard lk(mu);
        flag = true;
        c.notify_one();
    });
    std::unique_lock lk(mu);
    EXPECT_TRUE(c.wait_for(lk, std::chrono::seconds(5), [&] { return flag; }));
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(c.wait_for(lk, std::chrono::milliseconds(40)), std::cv_status::timeout);
    EXPECT_GE(ms_since(t0), 35);
    lk.unlock();
    setter.join();
}

TEST(Cond, BroadcastWakesEveryone) {
    require_patched();
    std::mutex mu;
    std::condition_variable cv;
    bool go = false;
    int waiting = 0, woke = 0;
    std::vector<std::thread> ts;
    for (int i = 0; i < 10; ++i)
        ts.emplace_back([&] {
            std::unique_lock lk(mu);
            ++waiting;
            cv.wait(lk, [&] { return go; });
            ++woke;
        });
    for (;;) {
        {
            std::lock_guard lk(mu);
            if (waiting == 10) break;
        }
        std::this_thread::yield();
    }
    {
        std::lock_guard lk(mu);
        go = true;
    }
    cv.notify_all();
    for (auto& t : ts) t.join();
    EXPECT_EQ(woke, 10);
}

TEST(Cond, SignalFromAFiberWakesARealThread) {
    require_patched();
    std::mutex mu;
    std::condition_variable cv;
    bool ready = false, done = false;
    std::atomic<bool> waiting{false};
    std::thread real = green::detail::start_os_thread([&] {
        std::unique_lock lk(mu);
        waiting = true;
        cv.wait(lk, [&] { return ready; });
        done = true;
    });
    while (!waiting) usleep(1000);
    {
        std::lock_guard lk(mu);
        ready = true;
    }
    cv.notify_one();
    real.join();
    EXPECT_TRUE(done);
}

TEST(Cond, ARealThreadCanWakeFibers) {
    require_patched();
    // A real OS thread's signal reaches libc only; fibers notice it on their next look (10 ms).
    std::mutex mu;
    std::condition_variable cv;
    bool ready = false;
    std::thread waiter([&] {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return ready; });
    });
    std::this_thread::yield();  // the fiber waits now
    std::thread real = green::detail::start_os_thread([&] {
        {
            std::lock_guard lk(mu);
            ready = true;
        }
        cv.notify_one();
    });
    real.join();
    waiter.join();

    sem_t sem;
    sem_init(&sem, 0, 0);
    std::thread sem_waiter([&] { EXPECT_EQ(sem_wait(&sem), 0); });
    std::this_thread::yield();
    green::detail::start_os_thread([&] { sem_post(&sem); }).join();
    sem_waiter.join();
    sem_destroy(&sem);
}

TEST(Cond, MainWaitsForARealThreadWithNoFiberLeft) {
    require_patched();
    // Nothing in the hub can wake the main fiber: it sleeps in the kernel until the real
    // thread's signal reaches the hub (instead of failing with LoopExit or hanging).
    std::thread([] {}).join();  // the main thread runs a hub from here on
    std::mutex mu;
    std::condition_variable cv;
    bool ready = false;
    std::thread real = green::detail::start_os_thread([&] {
        usleep(50 * 1000);
        {
            std::lock_guard lk(mu);
            ready = true;
        }
        cv.notify_one();
    });
    {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return ready; });
    }
    real.join();
    EXPECT_TRUE(ready);
}
