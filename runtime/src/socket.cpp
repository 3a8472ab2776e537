// green::Socket I/O. The pattern everywhere: try the non-blocking syscall; on EAGAIN park on the
// hub's readiness wait (green::wait_fd) with the call's deadline, then retry.
#include "green/socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "config.hpp"
#include "green/greenlet.hpp"
#include "green/hub.hpp"
#include "hub.hpp"

namespace green {

namespace {

[[noreturn]] void throw_errno(int err, const char* op) {
    throw std::system_error(err, std::system_category(), op);
}

bool would_block(int err) noexcept {
    return err == EAGAIN || err == EWOULDBLOCK;
}

// How a stream recv waits when no data is there. The hub's backend is fixed per thread, so
// the choice is made once per thread. GREEN_NET_RECV=poll|waitfirst|op overrides it (used by
// bench/echo to measure the alternatives):
//   poll:      recv(2); on EAGAIN park on readiness, then retry.
//   waitfirst: like poll, but after a short read park first (the queue was empty a moment ago,
//              so an immediate recv(2) would almost surely say EAGAIN), when the backend says
//              that is sound (IoBackend::wait_before_recv_ok). The epoll default.
//   op:        io_uring only: the receive itself is submitted as an operation. The io_uring
//              default.
enum class RecvPath { Poll, WaitFirst, UringOp };

RecvPath recv_path() {
    // initial-exec: libgreen.so is loaded at startup, and this is on every recv.
    static thread_local int cached __attribute__((tls_model("initial-exec"))) = -1;
    if (cached < 0) {
        const bool uring = std::strcmp(backend_name(), "io_uring") == 0;
        RecvPath p = uring ? RecvPath::UringOp : RecvPath::WaitFirst;
        const detail::NetRecvChoice want = detail::config().net_recv;  // GREEN_NET_RECV
        if (want == detail::NetRecvChoice::Poll) p = RecvPath::Poll;
        if (want == detail::NetRecvChoice::WaitFirst) p = RecvPath::WaitFirst;
        if (uring && want == detail::NetRecvChoice::Op) p = RecvPath::UringOp;
        cached = static_cast<int>(p);
    }
    return static_cast<RecvPath>(cached);
}

// Parks until `fd` is ready for `events`. Throws green::Timeout at the deadline and
// system_error(EBADF) when the socket is closed meanwhile (then `this` may be gone too).
void await(int fd, short events, const Deadline& deadline, const char* op) {
    const int r = wait_fd(fd, events, deadline);
    if (r > 0) return;
    if (r == 0) detail::throw_timeout_expired();
    throw_errno(-r, op);
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
    stream_ = (type == SOCK_STREAM);
}

Socket Socket::adopt(int fd) {
    if (fd < 0) throw std::invalid_argument("green::Socket::adopt: negative fd");
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) throw_errno(errno, "adopt");
    Socket s(fd);
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
    for (;;) {
        const int fd = checked_fd("accept");
        sockaddr_storage ss;
        socklen_t len = sizeof ss;
        const int c =
            ::accept4(fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0) {
            Socket s(c);
            s.stream_ = stream_;
            s.timeout_ = timeout_;
            return {std::move(s), Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len)};
        }
        const int err = errno;
        // The connection died in the queue; as a blocking accept would, wait for the next.
        if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
        if (!would_block(err)) throw_errno(err, "accept");
        await(fd, POLLIN, deadline, "accept");
    }
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
    const RecvPath path = recv_path();
    if (path == RecvPath::UringOp && !(flags & MSG_DONTWAIT)) {
        long landed = 0;
        long n;
        try {
            n = detail::Hub::get().io().recv_op(fd, buf, len, flags, deadline, landed);
        } catch (...) {
            if (landed > 0 && !(flags & MSG_PEEK))
                pending_.assign(static_cast<const char*>(buf), static_cast<std::size_t>(landed));
            throw;
        }
        if (n >= 0) {
            drained_ = stream_ && n > 0 && static_cast<std::size_t>(n) < len && !(flags & MSG_PEEK);
            return static_cast<std::size_t>(n);
        }
        if (n == -ETIME) detail::throw_timeout_expired();
        if (n != -ENOSYS && n != -EAGAIN) throw_errno(static_cast<int>(-n), "recv");
    }
    if (path == RecvPath::WaitFirst && drained_ && !deadline.expired() &&
        detail::Hub::get().io().wait_before_recv_ok(fd)) {
        const int r = wait_fd(fd, POLLIN, deadline);
        if (r < 0) throw_errno(-r, "recv");
        drained_ = false;
        if (r == 0) deadline = Deadline(Clock::time_point{});  // one last try, then Timeout
    }
    for (;;) {
        const ssize_t n = ::recv(fd, buf, len, flags);
        if (n >= 0) {
            // Only a short stream read that consumed data proves the queue empty: a datagram
            // says nothing about the next one, MSG_PEEK leaves the data.
            drained_ = stream_ && n > 0 && static_cast<std::size_t>(n) < len && !(flags & MSG_PEEK);
            return static_cast<std::size_t>(n);
        }
        const int err = errno;
        if (err == EINTR) continue;
        if (!would_block(err) || (flags & MSG_DONTWAIT)) throw_errno(err, "recv");
        await(fd, POLLIN, deadline, "recv");
    }
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
    for (;;) {
        const int fd = checked_fd("send");
        const ssize_t n = ::send(fd, buf, len, flags | MSG_NOSIGNAL);
        if (n >= 0) return static_cast<std::size_t>(n);
        const int err = errno;
        if (err == EINTR) continue;
        if (!would_block(err) || (flags & MSG_DONTWAIT)) throw_errno(err, "send");
        await(fd, POLLOUT, deadline, "send");
    }
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
    const Deadline deadline = default_deadline();
    for (;;) {
        const int fd = checked_fd("sendto");
        const ssize_t n =
            ::sendto(fd, buf, len, flags | MSG_NOSIGNAL, to.sockaddr_ptr(), to.length());
        if (n >= 0) return static_cast<std::size_t>(n);
        const int err = errno;
        if (err == EINTR) continue;
        if (!would_block(err) || (flags & MSG_DONTWAIT))
            throw std::system_error(err, std::system_category(), "sendto " + to.to_string());
        await(fd, POLLOUT, deadline, "sendto");
    }
}

std::pair<std::size_t, Address> Socket::recvfrom(void* buf, std::size_t len, int flags) {
    return recvfrom(buf, len, flags, default_deadline());
}

std::pair<std::size_t, Address> Socket::recvfrom(void* buf, std::size_t len, int flags,
                                                 Deadline deadline) {
    for (;;) {
        const int fd = checked_fd("recvfrom");
        sockaddr_storage ss;
        socklen_t slen = sizeof ss;
        const ssize_t n = ::recvfrom(fd, buf, len, flags, reinterpret_cast<sockaddr*>(&ss), &slen);
        if (n >= 0) {
            // A connected stream socket reports no address.
            Address from = slen > 0 ? Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), slen)
                                    : Address();
            return {static_cast<std::size_t>(n), from};
        }
        const int err = errno;
        if (err == EINTR) continue;
        if (!would_block(err) || (flags & MSG_DONTWAIT)) throw_errno(err, "recvfrom");
        await(fd, POLLIN, deadline, "recvfrom");
    }
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
