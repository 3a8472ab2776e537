// Blocking POSIX sockets behind the FTP Transport (see posix_transport.hpp).
#include "posix_transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace ftp {

namespace {

[[noreturn]] void fail(const char* what) {
    throw std::system_error(errno, std::system_category(), what);
}

class PosixListener : public PassiveListener {
  public:
    PosixListener(int fd, std::uint16_t port) : fd_(fd), port_(port) {}
    ~PosixListener() override { ::close(fd_); }
    std::uint16_t port() const override { return port_; }
    std::unique_ptr<Stream> accept(std::chrono::milliseconds limit) override {
        pollfd p{fd_, POLLIN, 0};
        int r;
        while ((r = ::poll(&p, 1, static_cast<int>(limit.count()))) < 0 && errno == EINTR) {
        }
        if (r <= 0) return nullptr;
        const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) return nullptr;
        return std::make_unique<PosixStream>(conn);
    }

  private:
    int fd_;
    std::uint16_t port_;
};

}  // namespace

PosixStream::~PosixStream() {
    ::close(fd_);
}

std::size_t PosixStream::read_some(char* buf, std::size_t len) {
    for (;;) {
        const ssize_t n = ::recv(fd_, buf, len, 0);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) fail("recv");
    }
}

void PosixStream::write_all(std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("send");
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

PosixTransport::PosixTransport(int fd) : control_(fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) fail("getsockname");
    char text[INET6_ADDRSTRLEN] = "";
    ipv4_ = ss.ss_family == AF_INET;
    const void* addr = ipv4_
                           ? static_cast<const void*>(&reinterpret_cast<sockaddr_in&>(ss).sin_addr)
                           : &reinterpret_cast<sockaddr_in6&>(ss).sin6_addr;
    ::inet_ntop(ss.ss_family, addr, text, sizeof text);
    ip_ = text;
}

std::unique_ptr<PassiveListener> PosixTransport::listen_passive() {
    const int fd = listen_tcp(ip_, 0, 1);
    return std::make_unique<PosixListener>(fd, local_port(fd));
}

int listen_tcp(const std::string& host, std::uint16_t port, int backlog) {
    sockaddr_storage ss{};
    socklen_t len;
    auto& v4 = reinterpret_cast<sockaddr_in&>(ss);
    auto& v6 = reinterpret_cast<sockaddr_in6&>(ss);
    if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(port);
        len = sizeof v4;
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(port);
        len = sizeof v6;
    } else {
        throw std::invalid_argument("--host " + host + ": not a numeric IPv4 or IPv6 address");
    }
    const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, backlog) != 0) {
        const int err = errno;
        ::close(fd);
        errno = err;
        fail(port ? "bind/listen" : "listen");
    }
    return fd;
}

std::uint16_t local_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) fail("getsockname");
    return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(ss).sin_port
                                         : reinterpret_cast<sockaddr_in6&>(ss).sin6_port);
}

}  // namespace ftp
