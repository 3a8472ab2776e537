// The public readiness waits (wait_read / wait_write / wait_readwrite) on pipes: ready bits,
// Timeout at the deadline, EBADF for bad or closed descriptors.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <green/green.hpp>

#include "support/pipe.hpp"

using namespace std::chrono_literals;

using green_test::Pipe;

TEST(WaitFd, ReadBecomesReady) {
    Pipe p;
    auto writer = green::spawn([&] {
        green::sleep(10ms);
        EXPECT_EQ(::write(p.w, "x", 1), 1);
    });
    EXPECT_TRUE(green::wait_read(p.r, 5s) & POLLIN);
    writer.get();
    EXPECT_TRUE(green::wait_write(p.w, 1s) & POLLOUT);
    EXPECT_TRUE(green::wait_readwrite(p.w, 1s) & POLLOUT);
}

TEST(WaitFd, TimeoutThrows) {
    Pipe p;
    const auto t0 = green::Clock::now();
    EXPECT_THROW(green::wait_read(p.r, 50ms), green::Timeout);
    EXPECT_GE(green::Clock::now() - t0, 45ms);
    EXPECT_THROW(green::wait_read(p.r, green::Duration::zero()), green::Timeout);
}

TEST(WaitFd, BadDescriptorIsEbadf) {
    try {
        green::wait_read(-1, 1s);
        FAIL();
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EBADF);
        EXPECT_NE(std::string(e.what()).find("wait_read"), std::string::npos);
    }
}

TEST(WaitFd, ClosedWhileWaiting) {
    Pipe p;
    auto waiter = green::spawn([&] { return green_test::wait_read_errno(p.r); });
    green::sleep(10ms);
    Pipe::close_fd(p.r);
    EXPECT_EQ(waiter.get(5s), EBADF);
}
