// Per-descriptor bookkeeping for the hooks: what kind of file an fd is, whether the program put
// it in non-blocking mode, and its SO_RCVTIMEO / SO_SNDTIMEO. Bookkeeping only — waiting goes
// through the runtime's wait_fd. Lock-free, process-wide, and filled lazily, so descriptors
// made before the hub existed (or by code that bypasses the hooks) are classified on first use.
#pragma once

#include <cstdint>

namespace green::hooks {

enum class FdKind : std::uint8_t {
    Unknown = 0,  // not classified yet
    Socket,       // cooperative via MSG_DONTWAIT
    Pipe,         // pipes and FIFOs: wait for readiness, then call
    Tty,          // terminals: reads wait for readiness
    Anon,         // eventfd, timerfd, signalfd, inotify: reads wait for readiness
    File,         // regular files and block devices: operations that wait for the disk (file_io)
    Other,        // character devices, epoll fds...: never patched
};

struct FdInfo {
    FdKind kind = FdKind::Unknown;
    bool nonblock = false;  // the program's view of O_NONBLOCK
    bool stream = false;    // sockets: SOCK_STREAM (a blocking send sends everything)
    bool readable = true;   // opened for reading (O_ACCMODE): a pipe's write end is not
    bool writable = true;
    std::int64_t rcv_ns = 0;  // SO_RCVTIMEO, 0 = none
    std::int64_t snd_ns = 0;  // SO_SNDTIMEO, 0 = none
};

// The fd's info, classifying it (fstat, F_GETFL, ...) if this is its first use. A negative or
// out-of-range fd comes back as FdKind::Other.
FdInfo fd_info(int fd) noexcept;

// A descriptor the hooks created: no need to ask the kernel later.
// accmode: O_RDONLY, O_WRONLY or O_RDWR.
void fd_created(int fd, FdKind kind, bool nonblock, bool stream, int accmode) noexcept;
// Forget fd (closed, or replaced by dup2): the next use classifies afresh.
void fd_forget(int fd) noexcept;
// `to` now refers to the same open file as `from` (dup family).
void fd_copy(int from, int to) noexcept;
void fd_set_nonblock(int fd, bool on) noexcept;
// Calls fn(fd) for every classified descriptor in [first, last] (close_range, closefrom).
void fd_each_known(unsigned first, unsigned last, void (*fn)(int)) noexcept;
void fd_set_timeout(int fd, bool send, std::int64_t ns) noexcept;
// Regular files: a large read through this descriptor found its range not cached, so its later
// large reads skip the inline try (file_io.cpp). Forgotten with the descriptor.
void fd_mark_cold_reads(int fd) noexcept;
bool fd_cold_reads(int fd) noexcept;

}  // namespace green::hooks
