// A non-blocking pipe for tests of the readiness waits; closes its ends the way green code must
// (notify_close before close(2)), so waiters see EBADF and no stale readiness survives.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <system_error>

#include <green/hub.hpp>
#include <green/wait_fd.hpp>

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

// Waits until `fd` is readable: 0, or the errno of the std::system_error the wait threw (EBADF
// when the fd is closed under the waiter).
inline int wait_read_errno(int fd) {
    try {
        green::wait_read(fd);
    } catch (const std::system_error& e) {
        return e.code().value();
    }
    return 0;
}

}  // namespace green_test
