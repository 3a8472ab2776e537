// Thread patching (GREEN_PATCH=all), signals: each fiber thread has its own mask, a
// process-directed signal reaches one thread that does not block it, pthread_kill reaches the
// thread it names, and a sigwait thread parks only itself.
#include <signal.h>
#include <time.h>

#include <gtest/gtest.h>

#include <atomic>

#include "support/signal_handler.hpp"

namespace {

std::atomic<int> g_hits{0};
std::atomic<pthread_t> g_hit_thread{0};
void on_usr(int) {
    g_hits.fetch_add(1);
    g_hit_thread.store(pthread_self());
}

sigset_t only(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    return s;
}

bool blocks(int sig) {
    sigset_t now;
    EXPECT_EQ(::pthread_sigmask(SIG_BLOCK, nullptr, &now), 0);
    return sigismember(&now, sig) == 1;
}

// Restores the calling thread's mask and drops what is pending at the end of a test.
struct MaskGuard {
    sigset_t old;
    MaskGuard() { ::pthread_sigmask(SIG_BLOCK, nullptr, &old); }
    ~MaskGuard() {
        sigset_t both = only(SIGUSR1);
        sigaddset(&both, SIGUSR2);
        const timespec zero{0, 0};
        while (::sigtimedwait(&both, nullptr, &zero) > 0) {
        }
        ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }
};

struct Sleep {
    int result = 0;
    int err = 0;
};

void* sleep_half_s(void* arg) {
    auto* s = static_cast<Sleep*>(arg);
    timespec ts{0, 500 * 1000 * 1000};
    s->result = ::nanosleep(&ts, nullptr);
    s->err = errno;
    return nullptr;
}

}  // namespace

TEST(SignalMask, EachThreadHasItsOwnMaskAndNewThreadsInheritTheCreators) {
    MaskGuard g;
    ASSERT_FALSE(blocks(SIGUSR1));
    pthread_t t;
    ASSERT_EQ(pthread_create(
                  &t, nullptr,
                  [](void*) -> void* {
                      sigset_t s = only(SIGUSR1);
                      ::pthread_sigmask(SIG_BLOCK, &s, nullptr);
                      pthread_t inner;
                      bool inherited = false;
                      pthread_create(
                          &inner, nullptr,
                          [](void* p) -> void* {
                              *static_cast<bool*>(p) = blocks(SIGUSR1);
                              return nullptr;
                          },
                          &inherited);
                      pthread_join(inner, nullptr);
                      return reinterpret_cast<void*>(inherited && blocks(SIGUSR1));
                  },
                  nullptr),
              0);
    void* ok = nullptr;
    ASSERT_EQ(pthread_join(t, &ok), 0);
    EXPECT_TRUE(ok);
    EXPECT_FALSE(blocks(SIGUSR1));  // the other thread's block did not reach this one
}

TEST(SignalMask, AProcessSignalInterruptsOneThreadOnly) {
    MaskGuard g;
    green_test::SignalHandler h(SIGUSR2, on_usr);
    const int before = g_hits.load();
    Sleep s[3];
    pthread_t t[3];
    for (int i = 0; i < 3; ++i) ASSERT_EQ(pthread_create(&t[i], nullptr, sleep_half_s, &s[i]), 0);
    sigset_t usr2 = only(SIGUSR2);
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr2, nullptr), 0);  // not main: one of them
    timespec ms20{0, 20 * 1000 * 1000};
    ::nanosleep(&ms20, nullptr);
    ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
    int eintr = 0;
    pthread_t interrupted = 0;
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(pthread_join(t[i], nullptr), 0);
        if (s[i].result == -1 && s[i].err == EINTR) {
            ++eintr;
            interrupted = t[i];
        }
    }
    EXPECT_EQ(eintr, 1);
    EXPECT_EQ(g_hits.load(), before + 1);
    EXPECT_TRUE(pthread_equal(g_hit_thread.load(), interrupted));
}

TEST(SignalMask, PthreadKillInterruptsTheNamedThread) {
    MaskGuard g;
    green_test::SignalHandler h(SIGUSR1, on_usr);
    Sleep s[2];
    pthread_t t[2];
    for (int i = 0; i < 2; ++i) ASSERT_EQ(pthread_create(&t[i], nullptr, sleep_half_s, &s[i]), 0);
    timespec ms20{0, 20 * 1000 * 1000};
    ::nanosleep(&ms20, nullptr);
    ASSERT_EQ(pthread_kill(t[1], SIGUSR1), 0);
    ASSERT_EQ(pthread_kill(t[0], 0), 0);
    ASSERT_EQ(pthread_kill(t[0], 999), EINVAL);
    ASSERT_EQ(pthread_join(t[1], nullptr), 0);
    EXPECT_EQ(s[1].result, -1);
    EXPECT_EQ(s[1].err, EINTR);
    EXPECT_TRUE(pthread_equal(g_hit_thread.load(), t[1]));
    ASSERT_EQ(pthread_join(t[0], nullptr), 0);
    EXPECT_EQ(s[0].result, 0);  // slept its full time
}

TEST(SignalMask, SigwaitThreadTakesASignalBlockedEverywhere) {
    MaskGuard g;
    sigset_t usr1 = only(SIGUSR1);
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr1, nullptr), 0);
    ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);  // held: every thread blocks it
    sigset_t pending;
    ASSERT_EQ(::sigpending(&pending), 0);
    EXPECT_EQ(sigismember(&pending, SIGUSR1), 1);
    pthread_t t;
    ASSERT_EQ(pthread_create(
                  &t, nullptr,
                  [](void*) -> void* {
                      sigset_t s = only(SIGUSR1);
                      int a = 0, b = 0;
                      sigwait(&s, &a);  // the held one
                      sigwait(&s, &b);  // one sent while it waits
                      return reinterpret_cast<void*>(static_cast<long>(a * 100 + b));
                  },
                  nullptr),
              0);
    int ticks = 0;
    for (; ticks < 5; ++ticks) {  // this thread keeps running while that one waits
        timespec ms{0, 2 * 1000 * 1000};
        ::nanosleep(&ms, nullptr);
    }
    ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
    void* r = nullptr;
    ASSERT_EQ(pthread_join(t, &r), 0);
    EXPECT_EQ(reinterpret_cast<long>(r), SIGUSR1 * 100 + SIGUSR1);
    ASSERT_EQ(::sigpending(&pending), 0);
    EXPECT_EQ(sigismember(&pending, SIGUSR1), 0);
}
