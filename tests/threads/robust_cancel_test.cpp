// Robust and priority-inheritance mutexes between fiber threads (they once went to libc and
// blocked the hub), owner death as EOWNERDEAD, pthread_cancel of threads blocked in the I/O and
// sleep hooks, and thread-specific values beyond the inline slots (kept out of malloc).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "support/stopwatch.hpp"
#include "support/threads.hpp"

using namespace green_test;

namespace {

void make_mutex(pthread_mutex_t* m, int type, bool robust, int protocol) {
    pthread_mutexattr_t a;
    ASSERT_EQ(pthread_mutexattr_init(&a), 0);
    ASSERT_EQ(pthread_mutexattr_settype(&a, type), 0);
    if (robust) {
        ASSERT_EQ(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
    }
    ASSERT_EQ(pthread_mutexattr_setprotocol(&a, protocol), 0);
    ASSERT_EQ(pthread_mutex_init(m, &a), 0);
    pthread_mutexattr_destroy(&a);
}

void* join(pthread_t t) {
    void* r = nullptr;
    EXPECT_EQ(pthread_join(t, &r), 0);
    return r;
}

}  // namespace

TEST(RobustMutex, AHolderThatSleepsDoesNotBlockTheOthers) {
    require_patched();
    struct Kind {
        bool robust;
        int protocol;
        int type;
    };
    for (Kind k : {Kind{true, PTHREAD_PRIO_NONE, PTHREAD_MUTEX_NORMAL},
                   Kind{true, PTHREAD_PRIO_NONE, PTHREAD_MUTEX_RECURSIVE},
                   Kind{false, PTHREAD_PRIO_INHERIT, PTHREAD_MUTEX_NORMAL},
                   Kind{false, PTHREAD_PRIO_INHERIT, PTHREAD_MUTEX_ERRORCHECK},
                   Kind{true, PTHREAD_PRIO_INHERIT, PTHREAD_MUTEX_NORMAL}}) {
        static pthread_mutex_t m;
        static std::atomic<int> inside;
        make_mutex(&m, k.type, k.robust, k.protocol);
        inside = 0;
        pthread_t holder = start([] {
            ASSERT_EQ(pthread_mutex_lock(&m), 0);
            inside = 1;
            usleep(50 * 1000);
            inside = 0;
            ASSERT_EQ(pthread_mutex_unlock(&m), 0);
        });
        pthread_t waiter = start([] {
            while (!inside) sched_yield();
            ASSERT_EQ(pthread_mutex_lock(&m), 0);
            EXPECT_EQ(inside, 0);
            EXPECT_EQ(pthread_mutex_unlock(&m), 0);
        });
        join(holder);
        join(waiter);
        EXPECT_EQ(pthread_mutex_destroy(&m), 0);
    }
}

TEST(RobustMutex, AnOwnerThatEndsHoldingItLeavesItOwnerDead) {
    require_patched();
    static pthread_mutex_t m;
    make_mutex(&m, PTHREAD_MUTEX_ERRORCHECK, true, PTHREAD_PRIO_NONE);
    join(start([] { ASSERT_EQ(pthread_mutex_lock(&m), 0); }));
    EXPECT_EQ(pthread_mutex_lock(&m), EOWNERDEAD);
    EXPECT_EQ(pthread_mutex_lock(&m), EDEADLK);
    // Another thread may not unlock it.
    join(start([] { EXPECT_EQ(pthread_mutex_unlock(&m), EPERM); }));
    EXPECT_EQ(pthread_mutex_consistent(&m), 0);
    EXPECT_EQ(pthread_mutex_unlock(&m), 0);

    // A waiter blocked while the owner ends is the one told.
    static std::atomic<bool> held;
    held = false;
    pthread_t owner = start([] {
        ASSERT_EQ(pthread_mutex_lock(&m), 0);
        held = true;
        usleep(20 * 1000);
    });
    while (!held) sched_yield();
    EXPECT_EQ(pthread_mutex_lock(&m), EOWNERDEAD);
    join(owner);
    // Unlocked without being made consistent: unrecoverable for everyone after.
    EXPECT_EQ(pthread_mutex_unlock(&m), 0);
    EXPECT_EQ(pthread_mutex_lock(&m), ENOTRECOVERABLE);
    join(start([] { EXPECT_EQ(pthread_mutex_trylock(&m), ENOTRECOVERABLE); }));
    EXPECT_EQ(pthread_mutex_destroy(&m), 0);
}

namespace {

int g_pipe[2];
std::atomic<bool> g_entered;
std::atomic<int> g_cleaned;

struct CountOnUnwind {
    ~CountOnUnwind() { ++g_cleaned; }
};

// (A plain function: the cancelled thread never returns to free a heap-held callable.)
void expect_cancelled_while_blocked(void (*block)()) {
    g_entered = false;
    g_cleaned = 0;
    pthread_t t;
    ASSERT_EQ(pthread_create(
                  &t, nullptr,
                  [](void* arg) -> void* {
                      CountOnUnwind c;
                      g_entered = true;
                      reinterpret_cast<void (*)()>(arg)();
                      ADD_FAILURE() << "the blocking call returned";
                      return nullptr;
                  },
                  reinterpret_cast<void*>(block)),
              0);
    while (!g_entered) sched_yield();
    usleep(10 * 1000);  // now blocked
    ASSERT_EQ(pthread_cancel(t), 0);
    EXPECT_EQ(join(t), PTHREAD_CANCELED);
    EXPECT_EQ(g_cleaned, 1);
}

}  // namespace

TEST(Cancel, ThreadsBlockedInIoAndSleepHooksAreCancelled) {
    require_patched();
    ASSERT_EQ(pipe(g_pipe), 0);
    expect_cancelled_while_blocked([] {
        char c;
        (void)!read(g_pipe[0], &c, 1);
    });
    expect_cancelled_while_blocked([] {
        pollfd p{g_pipe[0], POLLIN, 0};
        (void)!poll(&p, 1, -1);
    });
    expect_cancelled_while_blocked([] {
        timespec ts{100, 0};
        (void)!nanosleep(&ts, nullptr);
    });
    expect_cancelled_while_blocked([] {
        pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, nullptr);
        (void)!sleep(100);
    });
    close(g_pipe[0]);
    close(g_pipe[1]);
}

TEST(Keys, ValuesBeyondTheInlineSlotsAndTheirDestructors) {
    require_patched();
    static std::vector<pthread_key_t> keys;
    static std::atomic<int> destroyed;
    destroyed = 0;
    keys.clear();
    for (int i = 0; i < 80; ++i) {
        pthread_key_t k;
        ASSERT_EQ(pthread_key_create(&k, [](void*) { ++destroyed; }), 0);
        keys.push_back(k);
    }
    join(start([] {
        for (std::size_t i = 0; i < keys.size(); ++i)
            ASSERT_EQ(pthread_setspecific(keys[i], reinterpret_cast<void*>(i + 1)), 0);
        for (std::size_t i = 0; i < keys.size(); ++i)
            EXPECT_EQ(pthread_getspecific(keys[i]), reinterpret_cast<void*>(i + 1));
    }));
    EXPECT_EQ(destroyed, 80);
    for (pthread_key_t k : keys) pthread_key_delete(k);
}
