// green::Socket: a cooperative socket. The fd is non-blocking underneath; every call looks
// blocking to the fiber that makes it, while the hub runs other fibers. Errors are
// std::system_error ("recv: Connection reset by peer"); timeouts throw green::Timeout.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "green/address.hpp"
#include "green/clock.hpp"
#include "green/wait_fd.hpp"

namespace green {

// recv_exact met the end of the stream first. `received` bytes were stored.
class IncompleteRead : public std::runtime_error {
  public:
    IncompleteRead(std::size_t received, std::size_t wanted);
    std::size_t received;
    std::size_t wanted;
};

class Socket {
  public:
    // No socket (fd -1).
    Socket() noexcept = default;
    // A new socket, e.g. Socket(AF_INET, SOCK_STREAM). Created SOCK_NONBLOCK | SOCK_CLOEXEC.
    Socket(int family, int type, int protocol = 0);
    static Socket tcp(int family = AF_INET) { return Socket(family, SOCK_STREAM); }
    static Socket udp(int family = AF_INET) { return Socket(family, SOCK_DGRAM); }
    // Takes ownership of an existing socket fd and makes it non-blocking.
    static Socket adopt(int fd);

    Socket(Socket&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)),
          timeout_(o.timeout_),
          stream_(o.stream_),
          pending_(std::move(o.pending_)),
          drained_(o.drained_) {}
    Socket& operator=(Socket&& o) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() { close(); }

    int fd() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    // Gives the fd up without closing it.
    int release() noexcept { return std::exchange(fd_, -1); }
    int family() const;
    int type() const;

    // Default time limit for every blocking call on this socket, as Python's settimeout:
    // nullopt blocks without limit; zero polls once. Calls that take a Deadline ignore it.
    void settimeout(std::optional<Duration> timeout) noexcept { timeout_ = timeout; }
    std::optional<Duration> gettimeout() const noexcept { return timeout_; }

    // ---- connection setup ----
    void bind(const Address& addr);
    void listen(int backlog = 128);
    // Connects, reporting failures (ECONNREFUSED, ETIMEDOUT, ...) as a blocking connect would.
    void connect(const Address& addr);
    void connect(const Address& addr, Deadline deadline);
    // Like connect but returns the errno (0 on success) instead of throwing it. Still throws
    // green::Timeout when the deadline passes.
    int connect_ex(const Address& addr);
    // A connected socket (non-blocking, close-on-exec) and its peer.
    std::pair<Socket, Address> accept();
    std::pair<Socket, Address> accept(Deadline deadline);

    // ---- stream I/O ----
    // Up to len bytes; 0 means the peer closed its side (or len was 0).
    std::size_t recv(void* buf, std::size_t len, int flags = 0);
    std::size_t recv(void* buf, std::size_t len, int flags, Deadline deadline);
    // Up to max bytes as a string; empty at end of stream.
    std::string recv(std::size_t max = 65536);
    std::string recv(std::size_t max, Deadline deadline);
    std::size_t recv_into(void* buf, std::size_t len) { return recv(buf, len); }
    // Exactly len bytes; throws IncompleteRead if the stream ends first.
    void recv_exact(void* buf, std::size_t len);
    void recv_exact(void* buf, std::size_t len, Deadline deadline);
    std::string recv_exact(std::size_t len);
    // Sends what fits now (at least one byte unless len is 0); returns the count. Never raises
    // SIGPIPE: a closed peer is std::system_error(EPIPE).
    std::size_t send(const void* buf, std::size_t len, int flags = 0);
    std::size_t send(const void* buf, std::size_t len, int flags, Deadline deadline);
    std::size_t send(std::string_view data) { return send(data.data(), data.size()); }
    // Sends everything. With a time limit the whole call shares one deadline.
    void sendall(const void* buf, std::size_t len, int flags = 0);
    void sendall(const void* buf, std::size_t len, int flags, Deadline deadline);
    void sendall(std::string_view data) { sendall(data.data(), data.size()); }

    // ---- datagrams ----
    std::size_t sendto(const void* buf, std::size_t len, const Address& to, int flags = 0);
    std::size_t sendto(std::string_view data, const Address& to) {
        return sendto(data.data(), data.size(), to);
    }
    std::pair<std::size_t, Address> recvfrom(void* buf, std::size_t len, int flags = 0);
    std::pair<std::size_t, Address> recvfrom(void* buf, std::size_t len, int flags,
                                             Deadline deadline);
    std::pair<std::string, Address> recvfrom(std::size_t max = 65536);

    // ---- the rest ----
    void shutdown(int how = SHUT_WR);
    // Wakes fibers waiting on this socket (they get EBADF), then closes it. Idempotent.
    void close() noexcept;
    Address getsockname() const;
    Address getpeername() const;
    void setsockopt(int level, int name, int value);
    int getsockopt(int level, int name) const;
    void set_reuseaddr(bool on = true) { setsockopt(SOL_SOCKET, SO_REUSEADDR, on); }
    void set_reuseport(bool on = true) { setsockopt(SOL_SOCKET, SO_REUSEPORT, on); }
    void set_nodelay(bool on = true);
    void set_keepalive(bool on = true) { setsockopt(SOL_SOCKET, SO_KEEPALIVE, on); }
    // The pending error (SO_ERROR), cleared by reading it.
    int pending_error() const { return getsockopt(SOL_SOCKET, SO_ERROR); }

  private:
    explicit Socket(int fd) noexcept : fd_(fd) {}
    Deadline default_deadline() const noexcept {
        return timeout_ ? Deadline(*timeout_) : Deadline();
    }
    int checked_fd(const char* op) const;
    friend Socket create_connection(std::string_view, std::uint16_t, std::optional<Duration>,
                                    const std::optional<Address>&);
    // The errno of the attempt (0: connected); `timed_out` when the deadline passed first.
    int connect_impl(const Address& addr, const Deadline& deadline, bool& timed_out);

    int fd_ = -1;
    std::optional<Duration> timeout_;
    bool stream_ = false;  // SOCK_STREAM: a short read proves the receive queue empty
    // Bytes an io_uring receive delivered after its caller was interrupted (kill, Timeout);
    // the next recv returns them first, so an abandoned call loses no data.
    std::string pending_;
    // The last recv returned less than asked, so the receive queue was empty: with io_uring
    // the next receive waits for readiness before its first attempt (a level-triggered check,
    // so an end of stream that is already there is still seen at once).
    bool drained_ = false;
};

// Connects to host:port: resolves the name off the hub (green::resolve), then tries each address
// in order; throws the last error. `timeout` bounds each connect attempt and the name lookup,
// and becomes the socket's default timeout (as in Python). `source` binds the local end first.
Socket create_connection(std::string_view host, std::uint16_t port,
                         std::optional<Duration> timeout = std::nullopt,
                         const std::optional<Address>& source = std::nullopt);

// A buffered reader over a stream socket, the part of Python's makefile('rb') that line-based
// protocols need. Do not mix with direct recv on the same socket: the buffer may hold data.
// Works on any stream with Socket's recv(void*, std::size_t) (a Socket, a green::TlsSocket).
class LineReader {
  public:
    template <class Stream>
    explicit LineReader(Stream& stream, std::size_t chunk = 16384)
        : stream_(&stream),
          recv_([](void* s, void* buf, std::size_t n) -> std::size_t {
              return static_cast<Stream*>(s)->recv(buf, n);
          }),
          chunk_(chunk) {}
    // One line including its '\n'; the remaining bytes at end of stream; "" at end of stream.
    // At most `limit` bytes are returned (a longer line comes back in pieces).
    std::string readline(std::size_t limit = static_cast<std::size_t>(-1));
    // Up to n bytes, fewer only at end of stream.
    std::string read(std::size_t n);
    // Bytes buffered but not yet returned.
    std::size_t buffered() const noexcept { return buf_.size() - pos_; }

  private:
    bool fill();
    void* stream_;
    std::size_t (*recv_)(void* stream, void* buf, std::size_t len);
    std::size_t chunk_;
    std::string buf_;
    std::size_t pos_ = 0;
};

}  // namespace green
