// Linked hooks, sockets: blocking recv/send/connect/accept inside fibers cooperate; the program's
// O_NONBLOCK, SO_RCVTIMEO and SO_SNDTIMEO keep their kernel meaning; close and dup2 wake a
// waiting fiber with EBADF; a refused connect reports ECONNREFUSED, never EINPROGRESS.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include <green/green.hpp>

#include "support/fd_pair.hpp"
#include "support/loopback.hpp"
#include "support/stopwatch.hpp"
#include "support/ticker.hpp"

using namespace std::chrono_literals;
using namespace green_test;

namespace {

void set_timeout(int fd, int opt, int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv), 0);
}

}  // namespace

TEST(SocketHooks, RecvInManyFibersOverlaps) {
    std::vector<Fds> pairs;
    for (int i = 0; i < 20; ++i) pairs.push_back(stream_pair());
    Ticker ticker;
    std::vector<green::Greenlet<std::string>> readers;
    for (auto& p : pairs) {
        readers.push_back(green::spawn([fd = p.a] {
            char buf[16];
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("error");
        }));
    }
    // The data comes once the ticker ticked 5 times with all 20 readers parked (the sender is
    // queued after them): a recv that held the hub would stop the sender, and never return.
    auto sender = ticker.after_ticks(5, [&] {
        for (auto& p : pairs) EXPECT_EQ(::send(p.b, "hi", 2, 0), 2);
    });
    for (auto& r : readers) EXPECT_EQ(r.get(), "hi");
    sender.join();
}

TEST(SocketHooks, BlockingSendOnStreamSendsEverything) {
    Fds p = stream_pair();
    const std::size_t size = 8 << 20;  // far beyond the socket buffers
    auto reader = green::spawn([&] {
        std::vector<char> buf(65536);
        std::size_t total = 0;
        for (;;) {
            const ssize_t n = ::read(p.b, buf.data(), buf.size());
            if (n <= 0) break;
            total += static_cast<std::size_t>(n);
        }
        return total;
    });
    std::vector<char> data(size, 'x');
    EXPECT_EQ(::send(p.a, data.data(), size, 0), static_cast<ssize_t>(size));
    ::shutdown(p.a, SHUT_WR);
    EXPECT_EQ(reader.get(), size);
}

TEST(SocketHooks, ProgramsNonblockingViewGetsEagain) {
    Fds p = stream_pair();
    const int fl = ::fcntl(p.a, F_GETFL);
    ASSERT_EQ(::fcntl(p.a, F_SETFL, fl | O_NONBLOCK), 0);
    auto g = green::spawn([&] {
        char c;
        errno = 0;
        EXPECT_EQ(::recv(p.a, &c, 1, 0), -1);
        EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
        EXPECT_EQ(::read(p.a, &c, 1), -1);
        EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
        EXPECT_TRUE(::fcntl(p.a, F_GETFL) & O_NONBLOCK);
        // Back to blocking with ioctl: the read now waits (cooperatively) for the writer.
        int off = 0;
        EXPECT_EQ(::ioctl(p.a, FIONBIO, &off), 0);
        EXPECT_EQ(::read(p.a, &c, 1), 1);
        return c;
    });
    green::spawn([&] {
        ::usleep(30 * 1000);
        EXPECT_EQ(::write(p.b, "z", 1), 1);
    }).join();
    EXPECT_EQ(g.get(), 'z');
}

TEST(SocketHooks, SocketCreatedNonblockingGetsEagain) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    Fds p;
    p.a = sv[0];
    p.b = sv[1];
    auto g = green::spawn([&] {
        char c;
        const ssize_t r = ::recv(p.a, &c, 1, 0);
        return r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
    });
    EXPECT_TRUE(g.get());
}

TEST(SocketHooks, RcvTimeoIsHonoured) {
    Fds p = stream_pair();
    set_timeout(p.a, SO_RCVTIMEO, 100);
    Ticker ticker;
    long ticks_in_recv = 0;
    auto g = green::spawn([&] {
        const auto t0 = green::Clock::now();
        const long ticks_before = ticker.ticks();
        char c;
        errno = 0;
        const ssize_t r = ::recv(p.a, &c, 1, 0);
        const int e = errno;
        ticks_in_recv = ticker.ticks() - ticks_before;
        EXPECT_EQ(r, -1);
        EXPECT_TRUE(e == EAGAIN || e == EWOULDBLOCK);
        return since(t0);
    });
    const auto took = g.get();
    EXPECT_GE(took, 95ms);
    EXPECT_LT(took, 1s);
    // Parking handed the hub to the ticker, queued ahead of any wake-up of the reader, however
    // late its timer fired: a recv that held the hub for its 100 ms would see no tick.
    EXPECT_GT(ticks_in_recv, 0);
    timeval tv{};
    socklen_t len = sizeof tv;
    ASSERT_EQ(::getsockopt(p.a, SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
    EXPECT_EQ(tv.tv_usec, 100000);
}

TEST(SocketHooks, SndTimeoCutsABlockingSendShort) {
    Fds p = stream_pair();
    set_timeout(p.a, SO_SNDTIMEO, 100);
    auto g = green::spawn([&] {
        std::vector<char> data(8 << 20, 'y');  // nobody reads: the buffers fill up
        const auto t0 = green::Clock::now();
        const ssize_t r = ::send(p.a, data.data(), data.size(), 0);
        EXPECT_GT(r, 0);  // what fitted, as the kernel reports a partial blocking send
        EXPECT_LT(r, static_cast<ssize_t>(data.size()));
        return since(t0);
    });
    EXPECT_GE(g.get(), 95ms);
}

TEST(SocketHooks, CloseWakesWaiterWithEbadfAndReusedNumberIsClean) {
    Fds p = stream_pair();
    const int fd = p.a;
    auto waiter = green::spawn([&] {
        char c;
        errno = 0;
        const ssize_t r = ::recv(fd, &c, 1, 0);
        return r == -1 ? errno : 0;
    });
    green::sleep(20ms);
    EXPECT_EQ(::close(p.a), 0);
    p.a = -1;
    EXPECT_EQ(waiter.get(), EBADF);

    // The number comes back for a new socket; a reader on it sees only its own data.
    Fds q = stream_pair();
    auto reader = green::spawn([&] {
        char buf[8];
        const ssize_t n = ::recv(q.a, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("error");
    });
    green::sleep(30ms);
    EXPECT_FALSE(reader.ready());
    EXPECT_EQ(::write(q.b, "new", 3), 3);
    EXPECT_EQ(reader.get(), "new");
}

TEST(SocketHooks, NumberClosedBehindTheHooksBackServesItsNextSocket) {
    // A close no hook sees (a raw system call here; fclose of an fdopen'd socket is another):
    // the hub's epoll registration of the old socket must not stand for the number's next one.
    Fds p = stream_pair();
    const int fd = p.a;
    set_timeout(p.a, SO_RCVTIMEO, 10);
    green::spawn([&] {
        char c;
        EXPECT_EQ(::recv(p.a, &c, 1, 0), -1);  // waited in the hub, so registered
    }).join();
    ASSERT_EQ(::syscall(SYS_close, p.a), 0);
    p.a = -1;
    Fds q = stream_pair();
    if (q.a != fd) GTEST_SKIP() << "kernel did not reuse the fd number";
    set_timeout(q.a, SO_RCVTIMEO, 5000);  // bounds the failure: no wake-up would be EAGAIN
    auto reader = green::spawn([&] {
        char buf[8];
        const ssize_t n = ::recv(q.a, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("error");
    });
    green::sleep(10ms);
    EXPECT_EQ(::write(q.b, "new", 3), 3);
    EXPECT_EQ(reader.get(), "new");
}

TEST(SocketHooks, Dup2OverAWaitedFdWakesItsWaiter) {
    Fds p = stream_pair();
    Fds q = stream_pair();
    auto waiter = green::spawn([&] {
        char c;
        const ssize_t r = ::recv(p.a, &c, 1, 0);
        return r == -1 ? errno : 0;
    });
    green::sleep(10ms);
    ASSERT_EQ(::dup2(q.a, p.a), p.a);
    EXPECT_EQ(waiter.get(), EBADF);
    // p.a is now q.a's socket, and cooperative like it.
    auto r = green::spawn([&] {
        char c = 0;
        ::recv(p.a, &c, 1, 0);
        return c;
    });
    green::sleep(10ms);
    EXPECT_EQ(::send(q.b, "d", 1, 0), 1);
    EXPECT_EQ(r.get(), 'd');
}

TEST(SocketHooks, ConnectRefusedIsReported) {
    const int port = closed_port();
    auto g = green::spawn([&] {
        errno = 0;
        const int fd = connect_loopback(port);
        return fd < 0 ? errno : 0;
    });
    EXPECT_EQ(g.get(), ECONNREFUSED);
}

TEST(SocketHooks, ConnectAndAcceptCooperateAndStayBlocking) {
    int port = 0;
    const int lfd = listen_loopback(&port);
    Ticker ticker;
    auto server = green::spawn([&] {
        const int c = ::accept(lfd, nullptr, nullptr);
        EXPECT_GE(c, 0);
        EXPECT_FALSE(::fcntl(lfd, F_GETFL) & O_NONBLOCK);  // restored after the call
        EXPECT_FALSE(::fcntl(c, F_GETFL) & O_NONBLOCK);
        char buf[64];
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n > 0) {
            EXPECT_EQ(::send(c, buf, static_cast<std::size_t>(n), 0), n);
        }
        ::close(c);
        return n;
    });
    auto client = green::spawn([&] {
        // Connects once the ticker ticked 3 times with accept parked (the server is queued
        // first): an accept that held the hub would stop this fiber, and never return.
        ticker.wait_ticks(3);
        const int fd = connect_loopback(port);
        EXPECT_GE(fd, 0);
        EXPECT_FALSE(::fcntl(fd, F_GETFL) & O_NONBLOCK);
        EXPECT_EQ(::send(fd, "ping", 4, 0), 4);
        char buf[8] = {};
        EXPECT_EQ(::recv(fd, buf, sizeof buf, MSG_WAITALL), 4);
        ::close(fd);
        return std::string(buf, 4);
    });
    EXPECT_EQ(client.get(), "ping");
    EXPECT_EQ(server.get(), 4);
    ::close(lfd);
}

TEST(SocketHooks, AcceptHonoursRcvTimeo) {
    int port = 0;
    const int lfd = listen_loopback(&port);
    set_timeout(lfd, SO_RCVTIMEO, 80);
    auto g = green::spawn([&] {
        const auto t0 = green::Clock::now();
        const int c = ::accept(lfd, nullptr, nullptr);
        EXPECT_EQ(c, -1);
        EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
        return since(t0);
    });
    EXPECT_GE(g.get(), 75ms);
    ::close(lfd);
}

TEST(SocketHooks, RecvWaitallGathersSeveralWrites) {
    Fds p = stream_pair();
    auto reader = green::spawn([&] {
        char buf[9] = {};
        const ssize_t n = ::recv(p.a, buf, 9, MSG_WAITALL);
        return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    });
    for (const char* part : {"abc", "def", "ghi"}) {
        green::sleep(10ms);
        EXPECT_EQ(::write(p.b, part, 3), 3);
    }
    EXPECT_EQ(reader.get(), "abcdefghi");
}

TEST(SocketHooks, ReadvWritevAndFdPassing) {
    Fds p = stream_pair();
    Fds passed = make_pipe();
    auto reader = green::spawn([&] {
        char a[4] = {}, b[16] = {};
        iovec iov[2] = {{a, 3}, {b, 16}};
        const ssize_t n = ::readv(p.a, iov, 2);
        EXPECT_EQ(n, 9);
        EXPECT_EQ(std::string(a, 3) + std::string(b, 6), "onetwo333");
        // Then a descriptor, with one byte of data.
        char byte = 0;
        iovec one{&byte, 1};
        alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))];
        msghdr msg{};
        msg.msg_iov = &one;
        msg.msg_iovlen = 1;
        msg.msg_control = ctrl;
        msg.msg_controllen = sizeof ctrl;
        EXPECT_EQ(::recvmsg(p.a, &msg, 0), 1);
        int fd = -1;
        if (cmsghdr* c = CMSG_FIRSTHDR(&msg)) std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
        return fd;
    });
    green::sleep(10ms);
    iovec out[3] = {{const_cast<char*>("one"), 3},
                    {const_cast<char*>("two"), 3},
                    {const_cast<char*>("333"), 3}};
    EXPECT_EQ(::writev(p.b, out, 3), 9);
    green::sleep(10ms);
    char byte = 'f';
    iovec one{&byte, 1};
    alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &one;
    msg.msg_iovlen = 1;
    msg.msg_control = ctrl;
    msg.msg_controllen = sizeof ctrl;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &passed.b, sizeof(int));
    EXPECT_EQ(::sendmsg(p.b, &msg, 0), 1);
    const int got = reader.get();
    ASSERT_GE(got, 0);
    // The received descriptor (the pipe's write end) was never seen by a hook: it is
    // classified on first use.
    EXPECT_EQ(::write(got, "!", 1), 1);
    char ch = 0;
    EXPECT_EQ(::read(passed.a, &ch, 1), 1);
    EXPECT_EQ(ch, '!');
    ::close(got);
}

TEST(SocketHooks, DatagramRecvCooperates) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    Fds p;
    p.a = sv[0];
    p.b = sv[1];
    auto reader = green::spawn([&] {
        char buf[32];
        const ssize_t n = ::recvfrom(p.a, buf, sizeof buf, 0, nullptr, nullptr);
        return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    });
    green::sleep(20ms);
    EXPECT_FALSE(reader.ready());
    EXPECT_EQ(::sendto(p.b, "datagram", 8, 0, nullptr, 0), 8);
    EXPECT_EQ(reader.get(), "datagram");
}

TEST(SocketHooks, DescriptorMadeBehindTheHooksBackIsClassifiedOnFirstUse) {
    int sv[2];
    ASSERT_EQ(::syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0);
    Fds p;
    p.a = sv[0];
    p.b = sv[1];
    Ticker ticker;
    auto reader = green::spawn([&] {
        char c = 0;
        ::read(p.a, &c, 1);
        return c;
    });
    // Writes once the ticker ticked 5 times with the reader parked (it is queued first): a read
    // that held the hub would stop this fiber, and never return.
    ticker.wait_ticks(5);
    EXPECT_FALSE(reader.ready());
    EXPECT_EQ(::syscall(SYS_write, p.b, "q", 1), 1);
    EXPECT_EQ(reader.get(), 'q');
}
