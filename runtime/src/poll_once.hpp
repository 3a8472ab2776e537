// A zero-timeout readiness check with poll(2): what a wait with an already-expired deadline
// does in either backend, so that callers polling with timeout 0 still see readiness.
#pragma once

#include <poll.h>

#include <cerrno>

namespace green::detail {

// Ready bits, 0 when not ready, -errno (-EBADF for an invalid fd).
inline int poll_once(int fd, short events) noexcept {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, 0);
    if (r < 0) return -errno;
    if (p.revents & POLLNVAL) return -EBADF;
    return p.revents;
}

}  // namespace green::detail
