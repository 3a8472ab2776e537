// OwnedPidfd: pidfd_open and its close, by system call (the hooks' close must not see it);
// signals and the last-resort reap, by system call too (the hooks' waitid would park).
#include "pidfd.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "green/hub.hpp"
#include "owned_fds.hpp"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace green::detail {

OwnedPidfd::OwnedPidfd(pid_t pid) noexcept
    : fd_(pid > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)) : -1) {
    if (fd_ >= 0) runtime_fd_acquired(fd_);
}

void OwnedPidfd::reset() noexcept {
    if (fd_ < 0) return;
    const int fd = std::exchange(fd_, -1);
    green::notify_close(fd);
    runtime_fd_released(fd);
    ::syscall(SYS_close, fd);
}

int pidfd_signal(int fd, int sig) noexcept {
    return ::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) < 0 ? -errno : 0;
}

void kill_and_reap(pid_t pid) noexcept {
    ::syscall(SYS_kill, pid, SIGKILL);
    siginfo_t si;
    while (::syscall(SYS_waitid, P_PID, pid, &si, WEXITED, nullptr) < 0 && errno == EINTR) {
    }
}

}  // namespace green::detail
