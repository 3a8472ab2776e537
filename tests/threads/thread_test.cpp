// pthread_create / std::thread as fibers: one OS thread, unique ids, join/detach/exit/self
// semantics, stack attributes, names and liveness checks.
#include <errno.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "green/green.hpp"
#include "support/threads.hpp"

using namespace green_test;

extern "C" void* c_thread_with_cleanup(void* log);  // cleanup_c.c

TEST(Threads, StdThreadsAreFibersOfOneOsThread) {
    require_patched();
    const pid_t tid = gettid();
    const int before = os_threads();
    constexpr int kThreads = 300;
    std::mutex mu;
    std::condition_variable all_here;
    int arrived = 0, peak_os = 0;
    std::vector<pid_t> tids(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            tids[i] = gettid();
            std::unique_lock lk(mu);
            if (++arrived == kThreads) {
                peak_os = os_threads();  // every "thread" is alive and blocked right now
                all_here.notify_all();
            }
            all_here.wait(lk, [&] { return arrived == kThreads; });
        });
    }
    for (auto& t : threads) t.join();
    for (pid_t t : tids) EXPECT_EQ(t, tid);
    EXPECT_LE(peak_os, before + 1) << "300 blocked threads must not be 300 OS threads";
}

TEST(Threads, JoinReturnsResultAndIdsAreUnique) {
    require_patched();
    std::vector<pthread_t> ids;
    for (long i = 0; i < 20; ++i) {
        pthread_t t;
        ASSERT_EQ(
            pthread_create(
                &t, nullptr, [](void* a) -> void* { return a; }, reinterpret_cast<void*>(i * 3)),
            0);
        ids.push_back(t);
    }
    EXPECT_EQ(std::set<pthread_t>(ids.begin(), ids.end()).size(), ids.size());
    for (pthread_t t : ids) EXPECT_NE(t, pthread_self());
    for (long i = 0; i < 20; ++i) {
        void* r = nullptr;
        ASSERT_EQ(pthread_join(ids[i], &r), 0);
        EXPECT_EQ(r, reinterpret_cast<void*>(i * 3));
    }
}

TEST(Threads, SelfInsideThreadMatchesCreatedId) {
    require_patched();
    static pthread_t seen;
    pthread_t t;
    ASSERT_EQ(pthread_create(
                  &t, nullptr,
                  [](void*) -> void* {
                      seen = pthread_self();
                      return nullptr;
                  },
                  nullptr),
              0);
    ASSERT_EQ(pthread_join(t, nullptr), 0);
    EXPECT_TRUE(pthread_equal(seen, t));
    // The main thread keeps its real id: libc calls on it still work.
    pthread_attr_t a;
    ASSERT_EQ(pthread_getattr_np(pthread_self(), &a), 0);
    pthread_attr_destroy(&a);
}

TEST(Threads, JoinErrors) {
    require_patched();
    static int self_join = -1;
    pthread_t t;
    ASSERT_EQ(pthread_create(
                  &t, nullptr,
                  [](void*) -> void* {
                      self_join = pthread_join(pthread_self(), nullptr);
                      return nullptr;
                  },
                  nullptr),
              0);
    ASSERT_EQ(pthread_join(t, nullptr), 0);
    EXPECT_EQ(self_join, EDEADLK);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    static std::atomic<bool> ran{false};
    ASSERT_EQ(pthread_create(
                  &t, &attr,
                  [](void*) -> void* {
                      ran = true;
                      return nullptr;
                  },
                  nullptr),
              0);
    pthread_attr_destroy(&attr);
    EXPECT_EQ(pthread_join(t, nullptr), EINVAL);
    EXPECT_EQ(pthread_detach(t), EINVAL);
    while (!ran) sched_yield();

    ASSERT_EQ(pthread_create(
                  &t, nullptr, [](void*) -> void* { return nullptr; }, nullptr),
              0);
    EXPECT_EQ(pthread_detach(t), 0);
    EXPECT_EQ(pthread_detach(t), EINVAL);
    for (int i = 0; i < 3; ++i) sched_yield();
    EXPECT_EQ(pthread_join(t, nullptr), ESRCH);  // detached and finished: gone
}

TEST(Threads, ExitRunsCleanupHandlersAndKeyDestructors) {
    require_patched();
    static std::string log;
    log.clear();
    static pthread_key_t key;
    ASSERT_EQ(pthread_key_create(&key, [](void* v) { log += static_cast<const char*>(v); }), 0);
    struct Guard {
        ~Guard() { log += "[dtor]"; }
    };
    pthread_t t;
    ASSERT_EQ(pthread_create(
                  &t, nullptr,
                  [](void*) -> void* {
                      pthread_setspecific(key, "[key]");
                      Guard g;
                      pthread_exit(reinterpret_cast<void*>(7));
                  },
                  nullptr),
              0);
    void* r = nullptr;
    ASSERT_EQ(pthread_join(t, &r), 0);
    EXPECT_EQ(r, reinterpret_cast<void*>(7));
    EXPECT_EQ(log, "[dtor][key]");

    // C code: pthread_cleanup_push handlers run innermost first, then the exit value arrives.
    char clog[64] = {};
    ASSERT_EQ(pthread_create(&t, nullptr, c_thread_with_cleanup, clog), 0);
    ASSERT_EQ(pthread_join(t, &r), 0);
    EXPECT_STREQ(clog, "inner,outer,");
    EXPECT_EQ(r, reinterpret_cast<void*>(42));
    pthread_key_delete(key);
}

TEST(Threads, StackSizeIsHonouredAndReported) {
    require_patched();
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    ASSERT_EQ(pthread_attr_setstacksize(&attr, 256 * 1024), 0);
    struct Out {
        void* addr = nullptr;
        size_t size = 0;
        char* local = nullptr;
    } out;
    pthread_t t;
    ASSERT_EQ(pthread_create(
                  &t, &attr,
                  [](void* p) -> void* {
                      auto* o = static_cast<Out*>(p);
                      char here = 0;
                      o->local = &here;
                      pthread_attr_t a;
                      if (pthread_getattr_np(pthread_self(), &a) == 0) {
                          pthread_attr_getstack(&a, &o->addr, &o->size);
                          pthread_attr_destroy(&a);
                      }
                      return nullptr;
                  },
                  &out),
              0);
    pthread_attr_destroy(&attr);
    ASSERT_EQ(pthread_join(t, nullptr), 0);
    EXPECT_GE(out.size, 256u * 1024);
    EXPECT_LT(out.size, 1024u * 1024);
    EXPECT_GE(out.local, static_cast<char*>(out.addr));
    EXPECT_LT(out.local, static_cast<char*>(out.addr) + out.size);
}

TEST(Threads, NamesAndLiveness) {
    require_patched();
    static std::atomic<bool> go{false};
    pthread_t t;
    ASSERT_EQ(pthread_create(
                  &t, nullptr,
                  [](void*) -> void* {
                      while (!go) sched_yield();
                      return nullptr;
                  },
                  nullptr),
              0);
    EXPECT_EQ(pthread_setname_np(t, "worker-1"), 0);
    EXPECT_EQ(pthread_setname_np(t, "a-name-that-is-far-too-long"), ERANGE);
    char name[16];
    ASSERT_EQ(pthread_getname_np(t, name, sizeof name), 0);
    EXPECT_STREQ(name, "worker-1");
    EXPECT_EQ(pthread_getname_np(t, name, 4), ERANGE);
    EXPECT_EQ(pthread_kill(t, 0), 0);
    go = true;
    for (int i = 0; i < 3; ++i) sched_yield();
    EXPECT_EQ(pthread_kill(t, 0), ESRCH);
    EXPECT_EQ(pthread_join(t, nullptr), 0);
}

TEST(Threads, MainThreadExitWaitsForThreads) {
    require_patched();
    // pthread_exit in main must let the fiber threads finish, then exit(0) (atexit runs).
    FILE* p = popen(MAIN_EXIT_PROG " 2>&1", "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[256];
    while (fgets(buf, sizeof buf, p)) out += buf;
    const int status = pclose(p);
    ASSERT_TRUE(WIFEXITED(status)) << out;
    EXPECT_EQ(WEXITSTATUS(status), 0) << out;
    EXPECT_EQ(out, "main exits\nthread 0 done\nthread 1 done\nthread 2 done\natexit\n");
}

TEST(Threads, CancelEndsAThreadAtACancellationPoint) {
    require_patched();
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    static bool mutex_held_in_cleanup = false;
    pthread_t t;
    ASSERT_EQ(pthread_create(
                  &t, nullptr,
                  [](void*) -> void* {
                      pthread_mutex_lock(&m);
                      pthread_cleanup_push(
                          [](void*) {
                              mutex_held_in_cleanup = pthread_mutex_trylock(&m) == EBUSY;
                              pthread_mutex_unlock(&m);
                          },
                          nullptr);
                      for (;;) pthread_cond_wait(&cv, &m);  // never signalled
                      pthread_cleanup_pop(0);
                      return nullptr;
                  },
                  nullptr),
              0);
    sched_yield();  // it now waits
    ASSERT_EQ(pthread_cancel(t), 0);
    void* r = nullptr;
    ASSERT_EQ(pthread_join(t, &r), 0);
    EXPECT_EQ(r, PTHREAD_CANCELED);
    EXPECT_TRUE(mutex_held_in_cleanup);
    EXPECT_EQ(pthread_mutex_trylock(&m), 0);  // the handler released it
    pthread_mutex_unlock(&m);

    // Disabled cancellation waits until it is enabled again, at pthread_testcancel.
    static int progress = 0;
    ASSERT_EQ(pthread_create(
                  &t, nullptr,
                  [](void*) -> void* {
                      int old;
                      pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
                      sched_yield();
                      pthread_testcancel();
                      progress = 1;
                      pthread_setcancelstate(old, nullptr);
                      pthread_testcancel();
                      progress = 2;
                      return nullptr;
                  },
                  nullptr),
              0);
    sched_yield();
    ASSERT_EQ(pthread_cancel(t), 0);
    ASSERT_EQ(pthread_join(t, &r), 0);
    EXPECT_EQ(r, PTHREAD_CANCELED);
    EXPECT_EQ(progress, 1);
}

TEST(Threads, AGreenletAskingForItsStackGetsItsOwn) {
    require_patched();
    void* addr = nullptr;
    size_t size = 0;
    char* local = nullptr;
    green::spawn([&] {
        char here = 0;
        local = &here;
        pthread_attr_t a;
        if (pthread_getattr_np(pthread_self(), &a) == 0) {
            pthread_attr_getstack(&a, &addr, &size);
            pthread_attr_destroy(&a);
        }
    }).join();
    EXPECT_GE(local, static_cast<char*>(addr));
    EXPECT_LT(local, static_cast<char*>(addr) + size);
}
