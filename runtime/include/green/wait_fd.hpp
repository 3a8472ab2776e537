// Readiness waits on any file descriptor, for C libraries that hand out their own fd (libpq,
// libcurl multi, c-ares): the public form of the hub's wait, as gevent.socket.wait_read.
#pragma once

#include "green/clock.hpp"

namespace green {

// Each returns the ready poll bits at once if the fd is ready now (level-triggered, as in
// gevent), else parks the calling fiber until it is (or has an error/hang-up condition). Throws
// green::Timeout when the deadline passes and std::system_error(EBADF) when the fd is invalid or
// closed (via notify_close) meanwhile. Readiness may be spurious: retry the non-blocking call and
// wait again on EAGAIN.
int wait_read(int fd, Deadline deadline = {});
int wait_write(int fd, Deadline deadline = {});
int wait_readwrite(int fd, Deadline deadline = {});

}  // namespace green
