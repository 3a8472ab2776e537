// Linked hooks, signals: a handler that runs while a fiber waits in poll/select/sleep makes that
// call return EINTR (or sleep's time left) as natively; sigaction/signal queries see the
// program's own handler; ignored signals interrupt nothing.
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <time.h>

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include <green/green.hpp>

#include "support/fd_pair.hpp"
#include "support/signal_handler.hpp"
#include "support/stopwatch.hpp"

using namespace std::chrono_literals;
using namespace green_test;

namespace {

std::atomic<int> g_hits{0};
void on_signal(int) {
    errno = 12345;  // a handler that clobbers errno must not leak it into the program
    g_hits.fetch_add(1);
}

// Raises `sig` in this thread from another fiber after `after`.
green::Greenlet<void> raise_later(int sig, green::Duration after) {
    return green::spawn([sig, after] {
        green::sleep(after);
        ::raise(sig);
    });
}

}  // namespace

TEST(SignalHooks, NanosleepIsInterruptedWithTheTimeLeft) {
    SignalHandler h(SIGUSR2, on_signal);
    const int before = g_hits.load();
    auto r = raise_later(SIGUSR2, 30ms);
    timespec ts{5, 0}, rem{};
    errno = 0;
    EXPECT_EQ(::nanosleep(&ts, &rem), -1);
    EXPECT_EQ(errno, EINTR);
    EXPECT_GE(rem.tv_sec, 3);
    EXPECT_EQ(g_hits.load(), before + 1);
    r.join();
}

TEST(SignalHooks, SleepReturnsTheSecondsLeft) {
    SignalHandler h(SIGUSR2, on_signal);
    auto r = raise_later(SIGUSR2, 20ms);
    auto g = green::spawn([] { return ::sleep(10); });
    const unsigned left = g.get();
    EXPECT_GE(left, 9u);
    EXPECT_LE(left, 10u);
    r.join();
}

TEST(SignalHooks, PollAndSelectReturnEintr) {
    SignalHandler h(SIGALRM, on_signal);
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
    EXPECT_EQ(::select(p.a + 1, &rs, nullptr, nullptr, &tv), -1);
    EXPECT_EQ(errno, EINTR);
    r2.join();
}

TEST(SignalHooks, ReadyDescriptorsWinOverANewSignal) {
    SignalHandler h(SIGUSR2, on_signal);
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
    SignalHandler h(SIGUSR1, on_signal, SA_RESTART);
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
    SignalHandler h(SIGUSR1, on_signal, SA_RESETHAND);
    ::raise(SIGUSR1);
    struct sigaction now {};
    ASSERT_EQ(::sigaction(SIGUSR1, nullptr, &now), 0);
    EXPECT_EQ(now.sa_handler, SIG_DFL);
}

// ---- one receiver per signal, restarts, the sigwait family (linked mode: fibers, no threads)

TEST(SignalHooks, OneSignalInterruptsOneWaiterOnly) {
    SignalHandler h(SIGUSR2, on_signal);
    Fds p = make_pipe();
    const int before = g_hits.load();
    std::vector<green::Greenlet<int>> waiters;
    for (int i = 0; i < 5; ++i) {
        waiters.push_back(green::spawn([&p] {
            pollfd pf{p.a, POLLIN, 0};
            const int r = ::poll(&pf, 1, 5000);
            return r < 0 && errno == EINTR ? -1 : r;
        }));
    }
    green::sleep(20ms);  // all five parked in poll
    ::raise(SIGUSR2);
    green::sleep(20ms);
    ASSERT_EQ(::write(p.b, "x", 1), 1);  // releases the other four
    int eintr = 0, ready = 0;
    for (auto& g : waiters) {
        const int r = g.get();
        eintr += r == -1;
        ready += r == 1;
    }
    EXPECT_EQ(eintr, 1);
    EXPECT_EQ(ready, 4);
    EXPECT_EQ(g_hits.load(), before + 1);
}

TEST(SignalHooks, PipeReadRestartsUnderSaRestartOnly) {
    for (const int flags : {SA_RESTART, 0}) {
        SignalHandler h(SIGUSR2, on_signal, flags);
        Fds p = make_pipe();
        auto reader = green::spawn([&p] {
            char c;
            const ssize_t r = ::read(p.a, &c, 1);
            return r < 0 ? -errno : static_cast<int>(r);
        });
        green::sleep(20ms);
        ::raise(SIGUSR2);
        green::sleep(20ms);
        ASSERT_EQ(::write(p.b, "x", 1), 1);
        EXPECT_EQ(reader.get(), flags ? 1 : -EINTR) << "flags " << flags;
    }
}

TEST(SignalHooks, SocketRecvFailsWithEintrWithoutSaRestart) {
    SignalHandler h(SIGUSR2, on_signal);
    Fds s = stream_pair();
    auto reader = green::spawn([&s] {
        char c;
        const ssize_t r = ::recv(s.a, &c, 1, 0);
        return r < 0 ? -errno : static_cast<int>(r);
    });
    green::sleep(20ms);
    ::raise(SIGUSR2);
    green::sleep(20ms);
    ASSERT_EQ(::send(s.b, "x", 1, 0), 1);
    EXPECT_EQ(reader.get(), -EINTR);
}

namespace {
struct Blocked {
    sigset_t set, old;
    explicit Blocked(int sig) {
        sigemptyset(&set);
        sigaddset(&set, sig);
        EXPECT_EQ(::pthread_sigmask(SIG_BLOCK, &set, &old), 0);
    }
    ~Blocked() {
        const timespec zero{0, 0};
        while (::sigtimedwait(&set, nullptr, &zero) > 0) {
        }
        ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }
};
}  // namespace

TEST(SignalHooks, SigwaitParksOnlyItsFiber) {
    Blocked b(SIGUSR1);
    int ticks = 0;
    bool stop = false;
    auto ticker = green::spawn([&] {
        while (!stop) {
            ++ticks;
            ::usleep(1000);
        }
    });
    auto waiter = green::spawn([&b] {
        int sig = 0;
        EXPECT_EQ(::sigwait(&b.set, &sig), 0);
        return sig;
    });
    // The ticker only moves while the hub runs: the sigwait must not hold it.
    for (int i = 0; i < 2000 && ticks < 5; ++i) green::sleep(1ms);
    EXPECT_GE(ticks, 5);
    ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
    EXPECT_EQ(waiter.get(), SIGUSR1);
    stop = true;
    ticker.join();
}

TEST(SignalHooks, SigtimedwaitTimesOutAndSigwaitinfoReportsTheSender) {
    Blocked b(SIGUSR1);
    auto timed = green::spawn([&b] {
        const timespec ts{0, 30 * 1000 * 1000};
        siginfo_t info;
        const int r = ::sigtimedwait(&b.set, &info, &ts);
        return r < 0 ? -errno : r;
    });
    EXPECT_EQ(timed.get(), -EAGAIN);

    auto waiter = green::spawn([&b] {
        siginfo_t info{};
        const int r = ::sigwaitinfo(&b.set, &info);
        EXPECT_EQ(info.si_signo, SIGUSR1);
        EXPECT_EQ(info.si_code, SI_QUEUE);
        EXPECT_EQ(info.si_value.sival_int, 7);
        return r;
    });
    green::sleep(10ms);
    sigval v{};
    v.sival_int = 7;
    ASSERT_EQ(::sigqueue(::getpid(), SIGUSR1, v), 0);
    EXPECT_EQ(waiter.get(), SIGUSR1);
}

TEST(SignalHooks, PauseReturnsAfterTheHandler) {
    SignalHandler h(SIGUSR2, on_signal);
    const int before = g_hits.load();
    auto r = raise_later(SIGUSR2, 20ms);
    errno = 0;
    EXPECT_EQ(::pause(), -1);
    EXPECT_EQ(errno, EINTR);
    EXPECT_EQ(g_hits.load(), before + 1);
    r.join();
}
