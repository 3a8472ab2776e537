// The public readiness waits: the hub's wait_fd with exceptions instead of return codes.
#include "green/wait_fd.hpp"

#include <poll.h>

#include <system_error>

#include "green/greenlet.hpp"
#include "green/hub.hpp"

namespace green {

namespace {

int wait_checked(int fd, short events, Deadline deadline, const char* op) {
    // Level-triggered, as gevent's are: a C library may ask "is it writable?" without having
    // seen EAGAIN first, and an edge-triggered backend would then wait for a change that never
    // comes. An already-expired deadline makes the hub look once, without parking.
    int r = wait_fd(fd, events, Deadline(Clock::time_point{}));
    if (r == 0 && !deadline.expired()) r = wait_fd(fd, events, deadline);
    if (r > 0) return r;
    if (r == 0) detail::throw_timeout_expired();
    throw std::system_error(-r, std::system_category(), op);
}

}  // namespace

int wait_read(int fd, Deadline deadline) {
    return wait_checked(fd, POLLIN, deadline, "wait_read");
}

int wait_write(int fd, Deadline deadline) {
    return wait_checked(fd, POLLOUT, deadline, "wait_write");
}

int wait_readwrite(int fd, Deadline deadline) {
    return wait_checked(fd, POLLIN | POLLOUT, deadline, "wait_readwrite");
}

}  // namespace green
