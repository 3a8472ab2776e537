// The backend's whole-operation entry (IoBackend::submit) on both backends: a blocking pipe read
// parks until data comes, a regular file is read at an offset, a deadline ends a read with
// -ETIME and nothing consumed, close wakes it with EBADF. And io_uring's hand-over to epoll when
// io_uring_enter is refused after setup (a seccomp filter), for a wait already pending and a new
// one.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <green/green.hpp>

#include "support/files.hpp"

#include "io_backend.hpp"
#include "scheduler.hpp"

using namespace std::chrono_literals;
using green::detail::IoOp;

namespace {

long submit(IoOp::Kind kind, int fd, void* buf, std::size_t len, green::Deadline d = {},
            std::int64_t offset = -1) {
    IoOp op{kind, fd, buf, len};
    op.offset = offset;
    return green::detail::Hub::get().io().submit(op, d);
}

struct BlockingPipe {
    int r = -1, w = -1;
    BlockingPipe() {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);  // blocking, as a program's pipe is
        r = fds[0];
        w = fds[1];
    }
    ~BlockingPipe() {
        for (int fd : {r, w}) {
            if (fd < 0) continue;
            green::notify_close(fd);
            ::close(fd);
        }
    }
};

}  // namespace

TEST(IoSubmit, BlockingPipeReadParksUntilDataComes) {
    BlockingPipe p;
    int steps = 0;
    auto writer = green::spawn([&] {
        ++steps;  // ran while the reader was parked: the read did not block the thread
        green::sleep(10ms);
        EXPECT_EQ(::write(p.w, "hello", 5), 5);
    });
    char buf[16] = {};
    EXPECT_EQ(submit(IoOp::Kind::Read, p.r, buf, sizeof buf), 5);
    EXPECT_STREQ(buf, "hello");
    EXPECT_EQ(steps, 1);
    writer.join();
    // End of file once the writer is gone.
    green::notify_close(p.w);
    ::close(p.w);
    p.w = -1;
    EXPECT_EQ(submit(IoOp::Kind::Read, p.r, buf, sizeof buf), 0);
}

TEST(IoSubmit, DeadlineEndsAReadWithNothingConsumed) {
    BlockingPipe p;
    char buf[8];
    EXPECT_EQ(submit(IoOp::Kind::Read, p.r, buf, sizeof buf, green::Deadline(20ms)), -ETIME);
    EXPECT_EQ(submit(IoOp::Kind::Read, p.r, buf, sizeof buf, green::Deadline(0ms)), -ETIME);
    ASSERT_EQ(::write(p.w, "x", 1), 1);
    EXPECT_EQ(submit(IoOp::Kind::Read, p.r, buf, sizeof buf, green::Deadline(1s)), 1);
}

TEST(IoSubmit, CloseWakesAPendingReadWithEbadf) {
    BlockingPipe p;
    auto closer = green::spawn([&] {
        green::sleep(10ms);
        green::notify_close(p.r);
        ::close(p.r);
        p.r = -1;
    });
    const int fd = p.r;
    char buf[8];
    EXPECT_EQ(submit(IoOp::Kind::Read, fd, buf, sizeof buf, green::Deadline(5s)), -EBADF);
    closer.join();
}

TEST(IoSubmit, KillDuringAReadUnwindsAfterTheOperationEnds) {
    BlockingPipe p;
    bool unwound = false;
    auto reader = green::spawn([&] {
        struct Flag {
            bool& f;
            ~Flag() { f = true; }
        } flag{unwound};
        char buf[8];
        submit(IoOp::Kind::Read, p.r, buf, sizeof buf);
    });
    green::sleep(5ms);
    reader.kill();
    EXPECT_TRUE(unwound);
    // The cancelled read took nothing: the next byte written is there for the next reader.
    ASSERT_EQ(::write(p.w, "y", 1), 1);
    char c = 0;
    EXPECT_EQ(submit(IoOp::Kind::Read, p.r, &c, 1, green::Deadline(1s)), 1);
    EXPECT_EQ(c, 'y');
}

TEST(IoSubmit, RegularFileReadAndWriteAtOffsets) {
    const int fd = green_test::unlinked_temp_file();
    ASSERT_GE(fd, 0);
    char text[] = "0123456789";
    EXPECT_EQ(submit(IoOp::Kind::Write, fd, text, 10, {}, 0), 10);
    char buf[4] = {};
    EXPECT_EQ(submit(IoOp::Kind::Read, fd, buf, 3, {}, 4), 3);
    EXPECT_EQ(std::string(buf, 3), "456");
    // At the file position (-1): the write above used pwrite, so the position is still 0.
    EXPECT_EQ(submit(IoOp::Kind::Read, fd, buf, 2), 2);
    EXPECT_EQ(std::string(buf, 2), "01");
    EXPECT_EQ(submit(IoOp::Kind::Read, fd, buf, 4, {}, 100), 0);  // past the end
    green::notify_close(fd);
    ::close(fd);
}

TEST(IoSubmit, BadDescriptor) {
    char buf[4];
    EXPECT_EQ(submit(IoOp::Kind::Read, -1, buf, 4), -EBADF);
}

// ---- io_uring refused after setup --------------------------------------------------------

namespace {

// Makes io_uring_enter fail with EPERM from now on, for this thread and those it creates.
bool deny_io_uring_enter() {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

// The child's body: exit status 0 when both reads complete on the new backend.
int fallback_child() {
    ::alarm(20);  // a hang becomes SIGALRM, not a stuck test
    if (std::strcmp(green::backend_name(), "io_uring") != 0) return 10;
    BlockingPipe a, b;
    char got_a = 0, got_b = 0;
    long ra = 0, rb = 0;
    auto pending = green::spawn([&] { ra = submit(IoOp::Kind::Read, a.r, &got_a, 1); });
    green::sleep(10ms);  // the read is submitted and parked in the kernel
    if (!deny_io_uring_enter()) return 11;
    auto fresh = green::spawn([&] {
        char c = 0;
        rb = submit(IoOp::Kind::Read, b.r, &c, 1);
        if (rb == 1) got_b = c;
    });
    auto waiter = green::spawn([&] {
        if (green::wait_fd(b.w, POLLOUT, 5s) <= 0) got_b = '!';
    });
    green::sleep(10ms);
    if (::write(a.w, "A", 1) != 1 || ::write(b.w, "B", 1) != 1) return 12;
    pending.join();
    fresh.join();
    waiter.join();
    green::sleep(1ms);  // timers still work
    if (got_a != 'A' || got_b != 'B') {
        std::fprintf(stderr, "got %d %d: %ld %ld\n", got_a, got_b, ra, rb);
        return 13;
    }
    if (std::strcmp(green::backend_name(), "epoll") != 0) return 14;
    return 0;
}

}  // namespace

TEST(IoFallback, RefusedIoUringEnterHandsOverToEpoll) {
    if (std::strcmp(green::backend_name(), "io_uring") != 0)
        GTEST_SKIP() << "runs on the io_uring backend";
    int err[2];
    ASSERT_EQ(::pipe(err), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::dup2(err[1], 2);
        std::_Exit(fallback_child());
    }
    ::close(err[1]);
    std::string stderr_text;
    char buf[256];
    ssize_t n;
    while ((n = ::read(err[0], buf, sizeof buf)) > 0) stderr_text.append(buf, n);
    ::close(err[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status) << "; stderr: " << stderr_text;
    EXPECT_EQ(WEXITSTATUS(status), 0) << stderr_text;
    // One warning line, naming the error and the new backend.
    EXPECT_NE(stderr_text.find("io_uring_enter failed (Operation not permitted); switching this "
                               "hub to epoll\n"),
              std::string::npos)
        << stderr_text;
    EXPECT_EQ(stderr_text.find('\n'), stderr_text.size() - 1) << stderr_text;
}
