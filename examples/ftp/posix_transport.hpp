// The FTP Transport on plain blocking POSIX sockets, for the thread-per-client server.
#pragma once

#include <string>

#include "transport.hpp"

namespace ftp {

class PosixStream : public Stream {
  public:
    explicit PosixStream(int fd) : fd_(fd) {}
    ~PosixStream() override;
    PosixStream(const PosixStream&) = delete;
    PosixStream& operator=(const PosixStream&) = delete;
    std::size_t read_some(char* buf, std::size_t len) override;
    void write_all(std::string_view data) override;
    int fd() const { return fd_; }

  private:
    int fd_;
};

class PosixTransport : public Transport {
  public:
    // Takes ownership of the connected socket `fd`.
    explicit PosixTransport(int fd);
    Stream& control() override { return control_; }
    std::string local_ip() const override { return ip_; }
    bool local_is_ipv4() const override { return ipv4_; }
    std::unique_ptr<PassiveListener> listen_passive() override;

  private:
    PosixStream control_;
    std::string ip_;
    bool ipv4_ = true;
};

// A listening TCP socket on host:port (port 0: any), SO_REUSEADDR set. Throws std::system_error
// (std::invalid_argument for a host that is not a numeric address).
int listen_tcp(const std::string& host, std::uint16_t port, int backlog);
// The local port of a bound socket.
std::uint16_t local_port(int fd);

}  // namespace ftp
