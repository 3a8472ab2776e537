// Waiting for the first of several descriptors, for poll/select/epoll hooks running in a fiber.
// One fd is one runtime wait_fd; several are gathered into a short-lived epoll set that the
// fiber waits on with wait_fd — still one wait in the hub, no second event loop.
#pragma once

#include <poll.h>
#include <signal.h>

#include <initializer_list>

#include "green/clock.hpp"

namespace green::hooks {

// Parks until one of `fds` (poll(2) events; negative fds ignored) or one of `extra` (readable;
// -1 entries ignored) may be ready, or the deadline passes. 1: look again with a zero-timeout
// poll (the answer may be spurious), 0: deadline, -errno: the wait itself failed.
int wait_any(const pollfd* fds, nfds_t n, std::initializer_list<int> extra,
             const Deadline& deadline);

// A signalfd that becomes readable when a signal arrives that `mask` would unblock for the
// duration of a ppoll/pselect/epoll_pwait, or -1 when the mask unblocks nothing. Close it with
// close_wake_fd.
int signal_wake_fd(const sigset_t* mask) noexcept;
void close_wake_fd(int fd) noexcept;

}  // namespace green::hooks
