// Compact greenlets in a program linked with green::hooks: plain libc calls (::sleep family,
// ::recv, ::send) made on a compact stack cooperate like the runtime's own waits.
#include <gtest/gtest.h>

#include <green/green.hpp>

#include "support/files.hpp"
#include "support/sleep_order.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

const green::SpawnOptions kCompact{.stack_mode = green::StackMode::Compact};

TEST(CompactHooks, NanosleepOnCompactFibersInterleaves) {
    const auto order =
        green_test::wake_order_of_reverse_sleepers(kCompact, [](std::chrono::milliseconds d) {
            const timespec ts{0, static_cast<long>(std::chrono::nanoseconds(d).count())};
            ::nanosleep(&ts, nullptr);
        });
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(CompactHooks, LibcRecvIntoACompactStackBuffer) {
    constexpr int kPairs = 8;
    int fds[kPairs][2];
    for (auto& p : fds) ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
    std::vector<green::Greenlet<std::string>> readers;
    for (int i = 0; i < kPairs; ++i)
        readers.push_back(green::spawn(kCompact, [fd = fds[i][1]] {
            char buf[32];  // on the compact stack; libc's recv parks inside the hook
            std::string all;
            ssize_t n;
            while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0)
                all.append(buf, static_cast<size_t>(n));
            return all;
        }));
    std::vector<green::GreenletHandle> writers;
    for (int i = 0; i < kPairs; ++i)
        writers.push_back(green::spawn(kCompact, [fd = fds[i][0], i] {
            for (int k = 0; k < 5; ++k) {
                const std::string s = std::to_string(i * 100 + k) + ",";
                ASSERT_EQ(::send(fd, s.data(), s.size(), 0), static_cast<ssize_t>(s.size()));
                ::usleep(100);
            }
            ::shutdown(fd, SHUT_WR);
        }));
    green::joinall(writers);
    for (int i = 0; i < kPairs; ++i) {
        std::string want;
        for (int k = 0; k < 5; ++k) want += std::to_string(i * 100 + k) + ",";
        EXPECT_EQ(readers[i].get(10s), want);
    }
    for (auto& p : fds) {
        ::close(p[0]);
        ::close(p[1]);
    }
}

// File operations from compact stacks go to the backend (io_uring, or the offload pool on epoll)
// through a heap copy, so the hub runs on while they wait; what they read lands in the stack
// buffers, what they write comes from them, as natively.
TEST(CompactHooks, FileIoIntoCompactStackBuffersWaitsInTheBackend) {
    const int fd = green_test::unlinked_temp_file();
    ASSERT_GE(fd, 0);
    constexpr int kFibers = 4;
    constexpr std::size_t kChunk = 8192;
    std::string content(kFibers * 2 * kChunk, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 23);
    ASSERT_EQ(::pwrite(fd, content.data(), content.size(), 0),
              static_cast<ssize_t>(content.size()));
    const std::uint64_t waits_before = green::hub_stats().io_waits_started;
    std::vector<green::Greenlet<std::string>> gs;
    for (int i = 0; i < kFibers; ++i)
        gs.push_back(green::spawn(kCompact, [fd, i] {
            const off_t at = static_cast<off_t>(i) * 2 * kChunk;
            char a[kChunk], b[kChunk / 2], c[kChunk / 2];  // on the compact stack
            if (::pread(fd, a, sizeof a, at) != static_cast<ssize_t>(sizeof a))
                return std::string("pread");
            iovec iov[2] = {{b, sizeof b}, {c, sizeof c}};
            if (::preadv(fd, iov, 2, at + kChunk) != static_cast<ssize_t>(kChunk))
                return std::string("preadv");
            std::string got =
                std::string(a, sizeof a) + std::string(b, sizeof b) + std::string(c, sizeof c);
            // Writes the chunk back upper-cased from the stack, and syncs.
            for (char& ch : a) ch = static_cast<char>(ch - 'a' + 'A');
            if (::pwrite(fd, a, sizeof a, at) != static_cast<ssize_t>(sizeof a))
                return std::string("pwrite");
            if (::fdatasync(fd) != 0) return std::string("fdatasync");
            return got;
        }));
    for (int i = 0; i < kFibers; ++i)
        EXPECT_EQ(gs[i].get(), content.substr(static_cast<std::size_t>(i) * 2 * kChunk, 2 * kChunk))
            << i;
    // At least each fiber's fdatasync waited in the backend (cached reads, and writes where the
    // file system takes RWF_NOWAIT, are made at once: file_io.cpp).
    EXPECT_GE(green::hub_stats().io_waits_started - waits_before, std::uint64_t{kFibers});
    char back[kChunk];
    ASSERT_EQ(::pread(fd, back, sizeof back, 2 * kChunk), static_cast<ssize_t>(sizeof back));
    for (std::size_t k = 0; k < sizeof back; ++k)
        ASSERT_EQ(back[k], static_cast<char>(content[2 * kChunk + k] - 'a' + 'A')) << k;
    ::close(fd);
}

}  // namespace
