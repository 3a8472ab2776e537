// Waiting for children: waitpid, wait, wait3, wait4, waitid. In a fiber the call parks only the
// calling fiber while the child runs; elsewhere, and with WNOHANG, it is libc's call.
//
// Every result comes from libc's own call made with WNOHANG (so ECHILD, EINVAL, the status
// word, WNOWAIT, WUNTRACED/WCONTINUED, __WALL... are the kernel's exactly); between attempts the
// fiber waits:
// - one child (pid > 0, waitid P_PID/P_PIDFD): on its pidfd, readable once the child has exited;
//   with a timeout that grows to 1 s (50 ms when stops or continues are asked for, which a pidfd
//   does not report), so a ptrace or job-control state change is still seen;
// - any child or a process group (pid -1, 0, < -1, P_ALL, P_PGID): there is no descriptor for
//   those, so the fiber looks again on a growing interval, 1 ms to 50 ms.
// The wait is a pthread_cancel point and a signal-interruption point: a handled signal without
// SA_RESTART fails the call with EINTR (unless a child is waitable by then: the kernel reports
// that first); with SA_RESTART it keeps waiting, as the kernel restarts the wait calls.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "hook_common.hpp"

namespace green::hooks {

namespace {

using std::chrono::milliseconds;

// waitid's P_PIDFD (Linux 5.4), by number: older C libraries' idtype_t lacks the name.
constexpr idtype_t kPidfd = static_cast<idtype_t>(3);

// One park between two attempts: until fd (>= 0) is readable, or for the deadline. A
// cancellation point; a handled signal gives -EINTR, or 1 (look again) with SA_RESTART. When a
// signal wakes it, look() makes an attempt before the handler runs (true: it completed).
template <class Look>
int park_child(int fd, const Deadline& deadline, Look&& look) {
    return cancellable(
        [&] {
            return interruptible_settled(
                Restart::WithSaRestart,
                [&] {
                    if (fd >= 0) return green::wait_fd(fd, POLLIN, deadline);
                    green::sleep(deadline.remaining());
                    return 0;
                },
                look);
        },
        1);
}

// The blocking wait of every hook: attempt() is libc's call with WNOHANG (> 0: done, 0:
// nothing yet, < 0: failed with errno). `pid` names one child (> 0) or none; `pidfd` is the
// program's own descriptor for it (waitid P_PIDFD) or -1; `stops`: WUNTRACED/WCONTINUED asked.
template <class Attempt>
long wait_child(pid_t pid, int pidfd, bool stops, Attempt attempt) {
    ErrnoKeeper keep;
    cancel::act_if_pending();
    long r = attempt();
    if (r != 0) return keep.ok(r);
    rt::OwnedPidfd own(pidfd < 0 ? pid : 0);
    int fd = pidfd >= 0 ? pidfd : own.fd();
    const Duration cap = fd < 0 || stops ? milliseconds(50) : milliseconds(1000);
    Duration interval = fd < 0 ? milliseconds(1) : milliseconds(10);
    // A child waitable when a signal comes wins over the signal, as in the kernel (e.g. the
    // SIGCHLD of the very exit that ends the wait): the look on a signal comes before its handler
    // runs, so what the handler sets off cannot change the outcome. r stays 0 unless it found one.
    const auto look = [&] {
        r = attempt();
        return r != 0;
    };
    for (;;) {
        const int w = park_child(fd, Deadline(interval), look);
        if (r != 0) return keep.ok(r);
        if (w < 0 && w != -EINTR) fd = -1;  // the descriptor went bad: look on the interval
        // A handler without SA_RESTART ran and nothing was waitable before it: EINTR.
        if (w == -EINTR) {
            errno = EINTR;
            return -1;
        }
        r = attempt();
        if (r != 0) return keep.ok(r);
        interval = std::min<Duration>(interval * 2, cap);
    }
}

bool stop_options(int options) noexcept {
    return (options & (WUNTRACED | WCONTINUED)) != 0;
}

pid_t real_wait4(pid_t pid, int* status, int options, rusage* usage) {
    return GREEN_REAL_OR_SYSCALL(wait4, SYS_wait4, pid, status, options, usage);
}

pid_t real_waitpid(pid_t pid, int* status, int options) {
    if (auto real = GREEN_REAL(waitpid)) return real(pid, status, options);
    return static_cast<pid_t>(::syscall(SYS_wait4, pid, status, options, nullptr));
}

int real_waitid(idtype_t type, id_t id, siginfo_t* info, int options) {
    if (auto real = GREEN_REAL(waitid)) return real(type, id, info, options);
    return static_cast<int>(::syscall(SYS_waitid, type, id, info, options, nullptr));
}

// A pidfd opened with PIDFD_NONBLOCK (O_NONBLOCK): waitid on it fails with EAGAIN while the
// child runs, at once; libc's call says so.
bool nonblocking_pidfd(idtype_t type, id_t id) noexcept {
    if (type != kPidfd) return false;
    const long flags = ::syscall(SYS_fcntl, static_cast<int>(id), F_GETFL);
    return flags >= 0 && (flags & O_NONBLOCK);
}

pid_t wait4_hook(pid_t pid, int* status, int options, rusage* usage) {
    if (!route(Need::Io) || (options & WNOHANG)) return real_wait4(pid, status, options, usage);
    return static_cast<pid_t>(wait_child(pid, -1, stop_options(options), [&]() -> long {
        return real_wait4(pid, status, options | WNOHANG, usage);
    }));
}

}  // namespace

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

pid_t waitpid(pid_t pid, int* status, int options) {
    if (!route(Need::Io) || (options & WNOHANG)) return real_waitpid(pid, status, options);
    return static_cast<pid_t>(wait_child(pid, -1, stop_options(options), [&]() -> long {
        return real_waitpid(pid, status, options | WNOHANG);
    }));
}

pid_t wait(int* status) {
    return wait4_hook(-1, status, 0, nullptr);
}

pid_t wait3(int* status, int options, struct rusage* usage) {
    return wait4_hook(-1, status, options, usage);
}

pid_t wait4(pid_t pid, int* status, int options, struct rusage* usage) {
    return wait4_hook(pid, status, options, usage);
}

int waitid(idtype_t type, id_t id, siginfo_t* info, int options) {
    if (!route(Need::Io) || (options & WNOHANG) || nonblocking_pidfd(type, id))
        return real_waitid(type, id, info, options);
    const pid_t pid = type == P_PID && static_cast<pid_t>(id) > 0 ? static_cast<pid_t>(id) : 0;
    const int pidfd = type == kPidfd ? static_cast<int>(id) : -1;
    const long r = wait_child(pid, pidfd, (options & (WSTOPPED | WCONTINUED)) != 0, [&]() -> long {
        // With WNOHANG the kernel reports "nothing yet" as success with si_pid 0.
        siginfo_t si{};
        if (real_waitid(type, id, &si, options | WNOHANG) < 0) return -1;
        if (si.si_pid == 0) return 0;
        if (info) *info = si;
        return 1;
    });
    return r < 0 ? -1 : 0;
}

}  // extern "C"
