// What every I/O hook shares: the decision "may this call wait cooperatively?" (a fiber of a
// hub, not the loop fiber, I/O patched), errno hygiene, and waiting on one fd through the
// runtime's one I/O primitive (detail::io_call). Internal to the hook library.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>

#include "cancel_point.hpp"
#include "fd_table.hpp"
#include "green/clock.hpp"
#include "green/hub.hpp"
#include "hub.hpp"
#include "io_call.hpp"
#include "patch_config.hpp"
#include "real_symbols.hpp"

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

// A result of the runtime's I/O primitive as libc reports it: the count, or -1 with errno. The
// deadline reads as EAGAIN, what the kernel reports when SO_RCVTIMEO/SO_SNDTIMEO expire.
inline long libc_result(long r) noexcept {
    if (r >= 0) return r;
    errno = r == -ETIME ? EAGAIN : static_cast<int>(-r);
    return -1;
}

// A libc-style call (count, or -1 with errno) as the runtime's attempt (count or -errno).
template <class Call>
auto attempt_of(Call& call) {
    return [&call]() -> long { return detail::sys_result(call()); };
}

// Every wait of an I/O hook goes through io_wait, when_ready or submit_op: the runtime's I/O
// primitive (detail::io_call) on the calling fiber's hub, with the result in libc's terms. io_wait:
// call() cannot block (MSG_DONTWAIT, or O_NONBLOCK for the call): try, then wait on EAGAIN.
// when_ready: for descriptors in blocking mode that green must not switch (pipes, terminals,
// eventfds: often shared with other processes): wait until call() cannot block.
// Each is a cancellation point (POSIX makes every hook that waits here one): a pending
// pthread_cancel acts before the first attempt, and one arriving while parked wakes the wait.
template <class Call>
long io_wait(int fd, short events, const Deadline& deadline, Call call) {
    return libc_result(cancellable(
        [&] {
            return detail::io_call(detail::Hub::get().io(), fd, events, deadline,
                                   attempt_of(call));
        },
        -long{EINTR}));
}

// The third way in: one whole operation the backend runs (io_uring submits it; epoll waits for
// readiness, then calls), for a descriptor in blocking mode. No deadline.
inline long submit_op(detail::IoOp::Kind kind, int fd, void* buf, std::size_t len) {
    ErrnoKeeper keep;
    detail::IoOp op{kind, fd, buf, len};
    return keep.ok(libc_result(
        cancellable([&] { return detail::Hub::get().io().submit(op, Deadline()); }, -long{EINTR})));
}

template <class Call>
long when_ready(int fd, short events, Call call) {
    ErrnoKeeper keep;
    return keep.ok(libc_result(cancellable(
        [&] {
            return detail::io_call_when_ready(detail::Hub::get().io(), fd, events, Deadline(),
                                              attempt_of(call));
        },
        -long{EINTR})));
}

}  // namespace green::hooks
