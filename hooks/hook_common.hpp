// What every I/O hook shares: the decision "may this call wait cooperatively?" (a fiber of a
// hub, not the loop fiber, I/O patched), errno hygiene, and waiting on one fd through the
// runtime's wait_fd. Internal to the hook library.
#pragma once

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>

#include "fd_table.hpp"
#include "green/clock.hpp"
#include "green/hub.hpp"
#include "hub.hpp"
#include "patch_config.hpp"
#include "real_symbols.hpp"
#include "signal_hooks.hpp"

namespace green::hooks {

using ::green::Deadline;
using ::green::Duration;

// The calling fiber's hub when this call may park the fiber; nullptr means "call libc": no hub
// on this thread (offload workers, plain threads), the hub's own loop fiber, or I/O not patched.
inline detail::Hub* fiber_hub() noexcept {
    detail::Hub* h = detail::Hub::peek();
    if (!h || h->in_loop_fiber()) [[likely]]
        return nullptr;
    return patch_config().io ? h : nullptr;
}

// Restores the caller's errno on success: the retries inside a hook set EAGAIN on the way, and
// libc leaves errno alone when a call succeeds.
class ErrnoKeeper {
  public:
    template <class T>
    T ok(T r) const noexcept {
        if (r >= 0) errno = saved_;
        return r;
    }

  private:
    int saved_ = errno;
};

inline Deadline deadline_after_ns(std::int64_t ns) noexcept {
    return ns > 0 ? Deadline(std::chrono::nanoseconds(ns)) : Deadline();
}

// Parks until fd may be ready: 0 to retry, or -1 with errno EAGAIN (deadline: what the kernel
// reports when SO_RCVTIMEO/SO_SNDTIMEO expire), EBADF (closed while waiting) or EINTR (a signal
// handler without SA_RESTART ran for this fiber).
inline int wait_ready(int fd, short events, const Deadline& deadline) {
    const int w = interruptible_wait_fd(fd, events, deadline);  // -EINTR: a handler ran
    if (w > 0) return 0;
    errno = w == 0 ? EAGAIN : -w;
    return -1;
}

// One zero-timeout poll(2), bypassing the poll hook: ready bits, 0, or -1 with errno.
inline int poll_now(int fd, short events) noexcept {
    pollfd p{fd, events, 0};
    const long r = ::syscall(SYS_poll, &p, 1, 0);
    if (r <= 0) return static_cast<int>(r);
    return p.revents;
}

// For descriptors whose O_NONBLOCK green must not touch (pipes, terminals, eventfds: they are
// often shared with other processes): wait until poll says the call cannot block, then make it.
template <class Call>
auto when_ready(int fd, short events, Call call) -> decltype(call()) {
    ErrnoKeeper keep;
    for (;;) {
        const int r = poll_now(fd, events);
        if (r > 0) return keep.ok(call());
        if (r < 0 && errno != EINTR) return -1;
        if (r == 0 && wait_ready(fd, events, Deadline()) < 0) return -1;
    }
}

}  // namespace green::hooks
