// Descriptor lifetime and mode hooks: socket, socketpair, pipe, pipe2, connect, accept, accept4,
// close, fclose, close_range, closefrom, dup, dup2, dup3, fcntl, ioctl(FIONBIO), setsockopt.
// Creation and mode changes keep the fd table current; close wakes fibers waiting on the fd
// with EBADF before the number can be reused. The hub's own descriptors (rt::runtime_owns_fd)
// are refused with EBADF as if not open, and skipped by close_range and closefrom, so the daemon
// idiom "close every inherited descriptor" leaves the hub working. connect and accept set
// O_NONBLOCK only for the duration of the call, so the program (and any process sharing the socket)
// never sees it.
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>

#include "file_locks.hpp"
#include "green/hub.hpp"
#include "hook_common.hpp"
#include "hook_interface.hpp"
#include "popen_streams.hpp"
#include "stdio_lock.hpp"

namespace green::hooks {

namespace {

pid_t g_pid = 0;

__attribute__((constructor(102))) void remember_pid() {
    g_pid = ::getpid();
    ::pthread_atfork(nullptr, nullptr, [] { g_pid = ::getpid(); });
}

// Wakes the fibers of this thread's hub that wait on fd. Not in a vfork child: it shares the
// parent's memory, hub and event loop, and must leave them alone.
void notify_closing(int fd) {
    if (fd < 0 || !rt::hub() || ::getpid() != g_pid) return;
    green::notify_close(fd);
}

long raw_fcntl(int fd, int cmd, long arg = 0) noexcept {
    return ::syscall(SYS_fcntl, fd, cmd, arg);
}

// Runs call() with O_NONBLOCK set on fd (flags `fl` as read before), restoring them after.
template <class Call>
auto with_nonblock(int fd, long fl, Call call) -> decltype(call()) {
    raw_fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    const auto r = call();
    const int e = errno;
    raw_fcntl(fd, F_SETFL, fl);
    errno = e;
    return r;
}

void accepted(int fd, int flags, const FdInfo& listener) noexcept {
    fd_created(fd, FdKind::Socket, flags & SOCK_NONBLOCK, listener.stream, O_RDWR);
    // Linux copies the listener's timeouts into the accepted socket.
    if (listener.rcv_ns) fd_set_timeout(fd, false, listener.rcv_ns);
    if (listener.snd_ns) fd_set_timeout(fd, true, listener.snd_ns);
}

int accept_hook(int fd, sockaddr* addr, socklen_t* len, int flags) {
    FdInfo info;
    if (!route(Need::Io)) {
        const int r = GREEN_REAL_OR_SYSCALL(accept4, SYS_accept4, fd, addr, len, flags);
        if (r >= 0 && patched(Need::Io)) accepted(r, flags, fd_info(fd));
        return r;
    }
    info = fd_info(fd);
    if (info.kind != FdKind::Socket || info.nonblock) {
        const int r = GREEN_REAL_OR_SYSCALL(accept4, SYS_accept4, fd, addr, len, flags);
        if (r >= 0) accepted(r, flags, info);
        return r;
    }
    ErrnoKeeper keep;
    const long fl = raw_fcntl(fd, F_GETFL);
    if (fl < 0) return -1;
    if (fl & O_NONBLOCK) {  // set behind the hooks' back: the program wants EAGAIN
        const int r = GREEN_REAL_OR_SYSCALL(accept4, SYS_accept4, fd, addr, len, flags);
        if (r >= 0) accepted(r, flags, info);
        return r;
    }
    // Non-blocking for each attempt: another process sharing the listener may take the
    // connection between readiness and accept.
    const long r = io_wait(fd, POLLIN, deadline_after_ns(info.rcv_ns), [&] {
        return with_nonblock(fd, fl, [&] {
            return GREEN_REAL_OR_SYSCALL(accept4, SYS_accept4, fd, addr, len, flags);
        });
    });
    if (r < 0) return -1;
    accepted(static_cast<int>(r), flags, info);
    return static_cast<int>(keep.ok(r));
}

int dup_common(int oldfd, int newfd, int r) noexcept {
    if (r >= 0) fd_copy(oldfd, newfd < 0 ? r : newfd);
    return r;
}

// dup2/dup3 close newfd first when oldfd is valid: its waiters must learn that.
void before_replace(int oldfd, int newfd) {
    if (oldfd == newfd || raw_fcntl(oldfd, F_GETFD) < 0) return;
    notify_closing(newfd);
    fd_forget(newfd);
}

int fcntl_hook(int (*real)(int, int, ...), long sysno, int fd, int cmd, unsigned long arg) {
    if (fcntl_waits_for_lock(cmd) && route(Need::Io))
        return fcntl_lock_wait(real, sysno, fd, cmd, arg);
    const int r = real ? real(fd, cmd, arg) : static_cast<int>(::syscall(sysno, fd, cmd, arg));
    if (r < 0 || !patched(Need::Io)) return r;
    switch (cmd) {
        case F_SETFL:
            fd_set_nonblock(fd, arg & O_NONBLOCK);
            break;
        case F_DUPFD:
        case F_DUPFD_CLOEXEC:
            fd_copy(fd, r);
            break;
        default:
            break;
    }
    return r;
}

bool is_timeout_option(int opt, bool* send) noexcept {
    switch (opt) {
        case SO_RCVTIMEO:
#if defined(SO_RCVTIMEO_NEW) && SO_RCVTIMEO_NEW != SO_RCVTIMEO
        case SO_RCVTIMEO_NEW:
#endif
            *send = false;
            return true;
        case SO_SNDTIMEO:
#if defined(SO_SNDTIMEO_NEW) && SO_SNDTIMEO_NEW != SO_SNDTIMEO
        case SO_SNDTIMEO_NEW:
#endif
            *send = true;
            return true;
        default:
            return false;
    }
}

void forget_known(int fd) {
    fd_forget(fd);
}
void notify_known(int fd) {
    if (!rt::runtime_owns_fd(fd)) notify_closing(fd);
}

}  // namespace

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

int socket(int domain, int type, int protocol) noexcept {
    auto real = GREEN_REAL(socket);
    const int r = real ? real(domain, type, protocol)
                       : static_cast<int>(::syscall(SYS_socket, domain, type, protocol));
    if (r >= 0 && patched(Need::Io))
        fd_created(r, FdKind::Socket, type & SOCK_NONBLOCK, (type & 0xf) == SOCK_STREAM, O_RDWR);
    return r;
}

int socketpair(int domain, int type, int protocol, int sv[2]) noexcept {
    auto real = GREEN_REAL(socketpair);
    const int r = real ? real(domain, type, protocol, sv)
                       : static_cast<int>(::syscall(SYS_socketpair, domain, type, protocol, sv));
    if (r == 0 && patched(Need::Io)) {
        for (int i = 0; i < 2; ++i)
            fd_created(sv[i], FdKind::Socket, type & SOCK_NONBLOCK, (type & 0xf) == SOCK_STREAM,
                       O_RDWR);
    }
    return r;
}

int pipe2(int fds[2], int flags) noexcept {
    auto real = GREEN_REAL(pipe2);
    const int r = real ? real(fds, flags) : static_cast<int>(::syscall(SYS_pipe2, fds, flags));
    if (r == 0 && patched(Need::Io)) {
        fd_created(fds[0], FdKind::Pipe, flags & O_NONBLOCK, false, O_RDONLY);
        fd_created(fds[1], FdKind::Pipe, flags & O_NONBLOCK, false, O_WRONLY);
    }
    return r;
}

int pipe(int fds[2]) noexcept {
    return pipe2(fds, 0);
}

int connect(int fd, const sockaddr* addr, socklen_t len) {
    if (!route(Need::Io)) return GREEN_REAL_OR_SYSCALL(connect, SYS_connect, fd, addr, len);
    const FdInfo info = fd_info(fd);
    if (info.kind != FdKind::Socket || info.nonblock)
        return GREEN_REAL_OR_SYSCALL(connect, SYS_connect, fd, addr, len);
    ErrnoKeeper keep;
    const long fl = raw_fcntl(fd, F_GETFL);
    if (fl < 0) return -1;
    if (fl & O_NONBLOCK) {  // set behind the hooks' back: the program wants EINPROGRESS
        fd_set_nonblock(fd, true);
        return GREEN_REAL_OR_SYSCALL(connect, SYS_connect, fd, addr, len);
    }
    const Deadline deadline = deadline_after_ns(info.snd_ns);
    for (;;) {
        const int r = with_nonblock(
            fd, fl, [&] { return GREEN_REAL_OR_SYSCALL(connect, SYS_connect, fd, addr, len); });
        if (r == 0) return keep.ok(0);
        if (errno == EAGAIN && addr && addr->sa_family == AF_UNIX) {
            // A full listen backlog: a blocking connect waits for room, so poll for it.
            if (deadline.expired()) return -1;
            green::sleep(std::min<Duration>(deadline.remaining(), std::chrono::milliseconds(5)));
            continue;
        }
        if (errno != EINPROGRESS) return -1;
        break;
    }
    // In progress: wait for writability until the connection is made or fails. SO_SNDTIMEO
    // cuts it short with EINPROGRESS, as the kernel does.
    const long r = io_wait(fd, POLLOUT, deadline, [fd]() -> long {
        const long c = rt::connect_result(fd);
        if (c >= 0) return c;
        errno = static_cast<int>(-c);
        return -1;
    });
    if (r == 0) return keep.ok(0);
    if (errno == EAGAIN) errno = EINPROGRESS;
    return -1;
}

int accept(int fd, sockaddr* addr, socklen_t* len) {
    return accept_hook(fd, addr, len, 0);
}

int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
    return accept_hook(fd, addr, len, flags);
}

int close(int fd) {
    if (rt::runtime_owns_fd(fd)) [[unlikely]] {
        errno = EBADF;  // the hub's own descriptor: as if it were not open
        return -1;
    }
    if (!patched(Need::Io)) return GREEN_REAL_OR_SYSCALL(close, SYS_close, fd);
    notify_closing(fd);
    fd_forget(fd);
    const int r = GREEN_REAL_OR_SYSCALL(close, SYS_close, fd);
    fd_forget(fd);  // in case another thread classified it meanwhile
    return r;
}

int fclose(FILE* f) {
    auto real = GREEN_REAL(fclose);
    if (!real) {
        errno = ENOSYS;
        return EOF;
    }
    if (f && is_popen_stream(f)) return ::pclose(f);  // glibc's fclose of a popen stream
    const int fd = (f && patched(Need::Io)) ? ::fileno(f) : -1;
    if (fd >= 0) stdio::before_fclose(f);
    if (fd >= 0) {
        notify_closing(fd);
        fd_forget(fd);
    }
    const int r = real(f);
    if (fd >= 0) fd_forget(fd);
    return r;
}

int close_range(unsigned int first, unsigned int last, int flags) noexcept {
    auto real = GREEN_REAL(close_range);
    auto call = [&](unsigned lo, unsigned hi) {
        return real ? real(lo, hi, flags)
                    : static_cast<int>(::syscall(SYS_close_range, lo, hi, flags));
    };
    if (first > last) return call(first, last);  // the kernel's EINVAL
    const bool closing = patched(Need::Io) && !(flags & CLOSE_RANGE_CLOEXEC);
    if (closing) fd_each_known(first, last, notify_known);
    // The hub's own descriptors stay open: close the runs between them.
    int r = 0;
    unsigned lo = first;
    for (;;) {
        const int owned = rt::next_runtime_fd(lo, last);
        const unsigned hi = owned < 0 ? last : static_cast<unsigned>(owned) - 1;
        if (owned < 0 || static_cast<unsigned>(owned) > lo) {
            if (call(lo, hi) != 0) {
                r = -1;
                break;
            }
        }
        if (owned < 0 || static_cast<unsigned>(owned) >= last) break;
        lo = static_cast<unsigned>(owned) + 1;
    }
    if (closing && r == 0) fd_each_known(first, last, forget_known);
    return r;
}

void closefrom(int lowfd) noexcept {
    if (lowfd < 0) lowfd = 0;
    if (rt::next_runtime_fd(static_cast<unsigned>(lowfd), ~0u) >= 0) {
        // Skipping the hub's descriptors: close_range's loop does that.
        const int e = errno;
        close_range(static_cast<unsigned>(lowfd), ~0u, 0);
        errno = e;
        return;
    }
    if (patched(Need::Io)) fd_each_known(static_cast<unsigned>(lowfd), ~0u, notify_known);
    if (auto real = GREEN_REAL(closefrom))
        real(lowfd);
    else
        ::syscall(SYS_close_range, lowfd, ~0u, 0);
    if (patched(Need::Io)) fd_each_known(static_cast<unsigned>(lowfd), ~0u, forget_known);
}

int dup(int fd) noexcept {
    auto real = GREEN_REAL(dup);
    const int r = real ? real(fd) : static_cast<int>(::syscall(SYS_dup, fd));
    return patched(Need::Io) ? dup_common(fd, -1, r) : r;
}

int dup2(int oldfd, int newfd) noexcept {
    if (patched(Need::Io)) before_replace(oldfd, newfd);
    auto real = GREEN_REAL(dup2);
    const int r = real ? real(oldfd, newfd) : static_cast<int>(::syscall(SYS_dup2, oldfd, newfd));
    return patched(Need::Io) && oldfd != newfd ? dup_common(oldfd, newfd, r) : r;
}

int dup3(int oldfd, int newfd, int flags) noexcept {
    if (patched(Need::Io)) before_replace(oldfd, newfd);
    auto real = GREEN_REAL(dup3);
    const int r = real ? real(oldfd, newfd, flags)
                       : static_cast<int>(::syscall(SYS_dup3, oldfd, newfd, flags));
    return patched(Need::Io) ? dup_common(oldfd, newfd, r) : r;
}

int fcntl(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    const unsigned long arg = va_arg(ap, unsigned long);
    va_end(ap);
    return fcntl_hook(reinterpret_cast<int (*)(int, int, ...)>(GREEN_REAL(fcntl)), SYS_fcntl, fd,
                      cmd, arg);
}

int fcntl64(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    const unsigned long arg = va_arg(ap, unsigned long);
    va_end(ap);
    return fcntl_hook(reinterpret_cast<int (*)(int, int, ...)>(GREEN_REAL(fcntl64)), SYS_fcntl, fd,
                      cmd, arg);
}

int ioctl(int fd, unsigned long request, ...) noexcept {
    va_list ap;
    va_start(ap, request);
    void* arg = va_arg(ap, void*);
    va_end(ap);
    auto real = GREEN_REAL(ioctl);
    const int r =
        real ? real(fd, request, arg) : static_cast<int>(::syscall(SYS_ioctl, fd, request, arg));
    if (r == 0 && request == FIONBIO && arg && patched(Need::Io))
        fd_set_nonblock(fd, *static_cast<const int*>(arg) != 0);
    return r;
}

int setsockopt(int fd, int level, int opt, const void* val, socklen_t len) noexcept {
    auto real = GREEN_REAL(setsockopt);
    const int r = real ? real(fd, level, opt, val, len)
                       : static_cast<int>(::syscall(SYS_setsockopt, fd, level, opt, val, len));
    bool send = false;
    if (r == 0 && level == SOL_SOCKET && is_timeout_option(opt, &send) && val &&
        len >= sizeof(timeval) && patched(Need::Io)) {
        // SO_*TIMEO_NEW uses two 64-bit fields, the same layout as timeval on 64-bit Linux.
        const auto* tv = static_cast<const timeval*>(val);
        fd_set_timeout(fd, send,
                       std::int64_t{tv->tv_sec} * 1000000000 + std::int64_t{tv->tv_usec} * 1000);
    }
    return r;
}

}  // extern "C"
