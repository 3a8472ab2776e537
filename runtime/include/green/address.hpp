// green::Address: one socket address (IPv4, IPv6 or Unix domain) as a value type, built from
// numeric text so that constructing one never blocks; green::resolve does name lookups, off the
// hub.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "green/clock.hpp"

namespace green {

class Address {
  public:
    // An empty address (family AF_UNSPEC).
    Address() noexcept;
    // A numeric IPv4 or IPv6 host ("127.0.0.1", "::1", "[::1]", "fe80::1%lo") and a port.
    // "" means any IPv4 address, "localhost" means 127.0.0.1. Anything else throws
    // std::invalid_argument: names need green::resolve, which may block on DNS.
    Address(std::string_view host, std::uint16_t port);

    // A Unix domain socket path; a leading '@' names an address in the abstract namespace.
    static Address unix_path(std::string_view path);
    // "host:port", "[v6]:port", "unix:/path" (the forms to_string() produces, port required).
    static Address parse(std::string_view text);
    // Copies a kernel sockaddr (from accept, recvfrom, getsockname).
    static Address from_sockaddr(const sockaddr* sa, socklen_t len);

    int family() const noexcept { return storage_.ss_family; }
    bool is_ip() const noexcept;
    bool is_unix() const noexcept { return family() == AF_UNIX; }
    // The numeric host ("127.0.0.1", "::1") or the Unix path ("" when unnamed).
    std::string host() const;
    // 0 for Unix addresses.
    std::uint16_t port() const noexcept;
    // "127.0.0.1:8000", "[::1]:8000", "unix:/tmp/s", "unix:@abstract", "unix:(unnamed)".
    std::string to_string() const;

    const sockaddr* sockaddr_ptr() const noexcept {
        return reinterpret_cast<const sockaddr*>(&storage_);
    }
    socklen_t length() const noexcept { return length_; }

    friend bool operator==(const Address& a, const Address& b) noexcept;
    std::size_t hash() const noexcept;

  private:
    sockaddr_storage storage_;
    socklen_t length_ = 0;
};

// Resolves a host name (or numeric address) with getaddrinfo on the offload pool, so the hub
// keeps running. family: AF_UNSPEC, AF_INET or AF_INET6; socktype: SOCK_STREAM or SOCK_DGRAM.
// Numeric hosts are answered inline. Throws std::system_error (green::gai_category) on failure
// and green::Timeout when the deadline passes first.
std::vector<Address> resolve(std::string_view host, std::uint16_t port, int family = AF_UNSPEC,
                             int socktype = SOCK_STREAM, Deadline deadline = {});

// The error category of getaddrinfo's EAI_* codes ("Name or service not known").
const std::error_category& gai_category() noexcept;

}  // namespace green

template <>
struct std::hash<green::Address> {
    std::size_t operator()(const green::Address& a) const noexcept { return a.hash(); }
};
