// green::Socket helpers for the networking tests: a listener (127.0.0.1 and a kernel-chosen
// port unless told otherwise), a connected TCP pair over loopback, one request to an echo server.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <string>
#include <utility>

#include <green/green.hpp>

namespace green_test {

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

// Connects to `where` (within 5 s), sends `msg` and returns the reply of the same length (an
// echo server's answer).
inline std::string ask(const green::Address& where, const std::string& msg) {
    green::Socket c(where.family(), SOCK_STREAM);
    c.connect(where, std::chrono::seconds(5));
    c.sendall(msg);
    return c.recv_exact(msg.size());
}

}  // namespace green_test
