// green::Socket I/O: thin wrappers over the runtime's one I/O primitive (detail::io_call: try the
// non-blocking call, on EAGAIN park on readiness, retry, honour the deadline) and the backend's
// receive, turning -errno into exceptions.
#include "green/socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "fd_generation.hpp"
#include "green/greenlet.hpp"
#include "green/hub.hpp"
#include "io_call.hpp"
#include "scheduler.hpp"

namespace green {

namespace {

[[noreturn]] void throw_errno(int err, const char* op) {
    throw std::system_error(err, std::system_category(), op);
}

detail::IoBackend& io() {
    return detail::Hub::get().io();
}

// A -errno result as Socket reports it: green::Timeout at the deadline (-ETIME), else
// system_error (EBADF when the socket was closed meanwhile: then `this` may be gone too).
[[noreturn]] void throw_result(long r, const char* op) {
    if (r == -ETIME) detail::throw_timeout_expired();
    throw_errno(static_cast<int>(-r), op);
}

// One non-blocking attempt as a count or -errno; EINTR is retried, as a blocking call would.
template <class Call>
[[gnu::always_inline]] inline auto attempt(Call&& call) {
    return [call]() -> long {
        for (;;) {
            const long r = detail::sys_result(call());
            if (r != -EINTR) return r;
        }
    };
}

// io_call, or a single attempt when the caller asked for MSG_DONTWAIT.
template <class Attempt>
[[gnu::always_inline]] inline long io_call(int fd, short events, int flags,
                                           const Deadline& deadline, Attempt&& a) {
    if (flags & MSG_DONTWAIT) return a();
    return detail::io_call(io(), fd, events, deadline, a);
}

}  // namespace

IncompleteRead::IncompleteRead(std::size_t got, std::size_t want)
    : std::runtime_error("recv_exact: connection closed after " + std::to_string(got) + " of " +
                         std::to_string(want) + " bytes"),
      received(got),
      wanted(want) {}

Socket::Socket(int family, int type, int protocol) {
    fd_ = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd_ < 0) throw_errno(errno, "socket");
    detail::fd_generation_bump(fd_);  // the number may have been closed where no hub saw it
    stream_ = (type == SOCK_STREAM);
}

Socket Socket::adopt(int fd) {
    if (fd < 0) throw std::invalid_argument("green::Socket::adopt: negative fd");
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) throw_errno(errno, "adopt");
    Socket s(fd);
    detail::fd_generation_bump(fd);
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
        const int err = errno;
        s.release();
        throw_errno(err, "adopt");
    }
    s.stream_ = (type == SOCK_STREAM);
    return s;
}

Socket& Socket::operator=(Socket&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
        timeout_ = o.timeout_;
        stream_ = o.stream_;
        pending_ = std::move(o.pending_);
        drained_ = o.drained_;
    }
    return *this;
}

int Socket::checked_fd(const char* op) const {
    if (fd_ < 0) throw_errno(EBADF, op);
    return fd_;
}

int Socket::family() const {
    return getsockopt(SOL_SOCKET, SO_DOMAIN);
}
int Socket::type() const {
    return getsockopt(SOL_SOCKET, SO_TYPE);
}

// ---- connection setup -------------------------------------------------------------------

void Socket::bind(const Address& addr) {
    if (::bind(checked_fd("bind"), addr.sockaddr_ptr(), addr.length()) < 0)
        throw std::system_error(errno, std::system_category(), "bind " + addr.to_string());
}

void Socket::listen(int backlog) {
    if (::listen(checked_fd("listen"), backlog) < 0) throw_errno(errno, "listen");
}

int Socket::connect_ex(const Address& addr) {
    bool timed_out = false;
    const int err = connect_impl(addr, default_deadline(), timed_out);
    if (timed_out) detail::throw_timeout_expired();
    return err;
}

void Socket::connect(const Address& addr) {
    connect(addr, default_deadline());
}

void Socket::connect(const Address& addr, Deadline deadline) {
    bool timed_out = false;
    const int err = connect_impl(addr, deadline, timed_out);
    if (timed_out) detail::throw_timeout_expired();
    if (err) throw std::system_error(err, std::system_category(), "connect " + addr.to_string());
}

std::pair<Socket, Address> Socket::accept() {
    return accept(default_deadline());
}

std::pair<Socket, Address> Socket::accept(Deadline deadline) {
    const int fd = checked_fd("accept");
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    const long c = detail::io_call(io(), fd, POLLIN, deadline, [&]() -> long {
        for (;;) {
            len = sizeof ss;
            const long r = detail::sys_result(::accept4(fd, reinterpret_cast<sockaddr*>(&ss), &len,
                                                        SOCK_NONBLOCK | SOCK_CLOEXEC));
            // The connection died in the queue; as a blocking accept would, wait for the next.
            if (r == -EINTR || r == -ECONNABORTED || r == -EPROTO) continue;
            return r;
        }
    });
    if (c < 0) throw_result(c, "accept");
    Socket s(static_cast<int>(c));
    detail::fd_generation_bump(s.fd_);
    s.stream_ = stream_;
    s.timeout_ = timeout_;
    return {std::move(s), Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len)};
}

// ---- stream I/O ---------------------------------------------------------------------------

std::size_t Socket::recv(void* buf, std::size_t len, int flags) {
    return recv(buf, len, flags, default_deadline());
}

std::size_t Socket::recv(void* buf, std::size_t len, int flags, Deadline deadline) {
    const int fd = checked_fd("recv");
    if (len == 0) return 0;
    if (!pending_.empty()) {
        const std::size_t n = std::min(len, pending_.size());
        std::memcpy(buf, pending_.data(), n);
        if (!(flags & MSG_PEEK)) pending_.erase(0, n);
        return n;
    }
    detail::RecvHint hint{stream_, drained_, 0};
    long n;
    try {
        n = io().recv(fd, buf, len, flags, deadline, hint);
    } catch (...) {
        // An interrupted receive operation may still have taken bytes: keep them for the next.
        if (hint.landed > 0 && !(flags & MSG_PEEK))
            pending_.assign(static_cast<const char*>(buf), static_cast<std::size_t>(hint.landed));
        throw;
    }
    drained_ = hint.drained;
    if (n < 0) throw_result(n, "recv");
    return static_cast<std::size_t>(n);
}

std::string Socket::recv(std::size_t max) {
    return recv(max, default_deadline());
}

std::string Socket::recv(std::size_t max, Deadline deadline) {
    std::string out(max, '\0');
    out.resize(recv(out.data(), max, 0, deadline));
    return out;
}

void Socket::recv_exact(void* buf, std::size_t len) {
    recv_exact(buf, len, default_deadline());
}

void Socket::recv_exact(void* buf, std::size_t len, Deadline deadline) {
    auto* p = static_cast<char*>(buf);
    std::size_t got = 0;
    while (got < len) {
        const std::size_t n = recv(p + got, len - got, 0, deadline);
        if (n == 0) throw IncompleteRead(got, len);
        got += n;
    }
}

std::string Socket::recv_exact(std::size_t len) {
    std::string out(len, '\0');
    recv_exact(out.data(), len);
    return out;
}

std::size_t Socket::send(const void* buf, std::size_t len, int flags) {
    return send(buf, len, flags, default_deadline());
}

std::size_t Socket::send(const void* buf, std::size_t len, int flags, Deadline deadline) {
    const int fd = checked_fd("send");
    const long n = io_call(fd, POLLOUT, flags, deadline,
                           attempt([&] { return ::send(fd, buf, len, flags | MSG_NOSIGNAL); }));
    if (n < 0) throw_result(n, "send");
    return static_cast<std::size_t>(n);
}

void Socket::sendall(const void* buf, std::size_t len, int flags) {
    sendall(buf, len, flags, default_deadline());
}

void Socket::sendall(const void* buf, std::size_t len, int flags, Deadline deadline) {
    const auto* p = static_cast<const char*>(buf);
    while (len > 0) {
        const std::size_t n = send(p, len, flags, deadline);
        p += n;
        len -= n;
    }
}

// ---- datagrams ----------------------------------------------------------------------------

std::size_t Socket::sendto(const void* buf, std::size_t len, const Address& to, int flags) {
    const int fd = checked_fd("sendto");
    const long n = io_call(fd, POLLOUT, flags, default_deadline(), attempt([&] {
                               return ::sendto(fd, buf, len, flags | MSG_NOSIGNAL,
                                               to.sockaddr_ptr(), to.length());
                           }));
    if (n == -ETIME) detail::throw_timeout_expired();
    if (n < 0)
        throw std::system_error(static_cast<int>(-n), std::system_category(),
                                "sendto " + to.to_string());
    return static_cast<std::size_t>(n);
}

std::pair<std::size_t, Address> Socket::recvfrom(void* buf, std::size_t len, int flags) {
    return recvfrom(buf, len, flags, default_deadline());
}

std::pair<std::size_t, Address> Socket::recvfrom(void* buf, std::size_t len, int flags,
                                                 Deadline deadline) {
    const int fd = checked_fd("recvfrom");
    sockaddr_storage ss;
    socklen_t slen = sizeof ss;
    const long n =
        io_call(fd, POLLIN, flags, deadline, attempt([&] {
                    slen = sizeof ss;
                    return ::recvfrom(fd, buf, len, flags, reinterpret_cast<sockaddr*>(&ss), &slen);
                }));
    if (n < 0) throw_result(n, "recvfrom");
    // A connected stream socket reports no address.
    Address from =
        slen > 0 ? Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), slen) : Address();
    return {static_cast<std::size_t>(n), from};
}

std::pair<std::string, Address> Socket::recvfrom(std::size_t max) {
    std::string out(max, '\0');
    auto [n, from] = recvfrom(out.data(), max);
    out.resize(n);
    return {std::move(out), from};
}

// ---- the rest -----------------------------------------------------------------------------

void Socket::shutdown(int how) {
    if (::shutdown(checked_fd("shutdown"), how) < 0) throw_errno(errno, "shutdown");
    drained_ = false;  // a local SHUT_RD makes the next recv return 0 at once
}

void Socket::close() noexcept {
    if (fd_ < 0) return;
    const int fd = std::exchange(fd_, -1);
    notify_close(fd);
    ::close(fd);
}

Address Socket::getsockname() const {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (::getsockname(checked_fd("getsockname"), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
        throw_errno(errno, "getsockname");
    return Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

Address Socket::getpeername() const {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (::getpeername(checked_fd("getpeername"), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
        throw_errno(errno, "getpeername");
    return Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

void Socket::setsockopt(int level, int name, int value) {
    if (::setsockopt(checked_fd("setsockopt"), level, name, &value, sizeof value) < 0)
        throw_errno(errno, "setsockopt");
}

int Socket::getsockopt(int level, int name) const {
    int value = 0;
    socklen_t len = sizeof value;
    if (::getsockopt(checked_fd("getsockopt"), level, name, &value, &len) < 0)
        throw_errno(errno, "getsockopt");
    return value;
}

void Socket::set_nodelay(bool on) {
    setsockopt(IPPROTO_TCP, TCP_NODELAY, on);
}

}  // namespace green
