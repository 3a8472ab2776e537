// What every I/O hook shares: the decision "may this call wait cooperatively?" (a fiber of a
// hub, not the loop fiber, I/O patched), errno hygiene, and waiting on one fd through the
// runtime's one I/O primitive (rt::io_call_parking). Internal to the hook library.
#pragma once

#include <poll.h>
#include <stdarg.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>

#include "cancel_point.hpp"
#include "fd_table.hpp"
#include "green/clock.hpp"
#include "green/hub.hpp"
#include "hook_interface.hpp"
#include "real_symbols.hpp"
#include "route.hpp"
#include "signal_hooks.hpp"

namespace green::hooks {

using ::green::Deadline;
using ::green::Duration;

// The body of a variadic hook (printf, scanf, dprintf...) that hands its arguments to the
// va_list form: `call`, an int expression, sees them as `ap`, started after `last`.
#define GREEN_FORWARD_VARIADIC(last, call) \
    do {                                   \
        va_list ap;                        \
        va_start(ap, last);                \
        const int r_ = (call);             \
        va_end(ap);                        \
        return r_;                         \
    } while (0)

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
    return [&call]() -> long { return rt::sys_result(call()); };
}

// The park of every I/O hook: until fd is ready (> 0), the deadline (0) or an error (-errno;
// -EBADF: closed while waiting). It is a cancellation point (pthread_cancel wakes it and ends
// the thread) and an interruption point: a handler run for this fiber meanwhile makes it -EINTR,
// or > 0 (look again) when the handler has SA_RESTART and the wait has no deadline, as the
// kernel restarts such calls.
inline int hook_park(int fd, short events, const Deadline& deadline) {
    return cancellable([&] { return interruptible_wait_fd(fd, events, deadline); }, 1);
}

// Every wait of an I/O hook goes through io_wait, when_ready or submit_op: the runtime's I/O
// primitive (rt::io_call_parking) with hook_park, and the result in libc's terms. Each acts
// on a pending cancellation request first, even when the call then completes at once.
// io_wait: call() cannot block (MSG_DONTWAIT, or O_NONBLOCK for the call): try, then wait on
// EAGAIN.
template <class Call>
long io_wait(int fd, short events, const Deadline& deadline, Call call) {
    cancel::act_if_pending();
    return libc_result(
        rt::io_call_parking([&] { return hook_park(fd, events, deadline); }, attempt_of(call)));
}

// when_ready: for descriptors in blocking mode that green must not switch (pipes, terminals,
// eventfds: often shared with other processes): wait until call() cannot block.
template <class Call>
long when_ready(int fd, short events, Call call) {
    ErrnoKeeper keep;
    cancel::act_if_pending();
    auto attempt = attempt_of(call);
    return keep.ok(
        libc_result(rt::io_call_parking([&] { return hook_park(fd, events, Deadline()); },
                                        rt::when_ready_attempt(fd, events, attempt))));
}

// submit_op: one whole operation the backend runs (io_uring submits it; epoll waits for
// readiness, then calls), for a descriptor in blocking mode; no deadline. A signal handler
// without SA_RESTART fails it with EINTR, unless data moved first: then that count, as the
// kernel returns a short count for a read that a signal cut short.
inline long submit_op(rt::IoOp::Kind kind, int fd, void* buf, std::size_t len) {
    ErrnoKeeper keep;
    cancel::act_if_pending();
    for (;;) {
        rt::IoOp op{kind, fd, buf, len};
        long r = 0;
        bool done = false;
        const int w = cancellable(
            [&] {
                return interruptible(Restart::WithSaRestart, [&] {
                    r = rt::submit(op, Deadline());
                    done = true;
                    return 1;
                });
            },
            1);
        if (done) return keep.ok(libc_result(r));
        if (op.landed > 0) return keep.ok(op.landed);
        if (w < 0) return libc_result(w);
    }
}

}  // namespace green::hooks
