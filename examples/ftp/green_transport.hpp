// The FTP Transport on green::Socket, for the server written on green's API: every read,
// write and accept parks only the session's greenlet.
#pragma once

#include <green/green.hpp>

#include "transport.hpp"

namespace ftp {

class GreenStream : public Stream {
  public:
    explicit GreenStream(green::Socket& sock) : sock_(&sock) {}
    explicit GreenStream(green::Socket&& owned) : owned_(std::move(owned)), sock_(&owned_) {}
    std::size_t read_some(char* buf, std::size_t len) override { return sock_->recv(buf, len); }
    void write_all(std::string_view data) override { sock_->sendall(data); }

  private:
    green::Socket owned_;
    green::Socket* sock_;
};

class GreenTransport : public Transport {
  public:
    explicit GreenTransport(green::Socket& control);
    Stream& control() override { return control_; }
    std::string local_ip() const override { return local_.host(); }
    bool local_is_ipv4() const override { return local_.family() == AF_INET; }
    std::unique_ptr<PassiveListener> listen_passive() override;

  private:
    GreenStream control_;
    green::Address local_;
};

}  // namespace ftp
