// The seam between the FTP protocol and how bytes move: a connected stream (the control or a
// data connection) and a passive-mode listener. The threaded server implements it on blocking
// POSIX sockets, the green one on green::Socket; the protocol (session.cpp) exists once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ftp {

class Stream {
  public:
    virtual ~Stream() = default;
    // Up to `len` bytes; 0 at end of stream. Throws std::system_error on a socket error.
    virtual std::size_t read_some(char* buf, std::size_t len) = 0;
    // All of `data`, or std::system_error.
    virtual void write_all(std::string_view data) = 0;
};

class PassiveListener {
  public:
    virtual ~PassiveListener() = default;
    virtual std::uint16_t port() const = 0;
    // The client's data connection; nullptr if none came within `limit`.
    virtual std::unique_ptr<Stream> accept(std::chrono::milliseconds limit) = 0;
};

// What a session needs from its transport: the control connection, its local address (the
// passive listener binds there and PASV announces it) and a way to open passive listeners.
class Transport {
  public:
    virtual ~Transport() = default;
    virtual Stream& control() = 0;
    // The control connection's local IP as text and whether it is IPv4 (PASV needs IPv4).
    virtual std::string local_ip() const = 0;
    virtual bool local_is_ipv4() const = 0;
    // A listener on local_ip(), any port, for one data connection. Throws std::system_error.
    virtual std::unique_ptr<PassiveListener> listen_passive() = 0;
};

}  // namespace ftp
