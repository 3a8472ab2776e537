// The one I/O retry primitive: "try the call; on EAGAIN park until the fd is ready; retry; honour
// the deadline". Under every cooperative I/O call — green::Socket (which throws) and the hook
// library (which sets errno) — and under the backends' readiness-based operations.
#pragma once

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "io_backend.hpp"
#include "poll_once.hpp"

namespace green::detail {

// A libc-style result (count, or -1 with errno) as a count or -errno.
inline long sys_result(long r) noexcept {
    return r < 0 ? -errno : r;
}

// read/pread and write/pwrite (`offset` < 0: at the file position) as a count or -errno, made
// with the raw system call: with the hook library loaded, libc's names lead back into the hooks,
// which would hand the call to the backend again.
inline long sys_read(int fd, void* buf, std::size_t len, std::int64_t offset) noexcept {
    return sys_result(offset < 0 ? ::syscall(SYS_read, fd, buf, len)
                                 : ::syscall(SYS_pread64, fd, buf, len, offset));
}
inline long sys_write(int fd, const void* buf, std::size_t len, std::int64_t offset) noexcept {
    return sys_result(offset < 0 ? ::syscall(SYS_write, fd, buf, len)
                                 : ::syscall(SYS_pwrite64, fd, buf, len, offset));
}

// Calls attempt() — one try that cannot block, returning a count or -errno — until it returns
// anything but -EAGAIN, calling park() in between: park returns > 0 to try again, 0 when the
// deadline passed, or -errno (-EBADF: the fd was closed while waiting). Returns the attempt's
// result, -ETIME at the deadline, or park's error. The hooks' park is also a cancellation and
// signal-interruption point; the runtime's is io_call's.
template <class Park, class Attempt>
[[gnu::always_inline]] inline long io_call_parking(Park&& park, Attempt&& attempt) {
    static_assert(EAGAIN == EWOULDBLOCK);
    for (;;) {
        const long r = attempt();
        if (r != -EAGAIN) [[likely]]
            return r;
        const int w = park();
        if (w <= 0) return w == 0 ? -ETIME : w;
    }
}

// io_call_parking on `io`, waiting until `fd` is ready for `events` or the deadline. Interrupts
// (kill, Timeout) are thrown from the wait.
template <class Attempt>
[[gnu::always_inline]] inline long io_call(IoBackend& io, int fd, short events,
                                           const Deadline& deadline, Attempt&& attempt) {
    return io_call_parking([&] { return io.wait_fd(fd, events, deadline); }, attempt);
}

// For descriptors in blocking mode that green must not switch (pipes, terminals, eventfds: often
// shared with other processes): an attempt that says -EAGAIN until a zero-timeout poll says
// call() cannot block, then makes it (which may say EAGAIN all the same: then it waits again).
template <class Call>
auto when_ready_attempt(int fd, short events, Call& call) {
    return [fd, events, &call]() -> long {
        const int r = poll_once(fd, events);
        if (r == 0 || r == -EINTR) return -EAGAIN;
        if (r < 0) return r;
        return call();
    };
}

// The attempt that finishes a non-blocking connect: 0 once connected, -EAGAIN while it is still
// in progress, or -errno (the connection's error). Readiness can be spurious: a connected socket
// has a peer.
inline long connect_result(int fd) noexcept {
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0) return -errno;
    if (so_error) return -so_error;
    sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0) return 0;
    return errno == ENOTCONN ? -EAGAIN : -errno;
}

}  // namespace green::detail
