// Fiber-aware pthread mutexes: exclusion across switches, hand-over fairness, the three kinds
// and their error codes, timed locking, and exclusion against a real OS thread.
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "green/green.hpp"
#include "os_thread.hpp"
#include "support/stopwatch.hpp"
#include "support/threads.hpp"

using namespace green_test;

TEST(Mutex, ExcludesAcrossSwitches) {
    require_patched();
    std::mutex mu;
    int counter = 0, inside = 0, max_inside = 0;
    std::vector<std::thread> ts;
    for (int i = 0; i < 20; ++i)
        ts.emplace_back([&] {
            for (int k = 0; k < 50; ++k) {
                std::lock_guard lk(mu);
                max_inside = std::max(max_inside, ++inside);
                int v = counter;
                std::this_thread::yield();  // switch while holding it
                counter = v + 1;
                --inside;
            }
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(counter, 1000);
    EXPECT_EQ(max_inside, 1);
}

TEST(Mutex, UnlockHandsOverToTheWaiter) {
    require_patched();
    // A holder that relocks right after unlocking must not starve a waiting thread.
    std::mutex mu;
    std::atomic<int> rounds{0};
    int waiter_got_it_at = -1;
    std::thread hog([&] {
        for (int i = 0; i < 50; ++i) {
            std::lock_guard lk(mu);
            rounds = i;
            std::this_thread::yield();
        }
    });
    std::thread waiter([&] {
        std::lock_guard lk(mu);
        waiter_got_it_at = rounds;
    });
    hog.join();
    waiter.join();
    EXPECT_GE(waiter_got_it_at, 0);
    EXPECT_LT(waiter_got_it_at, 5);
}

TEST(Mutex, ErrorCheckingCodes) {
    require_patched();
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    static pthread_mutex_t m;
    pthread_mutex_init(&m, &a);
    pthread_mutexattr_destroy(&a);
    EXPECT_EQ(pthread_mutex_unlock(&m), EPERM);  // not locked
    ASSERT_EQ(pthread_mutex_lock(&m), 0);
    EXPECT_EQ(pthread_mutex_lock(&m), EDEADLK);
    EXPECT_EQ(pthread_mutex_trylock(&m), EBUSY);
    static int other_unlock, other_try;
    pthread_t t;
    pthread_create(
        &t, nullptr,
        [](void*) -> void* {
            other_unlock = pthread_mutex_unlock(&m);
            other_try = pthread_mutex_trylock(&m);
            return nullptr;
        },
        nullptr);
    pthread_join(t, nullptr);
    EXPECT_EQ(other_unlock, EPERM);
    EXPECT_EQ(other_try, EBUSY);
    EXPECT_EQ(pthread_mutex_unlock(&m), 0);
    EXPECT_EQ(pthread_mutex_destroy(&m), 0);
}

TEST(Mutex, RecursiveKindsIncludingStaticInitializer) {
    require_patched();
    static pthread_mutex_t stat = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
    static pthread_mutex_t dyn;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&dyn, &a);
    pthread_mutexattr_destroy(&a);
    for (pthread_mutex_t* m : {&stat, &dyn}) {
        ASSERT_EQ(pthread_mutex_lock(m), 0);
        ASSERT_EQ(pthread_mutex_lock(m), 0);
        ASSERT_EQ(pthread_mutex_trylock(m), 0);
        static int tried;
        static pthread_mutex_t* target;
        target = m;
        pthread_t t;
        auto probe = [](void*) -> void* {
            tried = pthread_mutex_trylock(target);
            if (tried == 0) pthread_mutex_unlock(target);
            return nullptr;
        };
        pthread_create(&t, nullptr, probe, nullptr);
        pthread_join(t, nullptr);
        EXPECT_EQ(tried, EBUSY);  // another fiber must not share this thread's ownership
        static int foreign_unlock;
        pthread_create(
            &t, nullptr,
            [](void*) -> void* {
                foreign_unlock = pthread_mutex_unlock(target);
                return nullptr;
            },
            nullptr);
        pthread_join(t, nullptr);
        EXPECT_EQ(foreign_unlock, EPERM);
        for (int i = 0; i < 3; ++i) ASSERT_EQ(pthread_mutex_unlock(m), 0);
        pthread_create(&t, nullptr, probe, nullptr);
        pthread_join(t, nullptr);
        EXPECT_EQ(tried, 0);
    }
}

TEST(Mutex, TimedLock) {
    require_patched();
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    static std::atomic<bool> release{false};
    static std::atomic<int> holder_steps{0};
    pthread_t holder;
    pthread_create(
        &holder, nullptr,
        [](void*) -> void* {
            pthread_mutex_lock(&m);
            while (!release) {
                ++holder_steps;
                sched_yield();
            }
            pthread_mutex_unlock(&m);
            return nullptr;
        },
        nullptr);
    sched_yield();  // the holder takes it
    ASSERT_EQ(pthread_mutex_trylock(&m), EBUSY);

    // A past deadline times out at once, without letting anyone else run.
    const int steps = holder_steps;
    timespec past = abs_in(CLOCK_REALTIME, -1000);
    EXPECT_EQ(pthread_mutex_timedlock(&m, &past), ETIMEDOUT);
    EXPECT_EQ(holder_steps, steps);

    timespec bad = abs_in(CLOCK_REALTIME, 100);
    bad.tv_nsec = 1000000000L;
    EXPECT_EQ(pthread_mutex_timedlock(&m, &bad), EINVAL);
    timespec soon = abs_in(CLOCK_MONOTONIC, 10);
    EXPECT_EQ(pthread_mutex_clocklock(&m, CLOCK_PROCESS_CPUTIME_ID, &soon), EINVAL);

    auto t0 = std::chrono::steady_clock::now();
    timespec in50 = abs_in(CLOCK_MONOTONIC, 50);
    EXPECT_EQ(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &in50), ETIMEDOUT);
    EXPECT_GE(ms_since(t0), 45);
    EXPECT_GT(holder_steps, steps);  // the holder ran meanwhile: the wait was a fiber wait

    release = true;
    timespec in2s = abs_in(CLOCK_REALTIME, 2000);
    EXPECT_EQ(pthread_mutex_timedlock(&m, &in2s), 0);  // not ETIMEDOUT: woken by the release
    pthread_mutex_unlock(&m);
    pthread_join(holder, nullptr);
}

TEST(Mutex, ExcludesARealOsThread) {
    require_patched();
    // The runtime's own threads stay real threads; a mutex shared with one still excludes.
    std::mutex mu;
    std::atomic<bool> held{false};
    std::atomic<int> ticks{0};
    std::thread real = green::detail::start_os_thread([&] {
        std::lock_guard lk(mu);
        held = true;
        usleep(100 * 1000);
    });
    while (!held) usleep(1000);
    std::atomic<bool> locked{false};
    std::thread ticker([&] {
        while (!locked) {
            ++ticks;
            std::this_thread::yield();
        }
    });
    std::thread locker([&] {  // waits for the real thread
        std::lock_guard lk(mu);
        locked = true;
    });
    locker.join();
    ticker.join();
    real.join();
    EXPECT_GT(ticks, 0);  // other fibers ran while `locker` waited
}

// A default mutex taken and released by fibers without contention goes through the hooks'
// inline copy of libc's steps: the fields libc keeps must read as libc leaves them (owner TID,
// user count, so that pthread_mutex_destroy answers EBUSY only while it is held).
TEST(Mutex, UncontendedDefaultMutexKeepsLibcsFields) {
    require_patched();
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    std::thread fiber([&] {  // a fiber: the test's own thread has no hub
        // Run by the main thread's hub, not by an OS thread of its own.
        ASSERT_EQ(::gettid(), ::getpid());
        const pid_t os_tid = static_cast<pid_t>(::gettid());  // the hub's OS thread
        ASSERT_EQ(pthread_mutex_lock(&m), 0);
        EXPECT_EQ(m.__data.__lock, 1);
        EXPECT_EQ(m.__data.__owner, os_tid);
        EXPECT_EQ(m.__data.__nusers, 1u);
        EXPECT_EQ(pthread_mutex_destroy(&m), EBUSY);
        std::thread other([&] { EXPECT_EQ(pthread_mutex_trylock(&m), EBUSY); });
        other.join();
        ASSERT_EQ(pthread_mutex_unlock(&m), 0);
        EXPECT_EQ(m.__data.__lock, 0);
        EXPECT_EQ(m.__data.__owner, 0);
        EXPECT_EQ(m.__data.__nusers, 0u);
        ASSERT_EQ(pthread_mutex_trylock(&m), 0);
        EXPECT_EQ(m.__data.__owner, os_tid);
        ASSERT_EQ(pthread_mutex_unlock(&m), 0);
    });
    fiber.join();
    EXPECT_EQ(pthread_mutex_destroy(&m), 0);
}

// A real OS thread asleep in libc's lock (lock word 2) on a mutex a fiber holds is woken by the
// fiber's unlock, which does libc's futex wake itself.
TEST(Mutex, UnlockByAFiberWakesARealOsThreadAsleepInLibc) {
    require_patched();
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    std::atomic<bool> got{false};
    std::thread fiber([&] {
        ASSERT_EQ(::gettid(), ::getpid());  // a fiber of the main thread's hub
        ASSERT_EQ(pthread_mutex_lock(&m), 0);
        std::thread real = green::detail::start_os_thread([&] {
            pthread_mutex_lock(&m);  // libc's: a thread without a hub
            got = true;
            pthread_mutex_unlock(&m);
        });
        // Until libc has marked the word contended (the thread sleeps on the futex, or is about
        // to).
        const auto t0 = green::Clock::now();
        while (__atomic_load_n(&m.__data.__lock, __ATOMIC_RELAXED) != 2 && seconds_since(t0) < 10)
            usleep(1000);
        EXPECT_EQ(__atomic_load_n(&m.__data.__lock, __ATOMIC_RELAXED), 2);
        EXPECT_EQ(pthread_mutex_unlock(&m), 0);
        while (!got && seconds_since(t0) < 20) usleep(1000);
        EXPECT_TRUE(got);
        if (!got) {  // do not leave the thread asleep for ever: wake it as libc would have
            __atomic_store_n(&m.__data.__lock, 0, __ATOMIC_RELEASE);
            ::syscall(SYS_futex, &m.__data.__lock, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
        }
        real.join();
    });
    fiber.join();
    EXPECT_EQ(pthread_mutex_destroy(&m), 0);
}

TEST(Mutex, KillAndTimeoutWaitUntilTheLockIsTaken) {
    require_patched();
    // A greenlet blocked in pthread_mutex_lock cannot receive a C++ exception through its C
    // caller: a Timeout that fires meanwhile is held back and raised at its next green call.
    std::mutex mu;
    mu.lock();
    bool locked = false, timed_out_after = false;
    auto g = green::spawn([&] {
        green::Timeout t(std::chrono::milliseconds(20));
        mu.lock();
        locked = true;
        mu.unlock();
        try {
            green::sleep(std::chrono::seconds(5));
        } catch (const green::Timeout& e) {
            timed_out_after = e.is(t);
        }
    });
    green::sleep(std::chrono::milliseconds(60));  // the Timeout fires while it waits for `mu`
    EXPECT_FALSE(locked);
    mu.unlock();
    g.join();
    EXPECT_TRUE(locked);
    EXPECT_TRUE(timed_out_after);
}

TEST(Mutex, EveryInterruptHeldDuringTheWaitIsDelivered) {
    require_patched();
    // Two interrupts reach a greenlet blocked in pthread_mutex_lock: its Timeout expires, then
    // it is killed. Both are held back and both are raised after the lock is taken, the kill
    // first (as the hub orders them), then the Timeout.
    std::mutex mu;
    mu.lock();
    bool locked = false, killed_after = false, timed_out_after = false;
    auto g = green::spawn([&] {
        green::Timeout t(std::chrono::milliseconds(20));
        mu.lock();
        locked = true;
        mu.unlock();
        try {
            green::sleep(std::chrono::seconds(5));
        } catch (const green::GreenletExit&) {
            killed_after = true;
        }
        try {
            green::sleep(std::chrono::seconds(5));
        } catch (const green::Timeout& e) {
            timed_out_after = e.is(t);
        }
    });
    green::sleep(std::chrono::milliseconds(60));  // the Timeout fires while it waits for `mu`
    g.kill(false);                                // and then a kill
    green::sleep(std::chrono::milliseconds(20));
    EXPECT_FALSE(locked);
    mu.unlock();
    g.join();
    EXPECT_TRUE(locked);
    EXPECT_TRUE(killed_after);
    EXPECT_TRUE(timed_out_after);
}
