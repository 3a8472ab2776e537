// Linked hooks, pipes and eventfds: reads wait for readiness in the fiber; a large write to a pipe
// whose reader is another fiber of the same thread completes (no deadlock); green never sets
// O_NONBLOCK on a pipe, since pipes are often shared with other processes; closing every
// descriptor (a close loop, close_range, closefrom) leaves the hub's own working.
#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <green/green.hpp>

#include "support/fd_pair.hpp"

using namespace std::chrono_literals;
using namespace green_test;

TEST(PipeHooks, ReadWaitsCooperatively) {
    Fds p = make_pipe();
    int ticks = 0;
    auto reader = green::spawn([&] {
        char buf[16];
        const ssize_t n = ::read(p.a, buf, sizeof buf);
        return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    });
    auto ticker = green::spawn([&] {
        for (int i = 0; i < 10; ++i) {
            ++ticks;
            ::usleep(5 * 1000);
        }
    });
    ticker.join();
    EXPECT_EQ(ticks, 10);
    EXPECT_FALSE(reader.ready());
    EXPECT_EQ(::write(p.b, "pipe", 4), 4);
    EXPECT_EQ(reader.get(), "pipe");
}

TEST(PipeHooks, LargeWriteToAFiberReaderCompletes) {
    Fds p = make_pipe();
    const std::size_t size = 4 << 20;
    auto reader = green::spawn([&] {
        std::vector<char> buf(100000);
        std::size_t total = 0;
        for (;;) {
            const ssize_t n = ::read(p.a, buf.data(), buf.size());
            if (n <= 0) break;
            total += static_cast<std::size_t>(n);
        }
        return total;
    });
    auto writer = green::spawn([&] {
        std::vector<char> data(size, 'p');
        const ssize_t n = ::write(p.b, data.data(), data.size());
        ::close(p.b);
        p.b = -1;
        return n;
    });
    EXPECT_EQ(writer.get(), static_cast<ssize_t>(size));
    EXPECT_EQ(reader.get(), size);
    EXPECT_FALSE(::fcntl(p.a, F_GETFL) & O_NONBLOCK);
}

TEST(PipeHooks, WritevOfManyPiecesArrivesInOrder) {
    Fds p = make_pipe();
    std::vector<std::string> pieces;
    for (int i = 0; i < 300; ++i)
        pieces.push_back(std::string(400, static_cast<char>('a' + i % 26)));
    std::vector<iovec> iov;
    std::string expect;
    for (auto& s : pieces) {
        iov.push_back(iovec{s.data(), s.size()});
        expect += s;
    }
    auto reader = green::spawn([&] {
        std::string got;
        char buf[4096];
        while (got.size() < expect.size()) {
            const ssize_t n = ::read(p.a, buf, sizeof buf);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        return got;
    });
    EXPECT_EQ(::writev(p.b, iov.data(), static_cast<int>(iov.size())),
              static_cast<ssize_t>(expect.size()));
    EXPECT_EQ(reader.get(), expect);
}

TEST(PipeHooks, WrongDirectionAndClosedReaderFailLikeLibc) {
    Fds p = make_pipe();
    auto g = green::spawn([&] {
        char c;
        EXPECT_EQ(::read(p.b, &c, 1), -1);  // the write end
        EXPECT_EQ(errno, EBADF);
        ::close(p.a);
        p.a = -1;
        const auto old = ::signal(SIGPIPE, SIG_IGN);
        EXPECT_EQ(::write(p.b, "x", 1), -1);
        EXPECT_EQ(errno, EPIPE);
        ::signal(SIGPIPE, old);
    });
    g.get();
}

TEST(PipeHooks, EventfdReadWaitsForAnotherFiber) {
    const int efd = ::eventfd(0, EFD_CLOEXEC);
    ASSERT_GE(efd, 0);
    auto reader = green::spawn([&] {
        std::uint64_t v = 0;
        EXPECT_EQ(::read(efd, &v, sizeof v), static_cast<ssize_t>(sizeof v));
        return v;
    });
    green::sleep(20ms);
    EXPECT_FALSE(reader.ready());
    const std::uint64_t seven = 7;
    EXPECT_EQ(::write(efd, &seven, sizeof seven), static_cast<ssize_t>(sizeof seven));
    EXPECT_EQ(reader.get(), 7u);
    ::close(efd);
}

// ---- the daemon idiom: close every inherited descriptor after the hub exists ----------------

namespace {

// In a forked child (the idiom would close the test runner's descriptors too): the hub exists,
// `close_all` closes 3 and up, then fibers talk over a fresh blocking pipe. Exit status 0 when
// the message arrives; a hang becomes SIGALRM.
template <class CloseAll>
int close_all_then_pipe(CloseAll close_all) {
    ::alarm(20);
    green::sleep(1ms);  // the hub and its descriptors exist
    std::thread([] {}).join();
    close_all();
    int p[2];
    if (::pipe(p) != 0) return 10;
    auto reader = green::spawn([&] {
        char buf[8] = {};
        const ssize_t n = ::read(p[0], buf, sizeof buf);  // parks: nothing written yet
        return n == 4 && std::string(buf, 4) == "ping";
    });
    auto writer = green::spawn([&] {
        ::usleep(10 * 1000);
        return ::write(p[1], "ping", 4) == 4;
    });
    if (!writer.get()) return 11;
    if (!reader.get()) return 12;
    green::sleep(1ms);
    return 0;
}

int run_in_child(int (*body)()) {
    const pid_t pid = ::fork();
    if (pid == 0) std::_Exit(body());
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST(PipeHooks, CloseLoopOverEveryDescriptorLeavesTheHubWorking) {
    EXPECT_EQ(run_in_child([] {
                  return close_all_then_pipe([] {
                      for (int fd = 3; fd < 1024; ++fd) ::close(fd);
                  });
              }),
              0);
}

TEST(PipeHooks, CloseRangeAndClosefromLeaveTheHubWorking) {
    EXPECT_EQ(run_in_child([] { return close_all_then_pipe([] { ::close_range(3, ~0u, 0); }); }),
              0);
    EXPECT_EQ(run_in_child([] { return close_all_then_pipe([] { ::closefrom(3); }); }), 0);
}

TEST(PipeHooks, HubDescriptorsLookClosedToTheProgram) {
    EXPECT_EQ(run_in_child([] {
                  green::sleep(1ms);
                  // Every descriptor the close loop refuses must say EBADF, as a closed one does.
                  int refused = 0;
                  for (int fd = 3; fd < 1024; ++fd) {
                      errno = 0;
                      if (::close(fd) != 0 && errno != EBADF) return 20;
                      if (::close(fd) == 0) ++refused;  // a second close never succeeds
                  }
                  return refused == 0 ? 0 : 21;
              }),
              0);
}
