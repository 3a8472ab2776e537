// Compact greenlets doing socket I/O on 127.0.0.1 while other compact greenlets run on the same
// run stack: receive buffers on their stacks, readiness waits, a StreamServer whose handlers are
// compact, and the default stack mode from GREEN_STACK_MODE's SpawnOptions counterpart.
#include <gtest/gtest.h>

#include <green/green.hpp>

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "io_backend.hpp"
#include "scheduler.hpp"
#include "support/byte_pattern.hpp"
#include "support/fd_limit.hpp"
#include "support/files.hpp"
#include "support/sockets.hpp"

using namespace std::chrono_literals;

namespace {

const green::SpawnOptions kCompact{.stack_mode = green::StackMode::Compact};

// Echoes upper-cased what it receives into a buffer on its (compact) stack.
void upper_echo(green::Socket& c, const green::Address&) {
    char buf[512];
    std::size_t n;
    while ((n = c.recv(buf, sizeof buf)) > 0) {
        for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<char>(std::toupper(buf[i]));
        c.sendall(buf, n);
    }
}

TEST(CompactIo, ManyCompactPairsExchangeOverTcp) {
    constexpr int kPairs = 20;
    std::vector<green::Greenlet<std::string>> readers;
    std::vector<green::GreenletHandle> writers;
    std::vector<std::pair<green::Socket, green::Socket>> pairs;
    for (int i = 0; i < kPairs; ++i) pairs.push_back(green_test::tcp_pair());
    for (int i = 0; i < kPairs; ++i) {
        green::Socket& in = pairs[i].second;
        green::Socket& out = pairs[i].first;
        readers.push_back(green::spawn(kCompact, [&in] {
            char buf[64];  // the kernel fills it only while this fiber runs
            std::string all;
            std::size_t n;
            while ((n = in.recv(buf, sizeof buf)) > 0) all.append(buf, n);
            return all;
        }));
        writers.push_back(green::spawn(kCompact, [&out, i] {
            for (int k = 0; k < 10; ++k) {
                const std::string piece = std::to_string(i) + ":" + std::to_string(k) + ";";
                out.sendall(piece);
                green::sleep(0ms);
            }
            out.shutdown(SHUT_WR);
        }));
    }
    green::joinall(writers);
    for (int i = 0; i < kPairs; ++i) {
        std::string want;
        for (int k = 0; k < 10; ++k) want += std::to_string(i) + ":" + std::to_string(k) + ";";
        EXPECT_EQ(readers[i].get(10s), want);
    }
}

TEST(CompactIo, ReceiveDeadlineOnACompactFiber) {
    auto [a, b] = green_test::tcp_pair();
    auto g = green::spawn(kCompact, [&b] {
        char buf[16];
        try {
            b.recv(buf, sizeof buf, 0, green::Deadline(2ms));
        } catch (const green::Timeout&) {
            return true;
        }
        return false;
    });
    EXPECT_TRUE(g.get());
}

TEST(CompactIo, StreamServerWithCompactHandlers) {
    green::ServerOptions o;
    o.handler_stack_mode = green::StackMode::Compact;
    green::StreamServer server(green::Address("127.0.0.1", 0), upper_echo, o);
    server.start();
    std::vector<green::Greenlet<std::string>> clients;
    for (int i = 0; i < 30; ++i)
        clients.push_back(green::spawn(kCompact, green_test::ask, server.address(),
                                       "say hello " + std::to_string(i)));
    for (int i = 0; i < 30; ++i) EXPECT_EQ(clients[i].get(10s), "SAY HELLO " + std::to_string(i));
    server.stop();
    EXPECT_EQ(server.active_handlers(), 0u);
}

// File operations submitted from compact stacks (as the hooks do) wait in the backend, io_uring
// or the offload pool, instead of blocking the hub: each goes out as a heap copy and what it read
// is copied back into the stack buffers.
TEST(CompactIo, FileOperationsFromCompactStacksWaitInTheBackend) {
    const int fd = green_test::unlinked_temp_file();
    ASSERT_GE(fd, 0);
    constexpr int kFibers = 4;
    constexpr std::size_t kChunk = 4096;
    const std::string content = green_test::pattern(2 * kFibers * kChunk, 19);
    ASSERT_EQ(::pwrite(fd, content.data(), kFibers * kChunk, 0),
              static_cast<ssize_t>(kFibers * kChunk));
    using green::detail::IoOp;
    for (const bool pool : {false, true}) {
        const std::uint64_t waits_before = green::hub_stats().io_waits_started;
        std::vector<green::Greenlet<std::string>> gs;
        for (int i = 0; i < kFibers; ++i)
            gs.push_back(green::spawn(kCompact, [&, fd, i] {
                char head[100], rest[kChunk - 100];  // on the compact stack
                iovec iov[2] = {{head, sizeof head}, {rest, sizeof rest}};
                IoOp read{IoOp::Kind::ReadV, fd, iov, 2};
                read.offset = static_cast<std::int64_t>(i * kChunk);
                read.pool = pool;
                if (green::detail::Hub::get().io().submit(read, green::Deadline()) !=
                    static_cast<long>(kChunk))
                    return std::string("read");
                char out[kChunk];
                std::memcpy(out, content.data() + (kFibers + i) * kChunk, kChunk);
                IoOp write{IoOp::Kind::Write, fd, out, sizeof out};
                write.offset = static_cast<std::int64_t>((kFibers + i) * kChunk);
                write.pool = pool;
                if (green::detail::Hub::get().io().submit(write, green::Deadline()) !=
                    static_cast<long>(kChunk))
                    return std::string("write");
                return std::string(head, sizeof head) + std::string(rest, sizeof rest);
            }));
        for (int i = 0; i < kFibers; ++i)
            EXPECT_EQ(gs[i].get(), content.substr(i * kChunk, kChunk)) << i << pool;
        EXPECT_EQ(green::hub_stats().io_waits_started - waits_before, 2u * kFibers) << pool;
    }
    std::string back(content.size(), '\0');
    ASSERT_EQ(::pread(fd, back.data(), back.size(), 0), static_cast<ssize_t>(back.size()));
    EXPECT_EQ(back, content);
    ::close(fd);
}

}  // namespace

// The "million idle connections" in the form this machine allows: a million compact
// greenlets parked on an Event (the idle connections' handlers) while 10,000 real TCP connections
// to a StreamServer with compact handlers exchange messages on the same hub and run stack. Every
// reply must be right and every parked greenlet must wake once. The sizes are counts, not times:
// 100,000 parked under AddressSanitizer (its redzones), fewer connections when the process may
// not open 20,000 descriptors.
TEST(CompactIo, AMillionParkedGreenletsBesideTenThousandLiveConnections) {
#ifdef __SANITIZE_ADDRESS__
    constexpr long kParked = 100'000;
#else
    constexpr long kParked = 1'000'000;
#endif
    constexpr int kRounds = 3;
    const int connections = green_test::raise_fd_limit(2 * 10'000, 200) / 2;
    ASSERT_GE(connections, 1'000) << "the open-file limit holds too few connections";

    green::Event gate;
    long woken = 0;
    std::vector<green::Greenlet<void>> parked;
    parked.reserve(kParked);
    for (long i = 0; i < kParked; ++i)
        parked.push_back(green::spawn(kCompact, [&gate, &woken] {
            gate.wait();
            ++woken;
        }));
    green::sleep(0ms);  // every one of them starts and parks

    green::ServerOptions o;
    o.handler_stack_mode = green::StackMode::Compact;
    o.backlog = 4096;
    green::StreamServer server(green::Address("127.0.0.1", 0), upper_echo, o);
    server.start();
    std::vector<green::Greenlet<int>> clients;
    clients.reserve(connections);
    for (int i = 0; i < connections; ++i)
        clients.push_back(green::spawn(kCompact, [&server, i] {
            green::Socket c = green::Socket::tcp();
            c.connect(server.address(), 60s);
            int right = 0;
            for (int r = 0; r < kRounds; ++r) {
                const std::string msg = "conn " + std::to_string(i) + " round " + std::to_string(r);
                c.sendall(msg);
                std::string want = msg;
                for (char& ch : want) ch = static_cast<char>(std::toupper(ch));
                std::string got(msg.size(), '\0');
                c.recv_exact(got.data(), got.size(), green::Deadline(60s));
                right += got == want;
                green::sleep(0ms);  // the other connections go between two rounds
            }
            return right;
        }));
    long right = 0;
    for (auto& c : clients) right += c.get(120s);
    EXPECT_EQ(right, static_cast<long>(connections) * kRounds);
    EXPECT_EQ(woken, 0) << "a parked greenlet woke before its Event was set";
    server.stop();
    EXPECT_EQ(server.active_handlers(), 0u);
    gate.set();
    green::joinall(parked);
    EXPECT_EQ(woken, kParked);
}
