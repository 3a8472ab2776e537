// Multiplexing hooks: poll, ppoll, select, pselect, epoll_wait, epoll_pwait, epoll_pwait2. In a
// fiber, a wait with a timeout becomes: a zero-timeout call of the real function (so readiness,
// errors and the result layout are exactly libc's), then a cooperative wait on the same fds,
// repeated until something is ready or the deadline passes. A signal mask that unblocks signals
// during the call is honoured with a signalfd: the call returns EINTR as it would natively.
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <vector>

#include "hook_common.hpp"
#include "saturating_time.hpp"
#include "signal_hooks.hpp"
#include "wait_any.hpp"

namespace green::hooks {

namespace {

bool zero(const timespec* ts) noexcept {
    return ts && ts->tv_sec == 0 && ts->tv_nsec == 0;
}

bool valid(const timespec* ts) noexcept {
    return !ts || (ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000);
}

Deadline deadline_of(const timespec* ts) noexcept {
    if (!ts) return Deadline();
    return Deadline(saturating_duration(*ts));
}

Deadline deadline_ms(int ms) noexcept {
    return ms < 0 ? Deadline() : Deadline(std::chrono::milliseconds(ms));
}

// The cooperative loop shared by every hook here. check() is the real call with a zero timeout.
// A handler that runs meanwhile makes the call fail with EINTR, as it would natively.
template <class Check>
int wait_loop(const pollfd* fds, nfds_t n, const Deadline& deadline, const sigset_t* mask,
              Check check) {
    ErrnoKeeper keep;
    signals::CallMask call_mask(mask);
    const bool held_delivered = call_mask.deliver_held();
    struct WakeFd {
        int fd;
        ~WakeFd() { close_wake_fd(fd); }
    } masked{call_mask.emulated() ? -1 : signal_wake_fd(mask)};
    for (;;) {
        const int r = check();
        if (r != 0) return r < 0 ? -1 : keep.ok(r);
        if (held_delivered) {  // a signal held for the thread, which `mask` unblocked
            errno = EINTR;
            return -1;
        }
        if (deadline.expired()) return keep.ok(0);
        // A handler run for this fiber meanwhile fails the call with EINTR (never restarted).
        const int w = cancellable(
            [&] {
                return interruptible(Restart::Never,
                                     [&] { return wait_any(fds, n, {masked.fd}, deadline); });
            },
            1);
        if (w < 0) {
            errno = -w;
            return -1;
        }
    }
}

// Not GREEN_REAL_OR_SYSCALL: the system call takes the sigset size as well.
int real_ppoll(pollfd* fds, nfds_t n, const timespec* ts, const sigset_t* mask) {
    if (auto f = GREEN_REAL(ppoll)) return f(fds, n, ts, mask);
    return static_cast<int>(::syscall(SYS_ppoll, fds, n, ts, mask, _NSIG / 8));
}

int real_pselect(int n, fd_set* r, fd_set* w, fd_set* e, const timespec* ts, const sigset_t* m) {
    if (auto f = GREEN_REAL(pselect)) return f(n, r, w, e, ts, m);
    errno = ENOSYS;
    return -1;
}

// select and pselect: the sets are inputs and outputs, so every zero-timeout check starts
// from a copy of what the program passed.
template <class Check>
int select_loop(int nfds, fd_set* r, fd_set* w, fd_set* e, const Deadline& deadline,
                const sigset_t* mask, Check check) {
    fd_set in_r, in_w, in_e;
    if (r) in_r = *r;
    if (w) in_w = *w;
    if (e) in_e = *e;
    std::vector<pollfd> fds;
    for (int fd = 0; fd < nfds; ++fd) {
        short ev = 0;
        if (r && FD_ISSET(fd, &in_r)) ev |= POLLIN;
        if (w && FD_ISSET(fd, &in_w)) ev |= POLLOUT;
        if (e && FD_ISSET(fd, &in_e)) ev |= POLLPRI;
        if (ev) fds.push_back(pollfd{fd, ev, 0});
    }
    return wait_loop(fds.data(), fds.size(), deadline, mask, [&] {
        if (r) *r = in_r;
        if (w) *w = in_w;
        if (e) *e = in_e;
        return check();
    });
}

int epoll_loop(int epfd, const Deadline& deadline, const sigset_t* mask,
               const std::function<int()>& check) {
    pollfd p{epfd, POLLIN, 0};
    return wait_loop(&p, 1, deadline, mask, check);
}

}  // namespace

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

int poll(pollfd* fds, nfds_t n, int timeout) {
    if (timeout == 0 || !route(Need::Io))
        return GREEN_REAL_OR_SYSCALL(poll, SYS_poll, fds, n, timeout);
    return wait_loop(fds, n, deadline_ms(timeout), nullptr,
                     [&] { return GREEN_REAL_OR_SYSCALL(poll, SYS_poll, fds, n, 0); });
}

int ppoll(pollfd* fds, nfds_t n, const timespec* ts, const sigset_t* mask) {
    if (zero(ts) || !valid(ts) || !route(Need::Io)) return real_ppoll(fds, n, ts, mask);
    const timespec now{0, 0};
    return wait_loop(fds, n, deadline_of(ts), mask, [&] { return real_ppoll(fds, n, &now, mask); });
}

int select(int nfds, fd_set* r, fd_set* w, fd_set* e, timeval* tv) {
    const bool bad = nfds < 0 || nfds > FD_SETSIZE ||
                     (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000));
    if ((tv && tv->tv_sec == 0 && tv->tv_usec == 0) || bad || !route(Need::Io))
        return GREEN_REAL_OR_SYSCALL(select, SYS_select, nfds, r, w, e, tv);
    const green::Deadline deadline =
        tv ? green::Deadline(saturating_duration(*tv)) : green::Deadline();
    const int rc = select_loop(nfds, r, w, e, deadline, nullptr, [&] {
        timeval now{0, 0};
        return GREEN_REAL_OR_SYSCALL(select, SYS_select, nfds, r, w, e, &now);
    });
    if (tv) {  // Linux reports the time left
        const auto left =
            std::chrono::duration_cast<std::chrono::microseconds>(deadline.remaining());
        tv->tv_sec = static_cast<time_t>(left.count() / 1000000);
        tv->tv_usec = static_cast<suseconds_t>(left.count() % 1000000);
    }
    return rc;
}

int pselect(int nfds, fd_set* r, fd_set* w, fd_set* e, const timespec* ts, const sigset_t* mask) {
    if (zero(ts) || !valid(ts) || nfds < 0 || nfds > FD_SETSIZE || !route(Need::Io))
        return real_pselect(nfds, r, w, e, ts, mask);
    return select_loop(nfds, r, w, e, deadline_of(ts), mask, [&] {
        const timespec now{0, 0};
        return real_pselect(nfds, r, w, e, &now, mask);
    });
}

int epoll_wait(int epfd, epoll_event* events, int max, int timeout) {
    auto real = GREEN_REAL(epoll_wait);
    if (!real) return static_cast<int>(::syscall(SYS_epoll_wait, epfd, events, max, timeout));
    if (timeout == 0 || !route(Need::Io)) return real(epfd, events, max, timeout);
    return epoll_loop(epfd, deadline_ms(timeout), nullptr,
                      [&] { return real(epfd, events, max, 0); });
}

int epoll_pwait(int epfd, epoll_event* events, int max, int timeout, const sigset_t* mask) {
    auto real = GREEN_REAL(epoll_pwait);
    if (!real)
        return static_cast<int>(
            ::syscall(SYS_epoll_pwait, epfd, events, max, timeout, mask, _NSIG / 8));
    if (timeout == 0 || !route(Need::Io)) return real(epfd, events, max, timeout, mask);
    return epoll_loop(epfd, deadline_ms(timeout), mask,
                      [&] { return real(epfd, events, max, 0, mask); });
}

int epoll_pwait2(int epfd, epoll_event* events, int max, const timespec* ts, const sigset_t* mask) {
    auto real = GREEN_REAL(epoll_pwait2);
    if (!real)
        return static_cast<int>(
            ::syscall(SYS_epoll_pwait2, epfd, events, max, ts, mask, _NSIG / 8));
    if (zero(ts) || !valid(ts) || !route(Need::Io)) return real(epfd, events, max, ts, mask);
    const timespec now{0, 0};
    return epoll_loop(epfd, deadline_of(ts), mask,
                      [&] { return real(epfd, events, max, &now, mask); });
}

}  // extern "C"
