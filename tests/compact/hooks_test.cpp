// Compact greenlets in a program linked with green::hooks: plain libc calls (::sleep family,
// ::recv, ::send) made on a compact stack cooperate like the runtime's own waits.
#include <gtest/gtest.h>

#include <green/green.hpp>

#include "support/files.hpp"
#include "support/sleep_order.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

const green::SpawnOptions kCompact{.stack_mode = green::StackMode::Compact};

// Parks in the offload pool's wait so far on this hub (what a call made at once never does).
std::uint64_t offload_parks() {
    int reason = 0;
    while (std::string(green::kParkReasons[reason]) != "offload") ++reason;
    return green::hub_stats().parks_by_reason[reason];
}

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

// copy_file_range from compact stacks goes to the offload pool (with its record, arguments and
// offsets on the heap), so the hub runs on meanwhile; the offsets on the stacks end where the
// kernel left them and the bytes are copied, as natively.
TEST(CompactHooks, CopyFileRangeFromCompactStacksGoesToThePool) {
    const int in = green_test::unlinked_temp_file();
    const int out = green_test::unlinked_temp_file();
    ASSERT_GE(in, 0);
    ASSERT_GE(out, 0);
    constexpr int kFibers = 4;
    constexpr std::size_t kChunk = 64 * 1024;
    std::string content(kFibers * kChunk, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 19);
    ASSERT_EQ(::pwrite(in, content.data(), content.size(), 0),
              static_cast<ssize_t>(content.size()));
    const std::uint64_t parks_before = offload_parks();
    std::vector<green::Greenlet<std::string>> gs;
    for (int i = 0; i < kFibers; ++i)
        gs.push_back(green::spawn(kCompact, [in, out, i] {
            off64_t off_in = static_cast<off64_t>(i) * kChunk;  // on the compact stack
            off64_t off_out = off_in;
            const ssize_t n = ::copy_file_range(in, &off_in, out, &off_out, kChunk, 0);
            if (n != static_cast<ssize_t>(kChunk)) return "copied " + std::to_string(n);
            const off64_t end = static_cast<off64_t>(i + 1) * kChunk;
            if (off_in != end || off_out != end)
                return "offsets " + std::to_string(off_in) + " " + std::to_string(off_out);
            return std::string();
        }));
    for (int i = 0; i < kFibers; ++i) EXPECT_EQ(gs[i].get(), "") << i;
    EXPECT_GE(offload_parks() - parks_before, std::uint64_t{kFibers});
    std::string copied(content.size(), '\0');
    ASSERT_EQ(::pread(out, copied.data(), copied.size(), 0), static_cast<ssize_t>(copied.size()));
    EXPECT_TRUE(copied == content);
    ::close(in);
    ::close(out);
}

// system() and popen() from compact fibers start their shells on the offload pool (posix_spawn's
// arguments copied to the heap), as from default ones: each start parks its fiber there.
TEST(CompactHooks, SystemAndPopenFromCompactFibersStartOnThePool) {
    constexpr int kFibers = 4;
    const std::uint64_t parks_before = offload_parks();
    std::vector<green::Greenlet<int>> gs;
    for (int i = 0; i < kFibers; ++i)
        gs.push_back(green::spawn(kCompact, [i] {
            char command[32];  // on the compact stack
            std::snprintf(command, sizeof command, "exit %d", i + 1);
            const int status = ::system(command);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != i + 1) return -1;
            std::snprintf(command, sizeof command, "echo %d", i + 10);
            FILE* f = ::popen(command, "r");
            if (!f) return -2;
            char line[16] = {};
            const bool read = std::fgets(line, sizeof line, f) != nullptr;
            if (::pclose(f) != 0 || !read) return -3;
            return std::atoi(line);
        }));
    for (int i = 0; i < kFibers; ++i) EXPECT_EQ(gs[i].get(), i + 10) << i;
    EXPECT_GE(offload_parks() - parks_before, std::uint64_t{2 * kFibers});
}

// sendfile and splice from a cold file (its pages dropped) on compact stacks: the kernel would
// wait for the disk inside the call, so it runs on the offload pool (the offsets, on the
// stacks, go to the heap with the call and come back), not on the hub's thread.
TEST(CompactHooks, SendfileAndSpliceFromAColdFileGoToThePool) {
    const int in = green_test::unlinked_temp_file();
    ASSERT_GE(in, 0);
    constexpr int kFibers = 4;
    constexpr std::size_t kChunk = 16 * 1024;  // fits an empty pipe whole
    std::string content(2 * kFibers * kChunk, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 23);
    ASSERT_EQ(::pwrite(in, content.data(), content.size(), 0),
              static_cast<ssize_t>(content.size()));
    ASSERT_EQ(::fsync(in), 0);
    ASSERT_EQ(::posix_fadvise(in, 0, 0, POSIX_FADV_DONTNEED), 0);
    ASSERT_EQ(::posix_fadvise(in, 0, 0, POSIX_FADV_RANDOM), 0);  // no read-ahead: each stays cold
    if (green_test::resident_pages(in, content.size()) != 0)
        GTEST_SKIP() << "the file system keeps the pages (tmpfs?): nothing is cold";
    const std::uint64_t parks_before = offload_parks();
    std::vector<green::Greenlet<std::string>> gs;
    for (int i = 0; i < kFibers; ++i)
        gs.push_back(green::spawn(kCompact, [in, i, &content] {
            int p[2];
            if (::pipe(p) != 0) return std::string("pipe");
            std::string got(2 * kChunk, '\0');
            off_t off = static_cast<off_t>(2 * i * kChunk);  // on the compact stack
            const ssize_t a = ::sendfile(p[1], in, &off, kChunk);
            const bool read_a = a > 0 && ::read(p[0], got.data(), kChunk) == a;
            loff_t off_in = static_cast<loff_t>((2 * i + 1) * kChunk);
            const ssize_t b = ::splice(in, &off_in, p[1], nullptr, kChunk, 0);
            const bool read_b = b > 0 && ::read(p[0], got.data() + kChunk, kChunk) == b;
            ::close(p[0]);
            ::close(p[1]);
            if (a != static_cast<ssize_t>(kChunk) || !read_a)
                return "sendfile " + std::to_string(a);
            if (b != static_cast<ssize_t>(kChunk) || !read_b) return "splice " + std::to_string(b);
            if (off != static_cast<off_t>((2 * i + 1) * kChunk) ||
                off_in != static_cast<loff_t>((2 * i + 2) * kChunk))
                return "offsets " + std::to_string(off) + " " + std::to_string(off_in);
            if (got != content.substr(2 * i * kChunk, 2 * kChunk)) return std::string("bytes");
            return std::string();
        }));
    for (int i = 0; i < kFibers; ++i) EXPECT_EQ(gs[i].get(), "") << i;
    EXPECT_GE(offload_parks() - parks_before, std::uint64_t{2 * kFibers});
    ::close(in);
}

}  // namespace
