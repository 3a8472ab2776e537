// green::Socket on real loopback sockets: errors reported like blocking calls, timeouts, resets,
// half-close, big transfers, close/kill while waiting, IPv6 and Unix domain sockets.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>

#include <green/green.hpp>

#include "support/byte_pattern.hpp"
#include "support/sockets.hpp"
#include "support/stopwatch.hpp"

using namespace std::chrono_literals;
using green::Address;
using green::Socket;
using green_test::seconds_since;

namespace {

int error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::system_error& e) {
        return e.code().value();
    }
    return 0;
}

// A port on 127.0.0.1 where nothing listens (bound, so no one else takes it meanwhile).
Socket closed_port(Address& where) {
    Socket s = Socket::tcp();
    s.bind(Address("127.0.0.1", 0));
    where = s.getsockname();
    return s;
}

}  // namespace

TEST(Socket, EchoRoundTrip) {
    Socket l = green_test::listener();
    auto server = green::spawn([&] {
        auto [c, peer] = l.accept();
        EXPECT_EQ(peer.host(), "127.0.0.1");
        char buf[64];
        std::size_t n;
        while ((n = c.recv(buf, sizeof buf)) > 0) c.sendall(buf, n);
    });
    Socket c = green::create_connection("127.0.0.1", l.getsockname().port());
    for (int i = 0; i < 100; ++i) {
        const std::string msg = "message " + std::to_string(i);
        c.sendall(msg);
        EXPECT_EQ(c.recv_exact(msg.size()), msg);
    }
    c.shutdown(SHUT_WR);
    EXPECT_EQ(c.recv(), "");  // the server saw EOF and closed
    server.get(5s);
}

TEST(Socket, ConnectionRefused) {
    Address where;
    Socket holder = closed_port(where);
    Socket c = Socket::tcp();
    try {
        c.connect(where);
        FAIL() << "connected to a port nobody listens on";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ECONNREFUSED);
        EXPECT_NE(std::string(e.what()).find("Connection refused"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("connect"), std::string::npos) << e.what();
    }
    Socket c2 = Socket::tcp();
    EXPECT_EQ(c2.connect_ex(where), ECONNREFUSED);
    EXPECT_EQ(error_of([&] { green::create_connection("127.0.0.1", where.port(), 2s); }),
              ECONNREFUSED);
}

TEST(Socket, CreateConnectionTriesEveryAddress) {
    // "localhost" resolves through /etc/hosts; whichever addresses it yields, the listener on
    // 127.0.0.1 must be found, and a refused earlier address must not stop the search.
    Socket l = green_test::listener();
    Socket c = green::create_connection("localhost", l.getsockname().port(), 5s);
    EXPECT_EQ(c.getpeername(), l.getsockname());
    EXPECT_EQ(c.gettimeout(), std::optional<green::Duration>(5s));
}

TEST(Socket, ConnectTimeoutWhenBacklogIsFull) {
    // A listener that never accepts, with the smallest backlog: once its queue is full the
    // kernel drops further SYNs and connect can only end by its deadline.
    Socket l = green_test::listener(Address("127.0.0.1", 0), 0);
    const Address where = l.getsockname();
    std::vector<Socket> queued;
    bool timed_out = false;
    for (int i = 0; i < 16 && !timed_out; ++i) {
        Socket c = Socket::tcp();
        const auto t0 = green::Clock::now();
        try {
            c.connect(where, 300ms);
            queued.push_back(std::move(c));
        } catch (const green::Timeout&) {
            timed_out = true;
            const double took = seconds_since(t0);
            EXPECT_GE(took, 0.25);
            EXPECT_LT(took, 3.0);
        }
    }
    EXPECT_TRUE(timed_out) << "16 connects to a full backlog all succeeded";
    EXPECT_FALSE(queued.empty());
}

TEST(Socket, RecvTimeoutKeepsTheSocketUsable) {
    auto [a, b] = green_test::tcp_pair();
    a.settimeout(100ms);
    const auto t0 = green::Clock::now();
    char buf[16];
    EXPECT_THROW(a.recv(buf, sizeof buf), green::Timeout);
    EXPECT_GE(seconds_since(t0), 0.09);
    b.sendall("late");
    EXPECT_EQ(a.recv_exact(4), "late");
    // A zero timeout polls once.
    a.settimeout(green::Duration::zero());
    EXPECT_THROW(a.recv(buf, sizeof buf), green::Timeout);
    b.sendall("x");
    green::sleep(20ms);
    EXPECT_EQ(a.recv(buf, sizeof buf), 1u);
}

TEST(Socket, ScopedTimeoutInterruptsRecv) {
    auto [a, b] = green_test::tcp_pair();
    green::Timeout t(50ms);
    try {
        a.recv();
        FAIL();
    } catch (const green::Timeout& e) {
        EXPECT_TRUE(e.is(t));
    }
    b.sendall("after");
    EXPECT_EQ(a.recv_exact(5), "after");
}

TEST(Socket, PeerResetWhileReading) {
    auto [a, b] = green_test::tcp_pair();
    auto peer = green::spawn([&, &b = b] {
        b.sendall("partial");
        green::sleep(20ms);
        linger lg{1, 0};  // close with RST
        ::setsockopt(b.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        b.close();
    });
    EXPECT_EQ(a.recv_exact(7), "partial");
    try {
        a.recv();
        FAIL() << "recv after RST returned normally";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ECONNRESET);
        EXPECT_STREQ(e.what(), "recv: Connection reset by peer");
    }
    peer.get(5s);
}

TEST(Socket, PeerResetWhileWriting) {
    auto [a, b] = green_test::tcp_pair();
    auto reader = green::spawn([&, &b = b] {
        char buf[4096];
        b.recv(buf, sizeof buf);
        linger lg{1, 0};
        ::setsockopt(b.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        b.close();
    });
    const std::string chunk(1 << 20, 'x');
    int err = 0;
    try {
        for (int i = 0; i < 256; ++i) a.sendall(chunk);  // far more than the socket buffers
    } catch (const std::system_error& e) {
        err = e.code().value();
    }
    EXPECT_TRUE(err == ECONNRESET || err == EPIPE) << err;  // and no SIGPIPE killed us
    reader.get(5s);
}

TEST(Socket, HalfClose) {
    auto [a, b] = green_test::tcp_pair();
    auto server = green::spawn([&, &b = b] {
        std::string got;
        char buf[3];
        std::size_t n;
        while ((n = b.recv(buf, sizeof buf)) > 0) got.append(buf, n);  // until the client's FIN
        b.sendall("got " + std::to_string(got.size()) + ": " + got);
        b.close();
    });
    a.sendall("hello world");
    a.shutdown(SHUT_WR);
    green::LineReader r(a);
    EXPECT_EQ(r.readline(), "got 11: hello world");  // no newline: the rest at EOF
    EXPECT_EQ(r.readline(), "");
    server.get(5s);
}

// After a short read a receive may park before trying recv(2) (the queue was empty a moment
// ago). With an edge-triggered backend that is wrong when the edge that woke the reader also
// carried the end of stream: the next recv must still see EOF instead of waiting forever.
TEST(Socket, EndOfStreamArrivingWithTheLastDataIsSeen) {
    for (int round = 0; round < 20; ++round) {
        auto [a, b] = green_test::tcp_pair();
        auto reader = green::spawn([&b = b] {
            std::string got;
            char buf[64];
            while (std::size_t n = b.recv(buf, sizeof buf)) got.append(buf, n);
            return got;
        });
        green::sleep(0ms);  // the reader parks on an empty socket
        a.sendall("first");
        green::sleep(1ms);  // it wakes, reads a short "first" and parks again
        // Data and FIN now land before the hub polls again: both ride on one readiness event.
        ASSERT_EQ(::send(a.fd(), "second", 6, MSG_NOSIGNAL), 6);
        ASSERT_EQ(::shutdown(a.fd(), SHUT_WR), 0);
        EXPECT_EQ(reader.get(5s), "firstsecond");
    }
}

TEST(Socket, TenMegabytesBothWaysByHash) {
    auto [a, b] = green_test::tcp_pair();
    constexpr std::size_t kSize = 10 * 1024 * 1024;
    const std::string up = green_test::pattern(kSize, 1), down = green_test::pattern(kSize, 2);
    green_test::Fnv up_sent, down_sent;
    up_sent.add(up.data(), up.size());
    down_sent.add(down.data(), down.size());

    auto drain = [](Socket& s, std::size_t want) {
        green_test::Fnv h;
        std::vector<char> buf(100000);  // an odd size, so reads split writes
        std::size_t got = 0;
        while (got < want) {
            std::size_t n = s.recv(buf.data(), buf.size());
            if (n == 0) break;
            h.add(buf.data(), n);
            got += n;
        }
        EXPECT_EQ(got, want);
        return h.h;
    };
    // Four fibers, both directions at once: each side writes while it reads.
    auto a_send = green::spawn([&, &a = a] { a.sendall(up); });
    auto b_send = green::spawn([&, &b = b] { b.sendall(down); });
    auto b_recv = green::spawn([&, &b = b] { return drain(b, kSize); });
    auto a_recv = green::spawn([&, &a = a] { return drain(a, kSize); });
    green::joinall({a_send, b_send, b_recv, a_recv}, 60s, true);
    EXPECT_EQ(b_recv.get(), up_sent.h);
    EXPECT_EQ(a_recv.get(), down_sent.h);
}

TEST(Socket, CloseWakesWaiterWithEbadf) {
    auto [a, b] = green_test::tcp_pair();
    auto waiter = green::spawn([&, &a = a] { return error_of([&] { a.recv(); }); });
    green::sleep(10ms);
    EXPECT_FALSE(waiter.ready());
    a.close();
    EXPECT_EQ(waiter.get(5s), EBADF);
    EXPECT_EQ(error_of([&, &a = a] { a.recv(); }), EBADF);
    a.close();  // idempotent
}

TEST(Socket, KillDuringRecvLosesNoData) {
    auto [a, b] = green_test::tcp_pair();
    std::atomic<bool> unwound{false};
    auto victim = green::spawn([&, &a = a] {
        struct Flag {
            std::atomic<bool>& f;
            ~Flag() { f = true; }
        } flag{unwound};
        char buf[16];
        a.recv(buf, sizeof buf);
        ADD_FAILURE() << "recv returned in a killed fiber";
    });
    green::sleep(10ms);
    victim.kill();
    EXPECT_TRUE(victim.dead());
    EXPECT_TRUE(unwound);
    // The abandoned wait must not have consumed anything.
    b.sendall("intact");
    EXPECT_EQ(a.recv_exact(6), "intact");
}

TEST(Socket, AcceptTimeout) {
    Socket l = green_test::listener();
    l.settimeout(50ms);
    EXPECT_THROW(l.accept(), green::Timeout);
    EXPECT_THROW(l.accept(30ms), green::Timeout);
}

TEST(Socket, RecvExactAndIncompleteRead) {
    auto [a, b] = green_test::tcp_pair();
    b.sendall("abc");
    b.shutdown(SHUT_WR);
    char buf[8];
    try {
        a.recv_exact(buf, 8);
        FAIL();
    } catch (const green::IncompleteRead& e) {
        EXPECT_EQ(e.received, 3u);
        EXPECT_EQ(e.wanted, 8u);
    }
}

TEST(Socket, LineReaderSplitsLines) {
    auto [a, b] = green_test::tcp_pair();
    auto writer = green::spawn([&, &b = b] {
        const char* parts[] = {"GET / HT", "TP/1.1\r\nHost: x\r", "\n\r\n", "tail"};
        for (auto p : parts) {
            b.sendall(p);
            green::sleep(2ms);
        }
        b.close();
    });
    green::LineReader r(a, 5);
    EXPECT_EQ(r.readline(), "GET / HTTP/1.1\r\n");
    EXPECT_EQ(r.readline(), "Host: x\r\n");
    EXPECT_EQ(r.readline(), "\r\n");
    EXPECT_EQ(r.readline(3), "tai");
    EXPECT_EQ(r.read(100), "l");
    EXPECT_EQ(r.readline(), "");
    writer.get(5s);
}

TEST(Socket, SendToClosedPeerIsEpipe) {
    auto [a, b] = green_test::tcp_pair();
    b.close();
    green::sleep(10ms);
    int err = 0;
    for (int i = 0; i < 10 && !err; ++i) {
        err = error_of([&, &a = a] { a.sendall("x"); });
        green::sleep(5ms);
    }
    EXPECT_TRUE(err == EPIPE || err == ECONNRESET) << err;
}

TEST(Socket, Ipv6Loopback) {
    Socket l;
    try {
        l = green_test::listener(Address("::1", 0));
    } catch (const std::system_error& e) {
        GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
    }
    auto server = green::spawn([&] {
        auto [c, peer] = l.accept();
        EXPECT_EQ(peer.family(), AF_INET6);
        c.sendall(c.recv());
    });
    Socket c = green::create_connection("::1", l.getsockname().port(), 5s);
    EXPECT_EQ(c.family(), AF_INET6);
    c.sendall("six");
    EXPECT_EQ(c.recv_exact(3), "six");
    server.get(5s);
}

TEST(Socket, UnixStreamAndAbstract) {
    const std::string path = "/tmp/green-net-test-" + std::to_string(::getpid()) + ".sock";
    ::unlink(path.c_str());
    for (const Address& addr : {Address::unix_path(path),
                                Address::unix_path("@green-net-" + std::to_string(::getpid()))}) {
        Socket l = green_test::listener(addr);
        EXPECT_EQ(l.getsockname(), addr);
        auto server = green::spawn([&] {
            auto [c, peer] = l.accept();
            EXPECT_TRUE(peer.is_unix());
            std::string s = c.recv();
            for (auto& ch : s) ch = static_cast<char>(std::toupper(ch));
            c.sendall(s);
        });
        Socket c(AF_UNIX, SOCK_STREAM);
        c.connect(addr, 5s);
        c.sendall("unix");
        EXPECT_EQ(c.recv_exact(4), "UNIX");
        server.get(5s);
    }
    ::unlink(path.c_str());
}

TEST(Socket, UdpSendtoRecvfrom) {
    Socket a = Socket::udp(), b = Socket::udp();
    a.bind(Address("127.0.0.1", 0));
    b.bind(Address("127.0.0.1", 0));
    auto echo = green::spawn([&] {
        auto [data, from] = b.recvfrom();
        EXPECT_EQ(from, a.getsockname());
        b.sendto("re:" + data, from);
    });
    a.sendto("ping", b.getsockname());
    auto [reply, from] = a.recvfrom();
    EXPECT_EQ(reply, "re:ping");
    EXPECT_EQ(from, b.getsockname());
    echo.get(5s);
    // Several queued datagrams are each delivered (a short datagram says nothing about the next).
    for (int i = 0; i < 3; ++i) a.sendto(std::to_string(i), b.getsockname());
    for (int i = 0; i < 3; ++i) EXPECT_EQ(b.recv(), std::to_string(i));
}

TEST(Socket, BadUseGivesClearErrors) {
    Socket none;
    EXPECT_EQ(error_of([&] { none.recv(); }), EBADF);
    EXPECT_THROW(Socket(12345, SOCK_STREAM), std::system_error);
    EXPECT_THROW(Socket::adopt(-1), std::invalid_argument);
    Socket a = Socket::tcp();
    a.bind(Address("127.0.0.1", 0));
    Socket b = Socket::tcp();
    try {
        b.bind(a.getsockname());
        FAIL();
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EADDRINUSE);
        EXPECT_NE(std::string(e.what()).find("bind 127.0.0.1:"), std::string::npos) << e.what();
    }
}

TEST(Socket, ManyFibersOneSocketPair) {
    // Several readers on one socket: each byte goes to exactly one of them and none hangs.
    auto [a, b] = green_test::tcp_pair();
    std::atomic<int> total{0};
    std::vector<green::GreenletHandle> readers;
    for (int i = 0; i < 4; ++i)
        readers.push_back(green::spawn([&, &a = a] {
            char buf[1];
            while (a.recv(buf, 1) == 1) ++total;
        }));
    for (int i = 0; i < 100; ++i) {
        b.sendall("z");
        if (i % 10 == 0) green::sleep(1ms);
    }
    b.shutdown(SHUT_WR);
    green::joinall(readers, 5s);
    for (auto& r : readers) EXPECT_TRUE(r.dead());
    EXPECT_EQ(total, 100);
}
