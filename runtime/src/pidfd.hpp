// A pidfd (pidfd_open, Linux 5.3): a descriptor for one child that becomes readable when the
// child exits, so a fiber waits for the exit on the hub like any other fd. Used by Popen and by
// the hooks' waitpid family; with the one kill-and-reap of a child nobody will wait for.
#pragma once

#include <sys/types.h>

namespace green::detail {

// Opens a pidfd for `pid` (> 0; otherwise, or where the kernel has none, fd() is -1) and closes
// it however its owner ends. The runtime's while it exists: a program's closefrom/close_range
// (the daemon idiom) must not close it, nor a later descriptor reusing its number be closed by
// mistake.
class OwnedPidfd {
  public:
    explicit OwnedPidfd(pid_t pid) noexcept;
    OwnedPidfd(const OwnedPidfd&) = delete;
    OwnedPidfd& operator=(const OwnedPidfd&) = delete;
    ~OwnedPidfd() { reset(); }
    int fd() const noexcept { return fd_; }
    // Closes it now (the hub forgets it first: it may have registered it while a fiber waited).
    void reset() noexcept;

  private:
    int fd_;
};

// pidfd_send_signal(fd, sig): 0 or -errno.
int pidfd_signal(int fd, int sig) noexcept;

// SIGKILL to `pid` (a child not yet reaped), then a blocking reap by system call: for an owner
// that is unwinding or being destroyed, where parking is not an option. A killed child is gone
// within moments.
void kill_and_reap(pid_t pid) noexcept;

}  // namespace green::detail
