// The core readiness wait (wait_fd) on real pipes and sockets: wake-ups, deadlines, close while
// waiting, fd-number reuse without stale readiness, kill during a wait.
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include <green/green.hpp>

#include "support/fd_limit.hpp"
#include "support/pipe.hpp"

using namespace std::chrono_literals;

using green_test::Pipe;

TEST(WaitFd, ReadableAfterAnotherFiberWrites) {
    Pipe p;
    auto writer = green::spawn([&] {
        green::sleep(10ms);
        EXPECT_EQ(::write(p.w, "x", 1), 1);
    });
    int r = green::wait_fd(p.r, POLLIN, 5s);
    EXPECT_TRUE(r & POLLIN);
    char c;
    EXPECT_EQ(::read(p.r, &c, 1), 1);
    writer.join();
}

TEST(WaitFd, WritableImmediately) {
    Pipe p;
    EXPECT_TRUE(green::wait_fd(p.w, POLLOUT, 1s) & POLLOUT);
}

TEST(WaitFd, DeadlineReturnsZero) {
    Pipe p;
    auto t0 = green::Clock::now();
    EXPECT_EQ(green::wait_fd(p.r, POLLIN, 20ms), 0);
    EXPECT_GE(green::Clock::now() - t0, 20ms);
    EXPECT_EQ(green::wait_fd(p.r, POLLIN, 0ms), 0);
    EXPECT_EQ(green::wait_fd(p.r, POLLIN, -1s), 0);
}

TEST(WaitFd, ExpiredDeadlineStillSeesReadiness) {
    Pipe p;
    ASSERT_EQ(::write(p.w, "x", 1), 1);
    EXPECT_TRUE(green::wait_fd(p.r, POLLIN, 0ms) & POLLIN);
}

TEST(WaitFd, InvalidFd) {
    EXPECT_EQ(green::wait_fd(-1, POLLIN, 1s), -EBADF);
    EXPECT_EQ(green::wait_fd(987654, POLLIN, 100ms), -EBADF);
}

TEST(WaitFd, CloseWakesWaiterWithEbadf) {
    Pipe p;
    int result = 1;
    auto waiter = green::spawn([&] { result = green::wait_fd(p.r, POLLIN, 5s); });
    green::sleep(5ms);
    Pipe::close_fd(p.r);
    waiter.join();
    EXPECT_EQ(result, -EBADF);  // woken by the close, not by its 5 s deadline (-ETIMEDOUT)
}

TEST(WaitFd, ReusedFdNumberGetsNoStaleWakeup) {
    // Make fd N readable while registered, close it, reuse the number for an empty pipe: a wait
    // on the new fd must not return the old readiness.
    Pipe a;
    ASSERT_EQ(::write(a.w, "x", 1), 1);
    EXPECT_TRUE(green::wait_fd(a.r, POLLIN, 1s) & POLLIN);
    ASSERT_EQ(::write(a.w, "y", 1), 1);
    green::sleep(1ms);  // let the backend see the edge for the old fd
    const int old = a.r;
    Pipe::close_fd(a.r);
    Pipe b;
    if (b.r != old) GTEST_SKIP() << "kernel did not reuse the fd number";
    EXPECT_EQ(green::wait_fd(b.r, POLLIN, 30ms), 0);
}

namespace {
int stream_pair(int sv[2]) {
    return ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
}
}  // namespace

TEST(WaitFd, NumberClosedUnseenThenHandedToASocketStillWakes) {
    // Closed where no hub saw it (as fclose of an fdopen'd socket does under the hooks): the
    // epoll set dropped the file, and a registration taken for the old file would leave a wait
    // on the number's next file parked until its deadline.
    int sv[2];
    ASSERT_EQ(stream_pair(sv), 0);
    EXPECT_EQ(green::wait_fd(sv[0], POLLIN, 10ms), 0);  // registered, nothing to read
    const int old = sv[0];
    ::close(sv[0]);
    ::close(sv[1]);
    int nv[2];
    ASSERT_EQ(stream_pair(nv), 0);
    if (nv[0] != old) {
        ::close(nv[0]);
        ::close(nv[1]);
        GTEST_SKIP() << "kernel did not reuse the fd number";
    }
    green::Socket s = green::Socket::adopt(nv[0]);  // green is handed the number anew
    auto writer = green::spawn([&] {
        green::sleep(10ms);
        EXPECT_EQ(::write(nv[1], "x", 1), 1);
    });
    EXPECT_TRUE(green::wait_fd(s.fd(), POLLIN, 5s) & POLLIN);
    writer.join();
    Pipe::close_fd(nv[1]);
}

TEST(WaitFd, NumberClosedOnAnotherHubAndReusedStillWakes) {
    // Another hub registered the number; this one closes it (notify_close reaches this hub
    // only) and the number comes back for a new file, already readable.
    int sv[2];
    ASSERT_EQ(stream_pair(sv), 0);
    const int num = sv[0];
    std::atomic<int> phase{0};
    int got = -1;
    std::thread other([&] {
        EXPECT_EQ(green::wait_fd(num, POLLIN, 10ms), 0);  // registered on that hub
        phase = 1;
        while (phase.load() == 1) std::this_thread::yield();
        if (phase.load() == 2) got = green::wait_fd(num, POLLIN, 5s);
    });
    while (phase.load() == 0) std::this_thread::yield();
    Pipe::close_fd(sv[0]);
    Pipe::close_fd(sv[1]);
    int nv[2];
    ASSERT_EQ(stream_pair(nv), 0);
    const bool reused = nv[0] == num;
    if (reused) {
        EXPECT_EQ(::write(nv[1], "x", 1), 1);
    }
    phase = reused ? 2 : 3;
    other.join();
    Pipe::close_fd(nv[0]);
    Pipe::close_fd(nv[1]);
    if (!reused) {
        GTEST_SKIP() << "kernel did not reuse the fd number";
    }
    EXPECT_TRUE(got > 0 && (got & POLLIN)) << got;
}

TEST(WaitFd, KillDuringWaitUnwindsAndLeavesBackendConsistent) {
    Pipe p;
    auto g = green::spawn([&] { green::wait_fd(p.r, POLLIN); });
    green::sleep(5ms);
    g.kill();
    EXPECT_TRUE(g.killed());
    // The fd still works for the next waiter.
    auto w = green::spawn([&] { return green::wait_fd(p.r, POLLIN, 2s); });
    green::sleep(1ms);
    ASSERT_EQ(::write(p.w, "z", 1), 1);
    EXPECT_TRUE(w.get() & POLLIN);
}

TEST(WaitFd, TimeoutDuringWait) {
    Pipe p;
    EXPECT_THROW(
        {
            green::Timeout t(10ms);
            green::wait_fd(p.r, POLLIN);
        },
        green::Timeout);
}

TEST(WaitFd, ManyWaitersOnOneFdAllWake) {
    Pipe p;
    std::vector<green::Greenlet<int>> gs;
    for (int i = 0; i < 10; ++i)
        gs.push_back(green::spawn([&] { return green::wait_fd(p.r, POLLIN, 2s); }));
    green::sleep(2ms);
    ASSERT_EQ(::write(p.w, "x", 1), 1);
    for (auto& g : gs) EXPECT_TRUE(g.get() & POLLIN);
}

TEST(WaitFd, PeerHangupWakesReader) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    auto g = green::spawn([&] { return green::wait_fd(sv[0], POLLIN, 2s); });
    green::sleep(2ms);
    ::close(sv[1]);
    EXPECT_GT(g.get(), 0);
    green::notify_close(sv[0]);
    ::close(sv[0]);
}

TEST(WaitFd, RegularFileIsAlwaysReady) {
    int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(green::wait_fd(fd, POLLIN, 1s) & POLLIN);
    green::notify_close(fd);
    ::close(fd);
}

TEST(WaitFd, ThousandPipesPingPong) {
    constexpr int kN = 1000;
    std::vector<std::unique_ptr<Pipe>> pipes;
    for (int i = 0; i < kN; ++i) pipes.push_back(std::make_unique<Pipe>());
    int done = 0;
    std::vector<green::Greenlet<void>> gs;
    for (auto& pp : pipes) {
        Pipe* p = pp.get();
        gs.push_back(green::spawn([p, &done] {
            char c;
            while (::read(p->r, &c, 1) != 1) ASSERT_GT(green::wait_fd(p->r, POLLIN, 5s), 0);
            ++done;
        }));
    }
    green::sleep(1ms);
    for (auto& p : pipes) ASSERT_EQ(::write(p->w, "!", 1), 1);
    green::joinall(gs, 10s);
    EXPECT_EQ(done, kN);
}

// More waiters ready at once than one poll takes (Hub::kTicksPerPoll) and than the io_uring
// completion ring holds (16,384): the rest wait in the kernel for later turns, and none is lost.
TEST(WaitFd, MoreReadyAtOnceThanOnePollTakesAllWake) {
    const int n = green_test::raise_fd_limit(17000, 200);  // below 16,384 misses the overflow
    ASSERT_GT(n, 1000);
    std::vector<int> fds;
    for (int i = 0; i < n; ++i) {
        const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        ASSERT_GE(fd, 0);
        fds.push_back(fd);
    }
    int waiting = 0, woken = 0;
    std::vector<green::Greenlet<void>> gs;
    green::SpawnOptions small;
    small.stack_size = 16 * 1024;
    for (const int fd : fds) {
        gs.push_back(green::spawn(small, [fd, &waiting, &woken] {
            ++waiting;
            EXPECT_GT(green::wait_fd(fd, POLLIN, 30s), 0);
            ++woken;
        }));
    }
    while (waiting < n) green::sleep(1ms);
    const std::uint64_t one = 1;
    for (const int fd : fds) ASSERT_EQ(::write(fd, &one, sizeof one), 8);
    EXPECT_EQ(green::joinall(gs, 60s).size(), gs.size());
    EXPECT_EQ(woken, n);
    for (const int fd : fds) {
        green::notify_close(fd);  // the contract (hub.hpp): a raw close leaves the fd registered
        ::close(fd);
    }
}
