// Compact greenlets in a program linked with green::hooks: plain libc calls (::sleep family,
// ::recv, ::send) made on a compact stack cooperate like the runtime's own waits.
#include <gtest/gtest.h>

#include <green/green.hpp>

#include "support/sleep_order.hpp"

#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

}  // namespace
