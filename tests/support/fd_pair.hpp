// Two connected descriptors made with plain libc calls, blocking (the program's view): an
// AF_UNIX stream pair or a pipe, both ends closed with close(2) when the pair goes.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <utility>

namespace green_test {

struct Fds {
    int a = -1, b = -1;
    Fds() = default;
    Fds(const Fds&) = delete;
    Fds& operator=(const Fds&) = delete;
    Fds(Fds&& o) noexcept : a(std::exchange(o.a, -1)), b(std::exchange(o.b, -1)) {}
    ~Fds() {
        if (a >= 0) ::close(a);
        if (b >= 0) ::close(b);
    }
};

// A connected AF_UNIX stream pair.
inline Fds stream_pair() {
    Fds f;
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    f.a = sv[0];
    f.b = sv[1];
    return f;
}

// A pipe: a is the read end, b the write end.
inline Fds make_pipe() {
    Fds f;
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    f.a = p[0];
    f.b = p[1];
    return f;
}

}  // namespace green_test
