// Linked hooks, multiplexing: poll, ppoll, select, pselect and epoll_wait with a timeout park the
// fiber on the same descriptors, return libc's exact results, and honour a ppoll signal mask.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include <gtest/gtest.h>

#include <atomic>

#include <green/green.hpp>

#include "support/fd_pair.hpp"
#include "support/overlap.hpp"
#include "support/stopwatch.hpp"
#include "support/ticker.hpp"

using namespace std::chrono_literals;
using namespace green_test;

namespace {

void write_later(int fd, green::Duration after) {
    green::spawn([fd, after] {
        green::sleep(after);
        EXPECT_EQ(::write(fd, "w", 1), 1);
    });
}

}  // namespace

TEST(PollHooks, PollOnOnePipeWaitsCooperatively) {
    Fds p = make_pipe();
    Ticker ticker;
    // The byte comes once the ticker ticked 5 times with poll parked: a poll that held the hub
    // would stop the writer too, and time out (0).
    auto writer = ticker.after_ticks(5, [&] { EXPECT_EQ(::write(p.b, "w", 1), 1); });
    pollfd fd{p.a, POLLIN, 0};
    EXPECT_EQ(::poll(&fd, 1, 5000), 1);
    EXPECT_EQ(fd.revents, POLLIN);
    writer.join();
}

TEST(PollHooks, PollTimeoutReturnsZero) {
    Fds p = make_pipe();
    Ticker ticker;
    const long ticks_before = ticker.ticks();
    const auto t0 = green::Clock::now();
    pollfd fd{p.a, POLLIN, 0};
    EXPECT_EQ(::poll(&fd, 1, 100), 0);
    EXPECT_GE(since(t0), 99ms);
    EXPECT_EQ(fd.revents, 0);
    // Parking handed the hub to the ticker, queued ahead of any wake-up of this fiber, however
    // late the timer fired: a poll that held the hub for its 100 ms would see no tick.
    EXPECT_GT(ticker.ticks(), ticks_before);
}

TEST(PollHooks, PollOnManyFdsReportsTheReadyOne) {
    Fds p1 = make_pipe(), p2 = make_pipe(), p3 = make_pipe();
    write_later(p3.b, 30ms);
    pollfd fds[4] = {{p1.a, POLLIN, 0}, {-1, POLLIN, 0}, {p2.a, POLLIN, 0}, {p3.a, POLLIN, 0}};
    EXPECT_EQ(::poll(fds, 4, 5000), 1);
    EXPECT_EQ(fds[0].revents, 0);
    EXPECT_EQ(fds[1].revents, 0);
    EXPECT_EQ(fds[2].revents, 0);
    EXPECT_EQ(fds[3].revents, POLLIN);
}

TEST(PollHooks, PollWithNoFdsIsACooperativeSleep) {
    const auto t0 = green::Clock::now();
    Overlap overlap;
    auto other = green::spawn([&] {
        overlap.enter();
        const int rc = ::poll(nullptr, 0, 100);
        overlap.woke();
        return rc;
    });
    overlap.enter();
    EXPECT_EQ(::poll(nullptr, 0, 100), 0);
    overlap.woke();
    EXPECT_EQ(other.get(), 0);
    EXPECT_GE(since(t0), 99ms);
    EXPECT_EQ(overlap.started_before_first_wake(), 2);  // the two sleeps overlapped
}

TEST(PollHooks, ClosedFdIsPollnvalAtOnce) {
    Fds p = make_pipe();
    const int fd = p.a;
    ::close(p.a);
    p.a = -1;
    pollfd pf{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&pf, 1, 5000), 1);
    EXPECT_EQ(pf.revents, POLLNVAL);
}

TEST(PollHooks, SelectWaitsAndReportsRemainingTime) {
    Fds p = make_pipe(), q = make_pipe();
    write_later(q.b, 30ms);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p.a, &r);
    FD_SET(q.a, &r);
    timeval tv{5, 0};
    EXPECT_EQ(::select(std::max(p.a, q.a) + 1, &r, nullptr, nullptr, &tv), 1);
    EXPECT_FALSE(FD_ISSET(p.a, &r));
    EXPECT_TRUE(FD_ISSET(q.a, &r));
    EXPECT_LT(tv.tv_sec, 5);
    EXPECT_GE(tv.tv_sec, 4);

    FD_ZERO(&r);
    FD_SET(p.a, &r);
    timeval shortv{0, 50000};
    const auto t0 = green::Clock::now();
    EXPECT_EQ(::select(p.a + 1, &r, nullptr, nullptr, &shortv), 0);
    EXPECT_GE(since(t0), 49ms);
    EXPECT_FALSE(FD_ISSET(p.a, &r));
    EXPECT_EQ(shortv.tv_sec, 0);
    EXPECT_EQ(shortv.tv_usec, 0);
}

TEST(PollHooks, SelectForWritingAndPselect) {
    Fds p = make_pipe();
    fd_set w;
    FD_ZERO(&w);
    FD_SET(p.b, &w);
    timeval tv{1, 0};
    EXPECT_EQ(::select(p.b + 1, nullptr, &w, nullptr, &tv), 1);
    EXPECT_TRUE(FD_ISSET(p.b, &w));

    write_later(p.b, 20ms);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p.a, &r);
    timespec ts{5, 0};
    EXPECT_EQ(::pselect(p.a + 1, &r, nullptr, nullptr, &ts, nullptr), 1);
    EXPECT_TRUE(FD_ISSET(p.a, &r));
}

TEST(PollHooks, EpollWaitOnAProgramsEpollSet) {
    Fds p = make_pipe();
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 42;
    ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, p.a, &ev), 0);
    Ticker ticker;
    // The byte comes once the ticker ticked 4 times with epoll_wait parked; one that held the
    // hub would stop the writer too, and time out (0).
    auto writer = ticker.after_ticks(4, [&] { EXPECT_EQ(::write(p.b, "w", 1), 1); });
    epoll_event out[4];
    EXPECT_EQ(::epoll_wait(ep, out, 4, 5000), 1);
    EXPECT_EQ(out[0].data.u64, 42u);
    writer.join();
    const auto t0 = green::Clock::now();
    char c;
    EXPECT_EQ(::read(p.a, &c, 1), 1);
    EXPECT_EQ(::epoll_wait(ep, out, 4, 60), 0);
    EXPECT_GE(since(t0), 59ms);
    ::close(ep);
}

namespace {
std::atomic<int> g_usr1{0};
}

TEST(PollHooks, PpollSignalMaskLetsASignalInterrupt) {
    struct sigaction sa {};
    sa.sa_handler = [](int) { g_usr1.fetch_add(1); };
    ASSERT_EQ(::sigaction(SIGUSR1, &sa, nullptr), 0);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old), 0);
    Fds p = make_pipe();
    const pthread_t self = ::pthread_self();
    green::spawn([self] {
        green::sleep(30ms);
        ::pthread_kill(self, SIGUSR1);  // blocked here: stays pending until ppoll unblocks it
    });
    sigset_t during = old;
    sigdelset(&during, SIGUSR1);
    pollfd pf{p.a, POLLIN, 0};
    timespec ts{5, 0};
    errno = 0;
    EXPECT_EQ(::ppoll(&pf, 1, &ts, &during), -1);
    EXPECT_EQ(errno, EINTR);
    EXPECT_EQ(g_usr1.load(), 1);
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ::signal(SIGUSR1, SIG_DFL);
}
