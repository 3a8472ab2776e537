// Data transfer hooks: read, write, readv, writev, recv, recvfrom, recvmsg, send, sendto, sendmsg.
// Sockets stay in the program's blocking mode: each attempt passes MSG_DONTWAIT and the fiber
// waits for readiness between attempts, so no O_NONBLOCK flag ever leaks to another process or
// thread sharing the socket. A blocking send on a stream socket sends everything, as the kernel
// would. Pipes, terminals and eventfds wait for readiness first and then make the plain call.
#include <limits.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "file_io.hpp"
#include "hook_common.hpp"
#include "iov_window.hpp"

namespace green::hooks {

namespace {

// Socket input: attempt(flags) until it stops returning EAGAIN, or SO_RCVTIMEO passes.
template <class Attempt>
ssize_t socket_in(int fd, const FdInfo& info, Attempt attempt) {
    ErrnoKeeper keep;
    return keep.ok(
        io_wait(fd, POLLIN, deadline_after_ns(info.rcv_ns), [&] { return attempt(MSG_DONTWAIT); }));
}

// Socket output: attempt(done, flags) sends from offset `done`. Stream sockets loop until all
// `total` bytes are sent; a failure after some progress reports the progress, as the kernel does.
template <class Attempt>
ssize_t socket_out(int fd, const FdInfo& info, std::size_t total, Attempt attempt) {
    ErrnoKeeper keep;
    const Deadline deadline = deadline_after_ns(info.snd_ns);
    std::size_t done = 0;
    for (;;) {
        const long r = io_wait(fd, POLLOUT, deadline, [&] { return attempt(done, MSG_DONTWAIT); });
        if (r < 0) return done ? keep.ok(static_cast<ssize_t>(done)) : -1;
        done += static_cast<std::size_t>(r);
        if (!info.stream || done >= total) return keep.ok(static_cast<ssize_t>(done));
    }
}

// Pipes: a write of at most PIPE_BUF bytes never blocks once poll reports POLLOUT (one free
// pipe buffer holds it), so larger writes go out in PIPE_BUF pieces, each after a readiness
// check. Small writes stay single writes and keep their atomicity.
template <class WriteAt>
ssize_t pipe_out(int fd, std::size_t total, WriteAt write_at) {
    if (total <= PIPE_BUF) return when_ready(fd, POLLOUT, [&] { return write_at(0, total); });
    std::size_t done = 0;
    while (done < total) {
        const std::size_t chunk = std::min<std::size_t>(total - done, PIPE_BUF);
        const ssize_t r = when_ready(fd, POLLOUT, [&] { return write_at(done, chunk); });
        if (r < 0) return done ? static_cast<ssize_t>(done) : -1;
        done += static_cast<std::size_t>(r);
    }
    return static_cast<ssize_t>(done);
}

// The descriptor turned out not to be a socket (closed and reused behind the hooks' back):
// forget what we knew and let the caller start over.
bool stale_socket(int fd) noexcept {
    if (errno != ENOTSOCK) return false;
    fd_forget(fd);
    return true;
}

// Should this call on fd go to libc as is? Fills `info` otherwise. O_NONBLOCK means nothing to
// a regular file or a block device: their calls still wait for the disk.
bool direct(int fd, FdInfo& info) noexcept {
    if (!route(Need::Io)) return true;
    info = fd_info(fd);
    return (info.nonblock && info.kind != FdKind::File) || info.kind == FdKind::Other;
}

ssize_t recvfrom_hook(int fd, void* buf, size_t n, int flags, sockaddr* addr, socklen_t* len) {
    FdInfo info;
    if ((flags & MSG_DONTWAIT) || direct(fd, info) || info.kind != FdKind::Socket)
        return GREEN_REAL_OR_SYSCALL(recvfrom, SYS_recvfrom, fd, buf, n, flags, addr, len);
    if ((flags & MSG_WAITALL) && info.stream && !addr) {
        // MSG_WAITALL: keep reading until n bytes, end of stream, an error or the timeout.
        std::size_t got = 0;
        const int f = flags & ~MSG_WAITALL;
        while (got < n) {
            const ssize_t r = socket_in(fd, info, [&](int dw) {
                return GREEN_REAL_OR_SYSCALL(recvfrom, SYS_recvfrom, fd,
                                             static_cast<char*>(buf) + got, n - got, f | dw,
                                             nullptr, nullptr);
            });
            if (r <= 0) return got ? static_cast<ssize_t>(got) : r;
            got += static_cast<std::size_t>(r);
        }
        return static_cast<ssize_t>(got);
    }
    return socket_in(fd, info, [&](int dw) {
        return GREEN_REAL_OR_SYSCALL(recvfrom, SYS_recvfrom, fd, buf, n, flags | dw, addr, len);
    });
}

ssize_t sendto_hook(int fd, const void* buf, size_t n, int flags, const sockaddr* addr,
                    socklen_t len) {
    FdInfo info;
    if ((flags & MSG_DONTWAIT) || direct(fd, info) || info.kind != FdKind::Socket)
        return GREEN_REAL_OR_SYSCALL(sendto, SYS_sendto, fd, buf, n, flags, addr, len);
    return socket_out(fd, info, n, [&](std::size_t done, int dw) {
        return GREEN_REAL_OR_SYSCALL(sendto, SYS_sendto, fd, static_cast<const char*>(buf) + done,
                                     n - done, flags | dw, addr, len);
    });
}

}  // namespace

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

ssize_t read(int fd, void* buf, size_t n) {
    FdInfo info;
    if (direct(fd, info) || !info.readable)
        return GREEN_REAL_OR_SYSCALL(read, SYS_read, fd, buf, n);
    if (info.kind == FdKind::File) {
        iovec v{buf, n};
        return file_transfer(FileDir::Read, fd, &v, 1, -1, 0);
    }
    if (info.kind == FdKind::Socket) {
        const ssize_t r = socket_in(fd, info, [&](int dw) {
            return GREEN_REAL_OR_SYSCALL(recvfrom, SYS_recvfrom, fd, buf, n, dw, nullptr, nullptr);
        });
        if (r < 0 && stale_socket(fd)) return read(fd, buf, n);
        return r;
    }
    // A pipe read is one operation of the backend: on io_uring the kernel reads when data comes.
    if (info.kind == FdKind::Pipe) return submit_op(rt::IoOp::Kind::Read, fd, buf, n);
    return when_ready(fd, POLLIN,
                      [&] { return GREEN_REAL_OR_SYSCALL(read, SYS_read, fd, buf, n); });
}

ssize_t write(int fd, const void* buf, size_t n) {
    FdInfo info;
    if (direct(fd, info) || !info.writable)
        return GREEN_REAL_OR_SYSCALL(write, SYS_write, fd, buf, n);
    switch (info.kind) {
        case FdKind::File: {
            iovec v{const_cast<void*>(buf), n};
            return file_transfer(FileDir::Write, fd, &v, 1, -1, 0);
        }
        case FdKind::Socket: {
            const ssize_t r = socket_out(fd, info, n, [&](std::size_t done, int dw) {
                return GREEN_REAL_OR_SYSCALL(sendto, SYS_sendto, fd,
                                             static_cast<const char*>(buf) + done, n - done, dw,
                                             nullptr, 0);
            });
            if (r < 0 && stale_socket(fd)) return write(fd, buf, n);
            return r;
        }
        case FdKind::Pipe:
            return pipe_out(fd, n, [&](std::size_t done, std::size_t len) {
                return GREEN_REAL_OR_SYSCALL(write, SYS_write, fd,
                                             static_cast<const char*>(buf) + done, len);
            });
        default:  // terminals and eventfds rarely block on output; leave them alone
            return GREEN_REAL_OR_SYSCALL(write, SYS_write, fd, buf, n);
    }
}

ssize_t readv(int fd, const iovec* iov, int n) {
    FdInfo info;
    if (direct(fd, info) || !info.readable)
        return GREEN_REAL_OR_SYSCALL(readv, SYS_readv, fd, iov, n);
    if (info.kind == FdKind::File) return file_transfer(FileDir::Read, fd, iov, n, -1, 0);
    if (info.kind == FdKind::Socket) {
        const ssize_t r = socket_in(fd, info, [&](int dw) {
            msghdr msg{};
            msg.msg_iov = const_cast<iovec*>(iov);
            msg.msg_iovlen = static_cast<std::size_t>(n);
            return GREEN_REAL_OR_SYSCALL(recvmsg, SYS_recvmsg, fd, &msg, dw);
        });
        if (r < 0 && stale_socket(fd)) return readv(fd, iov, n);
        return r;
    }
    return when_ready(fd, POLLIN,
                      [&] { return GREEN_REAL_OR_SYSCALL(readv, SYS_readv, fd, iov, n); });
}

ssize_t writev(int fd, const iovec* iov, int n) {
    FdInfo info;
    if (direct(fd, info) || !info.writable || n < 0 || n > IOV_MAX)
        return GREEN_REAL_OR_SYSCALL(writev, SYS_writev, fd, iov, n);
    const std::size_t total = iov_total(iov, n);
    switch (info.kind) {
        case FdKind::File:
            return file_transfer(FileDir::Write, fd, iov, n, -1, 0);
        case FdKind::Socket: {
            const ssize_t r = socket_out(fd, info, total, [&](std::size_t done, int dw) {
                IovWindow w(iov, n, done, total);
                msghdr msg{};
                msg.msg_iov = w.data();
                msg.msg_iovlen = static_cast<std::size_t>(w.size());
                return GREEN_REAL_OR_SYSCALL(sendmsg, SYS_sendmsg, fd, &msg, dw);
            });
            if (r < 0 && stale_socket(fd)) return writev(fd, iov, n);
            return r;
        }
        case FdKind::Pipe:
            if (total <= PIPE_BUF)
                return when_ready(fd, POLLOUT, [&] {
                    return GREEN_REAL_OR_SYSCALL(writev, SYS_writev, fd, iov, n);
                });
            return pipe_out(fd, total, [&](std::size_t done, std::size_t len) {
                IovWindow w(iov, n, done, len);
                return GREEN_REAL_OR_SYSCALL(writev, SYS_writev, fd, w.data(), w.size());
            });
        default:
            return GREEN_REAL_OR_SYSCALL(writev, SYS_writev, fd, iov, n);
    }
}

ssize_t recv(int fd, void* buf, size_t n, int flags) {
    return recvfrom_hook(fd, buf, n, flags, nullptr, nullptr);
}

ssize_t recvfrom(int fd, void* buf, size_t n, int flags, sockaddr* addr, socklen_t* len) {
    return recvfrom_hook(fd, buf, n, flags, addr, len);
}

ssize_t recvmsg(int fd, msghdr* msg, int flags) {
    FdInfo info;
    if ((flags & MSG_DONTWAIT) || direct(fd, info) || info.kind != FdKind::Socket)
        return GREEN_REAL_OR_SYSCALL(recvmsg, SYS_recvmsg, fd, msg, flags);
    return socket_in(fd, info, [&](int dw) {
        return GREEN_REAL_OR_SYSCALL(recvmsg, SYS_recvmsg, fd, msg, flags | dw);
    });
}

ssize_t send(int fd, const void* buf, size_t n, int flags) {
    return sendto_hook(fd, buf, n, flags, nullptr, 0);
}

ssize_t sendto(int fd, const void* buf, size_t n, int flags, const sockaddr* addr, socklen_t len) {
    return sendto_hook(fd, buf, n, flags, addr, len);
}

ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
    FdInfo info;
    if ((flags & MSG_DONTWAIT) || direct(fd, info) || info.kind != FdKind::Socket || !msg ||
        msg->msg_iovlen > IOV_MAX)
        return GREEN_REAL_OR_SYSCALL(sendmsg, SYS_sendmsg, fd, msg, flags);
    const int n = static_cast<int>(msg->msg_iovlen);
    const std::size_t total = iov_total(msg->msg_iov, n);
    return socket_out(fd, info, total, [&](std::size_t done, int dw) {
        if (done == 0) return GREEN_REAL_OR_SYSCALL(sendmsg, SYS_sendmsg, fd, msg, flags | dw);
        // The rest of a partly sent stream message: ancillary data went with the first part.
        IovWindow w(msg->msg_iov, n, done, total);
        msghdr rest{};
        rest.msg_iov = w.data();
        rest.msg_iovlen = static_cast<std::size_t>(w.size());
        return GREEN_REAL_OR_SYSCALL(sendmsg, SYS_sendmsg, fd, &rest, flags | dw);
    });
}

}  // extern "C"
