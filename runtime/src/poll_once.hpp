// A zero-timeout readiness check: what a wait with an already-expired deadline does in either
// backend, and how the hooks ask "would this call block?" before a call on a blocking fd. Made
// with the raw system call so that, with the hook library loaded, it never enters the poll hook.
#pragma once

#include <poll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace green::detail {

// Ready bits, 0 when not ready, -errno (-EBADF for an invalid fd).
inline int poll_once(int fd, short events) noexcept {
    pollfd p{fd, events, 0};
    timespec zero{0, 0};
    const long r = ::syscall(SYS_ppoll, &p, 1, &zero, nullptr, 0);
    if (r < 0) return -errno;
    if (p.revents & POLLNVAL) return -EBADF;
    return p.revents;
}

}  // namespace green::detail
