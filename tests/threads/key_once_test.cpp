// Thread-specific data as fiber-local storage, pthread_once / std::call_once and static-local
// initialisers whose initialisation blocks while other fiber threads arrive.
#include <errno.h>
#include <pthread.h>

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

#include "support/threads.hpp"

using namespace green_test;

TEST(Keys, ValuesArePerThreadAndDestructorsRun) {
    require_patched();
    static std::atomic<long> destroyed{0};
    static pthread_key_t key;
    ASSERT_EQ(pthread_key_create(&key, [](void* v) { destroyed += reinterpret_cast<long>(v); }), 0);
    void* main_value = &destroyed;
    ASSERT_EQ(pthread_setspecific(key, main_value), 0);
    std::atomic<int> mismatches{0};
    std::vector<std::thread> ts;
    for (long i = 1; i <= 10; ++i)
        ts.emplace_back([&, i] {
            if (pthread_getspecific(key) != nullptr) ++mismatches;
            pthread_setspecific(key, reinterpret_cast<void*>(i));
            for (int k = 0; k < 3; ++k) std::this_thread::yield();
            if (pthread_getspecific(key) != reinterpret_cast<void*>(i)) ++mismatches;
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(mismatches, 0);
    EXPECT_EQ(destroyed, 55);
    EXPECT_EQ(pthread_getspecific(key), main_value);  // the main thread keeps libc's value
    pthread_setspecific(key, nullptr);
    ASSERT_EQ(pthread_key_delete(key), 0);

    // A deleted key's old values are not seen through a new key with the same number.
    std::thread([&] {
        pthread_key_t k1, k2;
        pthread_key_create(&k1, nullptr);
        pthread_setspecific(k1, &k1);
        pthread_key_delete(k1);
        pthread_key_create(&k2, nullptr);
        EXPECT_EQ(pthread_getspecific(k2), nullptr);
        EXPECT_EQ(pthread_setspecific(k1 + 100000, &k1), EINVAL);
        pthread_key_delete(k2);
    }).join();
}

TEST(Once, BlockingInitialiserRunsOnce) {
    require_patched();
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    static int runs = 0;
    static bool ready = false;
    std::atomic<int> saw_ready{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 10; ++i)
        ts.emplace_back([&] {
            pthread_once(&once, [] {
                ++runs;
                for (int k = 0; k < 10; ++k) sched_yield();  // others arrive meanwhile
                ready = true;
            });
            if (ready) ++saw_ready;
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(saw_ready, 10);
}

TEST(Once, CallOnceRetriesAfterAnException) {
    require_patched();
    std::once_flag flag;
    int attempts = 0;
    std::vector<std::thread> ts;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i)
        ts.emplace_back([&] {
            try {
                std::call_once(flag, [&] {
                    std::this_thread::yield();
                    if (++attempts == 1) throw std::runtime_error("first try fails");
                });
                ++ok;
            } catch (const std::runtime_error&) {
            }
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(attempts, 2);
    EXPECT_EQ(ok, 3);
}

static int slow_init(std::atomic<int>& runs) {
    ++runs;
    for (int k = 0; k < 10; ++k) std::this_thread::yield();
    return 42;
}

TEST(Once, StaticLocalWithBlockingInitialiser) {
    require_patched();
    // Without the guard hooks the second thread would sleep on libstdc++'s futex while the
    // first, a fiber of the same OS thread, can never finish: the process would hang.
    static std::atomic<int> runs{0};
    std::atomic<int> sum{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 5; ++i)
        ts.emplace_back([&] {
            static int value = slow_init(runs);
            sum += value;
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(sum, 5 * 42);
}

TEST(Futex, Cxx20WaitsLetOtherThreadsRun) {
    require_patched();
    // libstdc++'s atomic waits (and latch, semaphore) sleep with syscall(SYS_futex): on the
    // one OS thread that sleep would stop the thread that is to wake them.
    std::atomic<int> flag{0};
    std::latch started(3);
    std::counting_semaphore<10> permits(0);
    std::vector<std::thread> ts;
    for (int i = 0; i < 3; ++i)
        ts.emplace_back([&] {
            started.count_down();
            flag.wait(0);
            permits.release();
        });
    std::thread setter([&] {
        started.wait();
        for (int k = 0; k < 50; ++k) std::this_thread::yield();  // the waiters are asleep now
        flag = 1;
        flag.notify_all();
    });
    for (int i = 0; i < 3; ++i) permits.acquire();
    EXPECT_FALSE(permits.try_acquire_for(std::chrono::milliseconds(30)));
    for (auto& t : ts) t.join();
    setter.join();
    EXPECT_EQ(flag, 1);
}
