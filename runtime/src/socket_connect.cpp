// Connecting: Socket::connect's non-blocking dance (EINPROGRESS, then detail::io_call on
// writability with connect_result as the attempt) so callers see exactly what a blocking connect
// reports, and create_connection.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <system_error>

#include "green/greenlet.hpp"
#include "green/hub.hpp"
#include "green/socket.hpp"
#include "io_call.hpp"
#include "scheduler.hpp"

namespace green {

int Socket::connect_impl(const Address& addr, const Deadline& deadline, bool& timed_out) {
    timed_out = false;
    auto backoff = std::chrono::milliseconds(1);
    for (;;) {
        const int fd = checked_fd("connect");
        if (::connect(fd, addr.sockaddr_ptr(), addr.length()) == 0) return 0;
        int err = errno;
        if (err == EINTR) err = EINPROGRESS;  // the attempt goes on in the background
        if (err == EAGAIN && addr.is_unix()) {
            // A Unix listener with a full backlog: a blocking connect would sleep until
            // there is room; there is no readiness event for that, so poll with backoff.
            if (deadline.expired()) {
                timed_out = true;
                return ETIMEDOUT;
            }
            const Duration pause = std::min<Duration>(backoff, deadline.remaining());
            sleep(pause);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(50));
            continue;
        }
        if (err != EINPROGRESS && err != EALREADY) return err;
        const long r = detail::io_call(detail::Hub::get().io(), fd, POLLOUT, deadline,
                                       [fd] { return detail::connect_result(fd); });
        if (r == -ETIME) timed_out = true;
        return r == -ETIME ? ETIMEDOUT : static_cast<int>(-r);
    }
}

Socket create_connection(std::string_view host, std::uint16_t port, std::optional<Duration> timeout,
                         const std::optional<Address>& source) {
    const auto addrs =
        resolve(host, port, AF_UNSPEC, SOCK_STREAM, timeout ? Deadline(*timeout) : Deadline());
    if (addrs.empty())
        throw std::system_error(EADDRNOTAVAIL, std::system_category(),
                                "create_connection: no address for " + std::string(host));
    int last_error = 0;
    std::string last_where;
    bool last_timed_out = false;
    for (const Address& addr : addrs) {
        Socket s(addr.family(), SOCK_STREAM);
        s.settimeout(timeout);
        if (source) {
            try {
                s.bind(*source);
            } catch (const std::system_error& e) {  // e.g. a v4 source for a v6 address
                last_error = e.code().value();
                last_where = "bind " + source->to_string();
                last_timed_out = false;
                continue;
            }
        }
        const int err =
            s.connect_impl(addr, timeout ? Deadline(*timeout) : Deadline(), last_timed_out);
        if (err == 0) return s;
        last_error = err;
        last_where = "connect " + addr.to_string();
    }
    if (last_timed_out) detail::throw_timeout_expired();
    throw std::system_error(last_error, std::system_category(), last_where);
}

}  // namespace green
