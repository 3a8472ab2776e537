// Helpers shared by the networking tests: loopback listeners, connected pairs, a content hash.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <green/green.hpp>

namespace nettest {

inline green::Socket listener(const green::Address& addr = {"127.0.0.1", 0}, int backlog = 128) {
    green::Socket s(addr.family(), SOCK_STREAM);
    if (addr.is_ip()) s.set_reuseaddr();
    s.bind(addr);
    s.listen(backlog);
    return s;
}

// A connected TCP pair over 127.0.0.1: {client, server side}.
inline std::pair<green::Socket, green::Socket> tcp_pair() {
    green::Socket l = listener();
    green::Socket c = green::Socket::tcp();
    c.connect(l.getsockname());
    auto [s, peer] = l.accept();
    return {std::move(c), std::move(s)};
}

// 64-bit FNV-1a, enough to tell two 10 MB streams apart.
struct Fnv {
    std::uint64_t h = 1469598103934665603ull;
    void add(const void* p, std::size_t n) {
        auto* b = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
    }
};

// Deterministic pseudo-random bytes (xorshift), so both ends can regenerate a stream.
inline std::string pattern(std::size_t n, std::uint64_t seed) {
    std::string out(n, '\0');
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (std::size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = static_cast<char>(x);
    }
    return out;
}

}  // namespace nettest
