// Linked hooks, signals: a handler that runs while a fiber waits in poll/select/sleep makes that
// call return EINTR (or sleep's time left) as natively; sigaction/signal queries see the
// program's own handler; ignored signals interrupt nothing.
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <time.h>

#include <atomic>

#include "util.hpp"

using namespace hooktest;

namespace {

std::atomic<int> g_hits{0};
void on_signal(int) {
    errno = 12345;  // a handler that clobbers errno must not leak it into the program
    g_hits.fetch_add(1);
}

struct Handler {
    int sig;
    explicit Handler(int s, int flags = 0, void (*fn)(int) = on_signal) : sig(s) {
        struct sigaction sa {};
        sa.sa_handler = fn;
        sa.sa_flags = flags;
        sigemptyset(&sa.sa_mask);
        EXPECT_EQ(::sigaction(sig, &sa, nullptr), 0);
    }
    ~Handler() { ::signal(sig, SIG_DFL); }
};

// Raises `sig` in this thread from another fiber after `after`.
green::Greenlet<void> raise_later(int sig, green::Duration after) {
    return green::spawn([sig, after] {
        green::sleep(after);
        ::raise(sig);
    });
}

}  // namespace

TEST(SignalHooks, NanosleepIsInterruptedWithTheTimeLeft) {
    Handler h(SIGUSR2);
    const int before = g_hits.load();
    auto r = raise_later(SIGUSR2, 30ms);
    const auto t0 = green::Clock::now();
    timespec ts{5, 0}, rem{};
    errno = 0;
    EXPECT_EQ(::nanosleep(&ts, &rem), -1);
    EXPECT_EQ(errno, EINTR);
    EXPECT_LT(since(t0), 2s);
    EXPECT_GE(rem.tv_sec, 3);
    EXPECT_EQ(g_hits.load(), before + 1);
    r.join();
}

TEST(SignalHooks, SleepReturnsTheSecondsLeft) {
    Handler h(SIGUSR2);
    auto r = raise_later(SIGUSR2, 20ms);
    auto g = green::spawn([] { return ::sleep(10); });
    const unsigned left = g.get();
    EXPECT_GE(left, 9u);
    EXPECT_LE(left, 10u);
    r.join();
}

TEST(SignalHooks, PollAndSelectReturnEintr) {
    Handler h(SIGALRM);
    Fds p = make_pipe();
    auto r = raise_later(SIGALRM, 20ms);
    pollfd pf{p.a, POLLIN, 0};
    errno = 0;
    EXPECT_EQ(::poll(&pf, 1, 5000), -1);
    EXPECT_EQ(errno, EINTR);
    r.join();

    auto r2 = raise_later(SIGALRM, 20ms);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p.a, &rs);
    timeval tv{5, 0};
    const auto t0 = green::Clock::now();
    EXPECT_EQ(::select(p.a + 1, &rs, nullptr, nullptr, &tv), -1);
    EXPECT_EQ(errno, EINTR);
    EXPECT_LT(since(t0), 2s);
    r2.join();
}

TEST(SignalHooks, ReadyDescriptorsWinOverANewSignal) {
    Handler h(SIGUSR2);
    Fds p = make_pipe();
    ASSERT_EQ(::write(p.b, "x", 1), 1);
    pollfd pf{p.a, POLLIN, 0};
    EXPECT_EQ(::poll(&pf, 1, 1000), 1);
}

TEST(SignalHooks, IgnoredSignalInterruptsNothing) {
    ::signal(SIGUSR2, SIG_IGN);
    auto r = raise_later(SIGUSR2, 10ms);
    const auto t0 = green::Clock::now();
    EXPECT_EQ(::usleep(80 * 1000), 0);
    EXPECT_GE(since(t0), 79ms);
    r.join();
    ::signal(SIGUSR2, SIG_DFL);
}

TEST(SignalHooks, QueriesSeeTheProgramsHandler) {
    Handler h(SIGUSR1, SA_RESTART);
    struct sigaction now {};
    ASSERT_EQ(::sigaction(SIGUSR1, nullptr, &now), 0);
    EXPECT_EQ(now.sa_handler, &on_signal);
    EXPECT_TRUE(now.sa_flags & SA_RESTART);
    EXPECT_FALSE(now.sa_flags & SA_SIGINFO);
    EXPECT_EQ(::signal(SIGUSR1, SIG_IGN), &on_signal);
    EXPECT_EQ(::signal(SIGUSR1, &on_signal), SIG_IGN);
    // The handler itself runs, and errno is what the program had.
    const int before = g_hits.load();
    errno = 77;
    ::raise(SIGUSR1);
    EXPECT_EQ(errno, 77);
    EXPECT_EQ(g_hits.load(), before + 1);
}

TEST(SignalHooks, ResetHandIsHonoured) {
    Handler h(SIGUSR1, SA_RESETHAND);
    ::raise(SIGUSR1);
    struct sigaction now {};
    ASSERT_EQ(::sigaction(SIGUSR1, nullptr, &now), 0);
    EXPECT_EQ(now.sa_handler, SIG_DFL);
}
