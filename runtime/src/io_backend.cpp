// What both backends share: the readiness-based receive (RecvPolicy Poll and WaitFirst) and the
// GREEN_NET_RECV override of the receive policy.
#include "io_backend.hpp"

#include <poll.h>
#include <sys/socket.h>

#include "config.hpp"
#include "io_call.hpp"

namespace green::detail {

RecvPolicy configured_recv_policy(RecvPolicy backend_default) noexcept {
    // GREEN_NET_RECV, parsed with the rest of the configuration (bench/echo measures the
    // alternatives with it). "op" needs a backend that can run the receive as an operation.
    switch (config().net_recv) {
        case NetRecvChoice::Poll:
            return RecvPolicy::Poll;
        case NetRecvChoice::WaitFirst:
            return RecvPolicy::WaitFirst;
        case NetRecvChoice::Op:
        case NetRecvChoice::Default:
            break;
    }
    return backend_default;
}

long IoBackend::recv(int fd, void* buf, std::size_t len, int flags, const Deadline& deadline,
                     RecvHint& hint) {
    return recv_by_readiness(fd, buf, len, flags, deadline, hint);
}

long IoBackend::recv_by_readiness(int fd, void* buf, std::size_t len, int flags,
                                  const Deadline& deadline, RecvHint& hint) {
    Deadline d = deadline;
    if (recv_policy_ == RecvPolicy::WaitFirst && hint.drained && !(flags & MSG_DONTWAIT) &&
        !d.expired() && wait_before_recv_ok(fd)) {
        const int r = wait_fd(fd, POLLIN, d);
        if (r < 0) return r;
        hint.drained = false;
        if (r == 0) d = Deadline(Clock::time_point{});  // one last try, then -ETIME
    }
    auto attempt = [&]() -> long {
        for (;;) {
            const long r = sys_result(::recv(fd, buf, len, flags));
            if (r != -EINTR) return r;
        }
    };
    const long n = (flags & MSG_DONTWAIT) ? attempt() : io_call(*this, fd, POLLIN, d, attempt);
    if (n >= 0) hint.drained = drained_by(hint, n, len, flags);
    return n;
}

}  // namespace green::detail
