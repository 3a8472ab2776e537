// Popen::communicate's pump: stdin written, stdout and stderr read, all from one fiber through
// a short-lived epoll set that the fiber waits on with wait_fd (one wait in the hub, no helper
// fibers), so no full pipe can stall the child and nothing here blocks the hub. A kill or
// Timeout unwinds through it with nothing left behind but the Popen's own pipes.
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <system_error>
#include <utility>

#include "child_spawn.hpp"
#include "green/hub.hpp"
#include "io_call.hpp"
#include "popen_state.hpp"

namespace green::detail {

namespace {

[[noreturn]] void throw_errno(int err, const char* what) {
    throw std::system_error(err, std::system_category(), what);
}

// The epoll set the fiber waits on, level-triggered with exactly the open pipes in it.
class PipeSet {
  public:
    PipeSet() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {
        if (fd_ < 0) throw_errno(errno, "green::Popen::communicate: epoll_create1");
    }
    PipeSet(const PipeSet&) = delete;
    PipeSet& operator=(const PipeSet&) = delete;
    ~PipeSet() {
        green::notify_close(fd_);  // the hub registered it while we waited
        ::syscall(SYS_close, fd_);
    }
    void add(int fd, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = fd;
        if (::epoll_ctl(fd_, EPOLL_CTL_ADD, fd, &ev) < 0)
            throw_errno(errno, "green::Popen::communicate: epoll_ctl");
    }
    void remove(int fd) noexcept { ::epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr); }
    // Ready pipes now, without waiting (a raw call: with the hooks loaded epoll_wait is theirs).
    int ready(epoll_event* out, int max) noexcept {
        for (;;) {
            const long n = ::syscall(SYS_epoll_pwait, fd_, out, max, 0, nullptr, 0);
            if (n >= 0 || errno != EINTR) return n < 0 ? -errno : static_cast<int>(n);
        }
    }
    int fd() const noexcept { return fd_; }

  private:
    int fd_;
};

// A write to a pipe whose reader is gone raises SIGPIPE at the writing thread, which would end
// the program: hold it blocked for the write and take back the one the write raised (unless one
// was already pending before: that one belongs to someone else).
long write_without_sigpipe(int fd, const void* buf, std::size_t len) noexcept {
    sigset_t pipe_only, old, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    ::syscall(SYS_rt_sigprocmask, SIG_BLOCK, &pipe_only, &old, _NSIG / 8);
    sigemptyset(&pending);
    ::syscall(SYS_rt_sigpending, &pending, _NSIG / 8);
    const bool was_pending = sigismember(&pending, SIGPIPE);
    const long r = sys_write(fd, buf, len, -1);
    if (r == -EPIPE && !was_pending) {
        const timespec zero{0, 0};
        while (::syscall(SYS_rt_sigtimedwait, &pipe_only, nullptr, &zero, _NSIG / 8) < 0 &&
               errno == EINTR) {
        }
    }
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, _NSIG / 8);
    return r;
}

// The read step of one output pipe: everything there is now, appended; closes it at the end.
void drain(PipeSet& set, int& fd, std::string& into) {
    char buf[16384];
    for (;;) {
        const long n = sys_read(fd, buf, sizeof buf, -1);
        if (n > 0) {
            into.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n == -EAGAIN || n == -EINTR) return;
        if (n < 0) throw_errno(static_cast<int>(-n), "green::Popen::communicate: read");
        set.remove(fd);
        close_pipe_end(fd);
        return;
    }
}

// The write step of stdin: as much input as fits now; closes it when all is written or the
// child stopped reading (EPIPE: the rest is dropped, as Python does).
void feed(PipeSet& set, subprocess::Popen::State& s) {
    while (s.input_done < s.input.size()) {
        const long n = write_without_sigpipe(s.in, s.input.data() + s.input_done,
                                             s.input.size() - s.input_done);
        if (n > 0) {
            s.input_done += static_cast<std::size_t>(n);
            continue;
        }
        if (n == -EAGAIN || n == -EINTR) return;
        if (n != -EPIPE) throw_errno(static_cast<int>(-n), "green::Popen::communicate: write");
        break;
    }
    set.remove(s.in);
    close_pipe_end(s.in);
}

}  // namespace

bool pump_pipes(subprocess::Popen::State& s, const Deadline& deadline) {
    if (s.in >= 0 && s.input_done >= s.input.size()) close_pipe_end(s.in);
    if (s.in < 0 && s.out < 0 && s.err < 0) return true;
    PipeSet set;
    if (s.in >= 0) set.add(s.in, EPOLLOUT);
    if (s.out >= 0) set.add(s.out, EPOLLIN);
    if (s.err >= 0) set.add(s.err, EPOLLIN);
    while (s.in >= 0 || s.out >= 0 || s.err >= 0) {
        epoll_event ev[3];
        const int n = set.ready(ev, 3);
        if (n < 0) throw_errno(-n, "green::Popen::communicate: epoll_wait");
        if (n == 0) {
            const int w = green::wait_fd(set.fd(), POLLIN, deadline);
            if (w == 0) return false;
            if (w < 0) throw_errno(-w, "green::Popen::communicate: wait");
            continue;
        }
        for (int i = 0; i < n; ++i) {
            const int fd = ev[i].data.fd;
            if (fd == s.in && s.in >= 0)
                feed(set, s);
            else if (fd == s.out && s.out >= 0)
                drain(set, s.out, s.out_buf);
            else if (fd == s.err && s.err >= 0)
                drain(set, s.err, s.err_buf);
        }
    }
    return true;
}

}  // namespace green::detail
