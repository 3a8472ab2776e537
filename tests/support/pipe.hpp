// A non-blocking pipe for tests of the readiness waits; closes its ends the way green code must
// (notify_close before close(2)), so waiters see EBADF and no stale readiness survives.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <green/hub.hpp>

namespace green_test {

struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
        r = fds[0];
        w = fds[1];
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    ~Pipe() {
        close_fd(r);
        close_fd(w);
    }
    static void close_fd(int& fd) {
        if (fd < 0) return;
        green::notify_close(fd);
        ::close(fd);
        fd = -1;
    }
};

}  // namespace green_test
