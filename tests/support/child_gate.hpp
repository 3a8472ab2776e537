// A gate that child processes wait at until the parent opens it, so a test decides when a child
// ends by events, never by a child's sleep: a pipe whose read end the children inherit. Opening
// writes a byte (readable for forked children, which may hold copies of the write end) and
// closes the write end (end of file for an exec'd program that reads to the end). A child gives
// up after 10 s (a safety net, not a speed bound): a parent that never opened the gate fails its
// test then, through the child's exit status, instead of hanging it.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

namespace green_test {

class ChildGate {
  public:
    ChildGate() {
        int p[2];
        EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
        read_ = p[0];
        write_ = p[1];               // close-on-exec: no program the test starts holds it
        ::fcntl(read_, F_SETFD, 0);  // inherited, also across exec
    }
    ChildGate(const ChildGate&) = delete;
    ChildGate& operator=(const ChildGate&) = delete;
    ~ChildGate() {
        open();
        ::close(read_);
    }

    void open() {
        if (write_ < 0) return;
        EXPECT_EQ(::write(write_, "o", 1), 1);
        ::close(write_);
        write_ = -1;
    }

    // In a forked child, with raw system calls (nothing of the parent's hub runs there): true
    // once the parent opened the gate, false after 10 s.
    bool wait_in_forked_child() const {
        pollfd pfd{read_, POLLIN, 0};
        timespec limit{10, 0};
        return ::syscall(SYS_ppoll, &pfd, 1, &limit, nullptr, 8) == 1;
    }

    // A shell command that waits at the gate: true (0) once it opens, 124 after 10 s.
    std::string shell_wait() const {
        return "timeout 10 cat /dev/fd/" + std::to_string(read_) + " >/dev/null";
    }

  private:
    int read_ = -1, write_ = -1;
};

}  // namespace green_test
