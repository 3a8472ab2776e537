// What both backends share: the readiness-based receive (RecvPolicy Poll and WaitFirst) and the
// GREEN_NET_RECV override of the receive policy.
#include "io_backend.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>

#include "io_call.hpp"

namespace green::detail {

RecvPolicy configured_recv_policy(RecvPolicy backend_default) noexcept {
    // The one place GREEN_NET_RECV is read (bench/echo measures the alternatives with it).
    static const char* const want = std::getenv("GREEN_NET_RECV");
    if (!want) return backend_default;
    if (std::strcmp(want, "poll") == 0) return RecvPolicy::Poll;
    if (std::strcmp(want, "waitfirst") == 0) return RecvPolicy::WaitFirst;
    if (std::strcmp(want, "op") == 0 && backend_default == RecvPolicy::Op) return RecvPolicy::Op;
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
