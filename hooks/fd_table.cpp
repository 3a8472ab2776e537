// The fd table: a two-level array of atomic entries (chunks of 1024 mapped on demand, zeroed by
// the kernel), so lookups never lock or allocate through malloc. Classification asks the kernel
// with raw system calls, never through a hooked function.
#include "fd_table.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>

#include "hook_interface.hpp"

namespace green::hooks {

namespace {

constexpr unsigned kChunkBits = 10;
constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
constexpr std::size_t kChunks = std::size_t{1} << 12;  // 4M descriptors

// bits: classified | kind << 1 | nonblock << 4 | stream << 5 | unreadable << 6 | unwritable << 7
//       | shared << 8
constexpr std::uint32_t kClassified = 1;
constexpr std::uint32_t kNonblock = 1u << 4;
constexpr std::uint32_t kStream = 1u << 5;
constexpr std::uint32_t kUnreadable = 1u << 6;
constexpr std::uint32_t kUnwritable = 1u << 7;
// Made by or copied with the dup family: the open file (its O_NONBLOCK, a socket's timeouts) is
// shared with another descriptor, so a change through one must show through all of them.
constexpr std::uint32_t kShared = 1u << 8;
constexpr std::uint32_t kColdReads = 1u << 9;  // fd_mark_cold_reads

struct Entry {
    std::atomic<std::uint32_t> bits;
    std::atomic<std::int64_t> rcv_ns;
    std::atomic<std::int64_t> snd_ns;
};

std::atomic<Entry*> g_chunks[kChunks];

std::uint32_t encode(const FdInfo& i) noexcept {
    return kClassified | (static_cast<std::uint32_t>(i.kind) << 1) | (i.nonblock ? kNonblock : 0) |
           (i.stream ? kStream : 0) | (i.readable ? 0 : kUnreadable) |
           (i.writable ? 0 : kUnwritable);
}

// nullptr when fd is out of range (or memory ran out: such fds are simply not patched).
Entry* entry(int fd, bool create) noexcept {
    if (fd < 0) return nullptr;
    const auto i = static_cast<std::size_t>(fd);
    const std::size_t c = i >> kChunkBits;
    if (c >= kChunks) return nullptr;
    Entry* chunk = g_chunks[c].load(std::memory_order_acquire);
    if (!chunk) {
        if (!create) return nullptr;
        void* mem = ::mmap(nullptr, kChunkSize * sizeof(Entry), PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) return nullptr;
        Entry* fresh = static_cast<Entry*>(mem);
        if (g_chunks[c].compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel)) {
            chunk = fresh;
        } else {
            ::munmap(mem, kChunkSize * sizeof(Entry));
        }
    }
    return &chunk[i & (kChunkSize - 1)];
}

std::int64_t read_timeout(int fd, int opt) noexcept {
    timeval tv{};
    socklen_t len = sizeof tv;
    if (::getsockopt(fd, SOL_SOCKET, opt, &tv, &len) != 0) return 0;
    return std::int64_t{tv.tv_sec} * 1000000000 + std::int64_t{tv.tv_usec} * 1000;
}

FdInfo decode(const Entry& e) noexcept {
    const std::uint32_t b = e.bits.load(std::memory_order_acquire);
    FdInfo info;
    info.kind = static_cast<FdKind>((b >> 1) & 7);
    info.nonblock = b & kNonblock;
    info.stream = b & kStream;
    info.readable = !(b & kUnreadable);
    info.writable = !(b & kUnwritable);
    if (info.kind == FdKind::Socket) {
        info.rcv_ns = e.rcv_ns.load(std::memory_order_relaxed);
        info.snd_ns = e.snd_ns.load(std::memory_order_relaxed);
    }
    return info;
}

// What the kernel says about fd; kind stays unknown if fd is not open.
FdInfo classify(int fd) noexcept {
    FdInfo info;
    struct stat st;
    if (::fstat(fd, &st) != 0) return info;
    const long fl = ::syscall(SYS_fcntl, fd, F_GETFL);
    info.nonblock = fl >= 0 && (fl & O_NONBLOCK);
    if (fl >= 0) {
        info.readable = (fl & O_ACCMODE) != O_WRONLY;
        info.writable = (fl & O_ACCMODE) != O_RDONLY;
    }
    switch (st.st_mode & S_IFMT) {
        case S_IFSOCK: {
            info.kind = FdKind::Socket;
            int type = 0;
            socklen_t len = sizeof type;
            if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0)
                info.stream = type == SOCK_STREAM;
            info.rcv_ns = read_timeout(fd, SO_RCVTIMEO);
            info.snd_ns = read_timeout(fd, SO_SNDTIMEO);
            break;
        }
        case S_IFIFO:
            info.kind = FdKind::Pipe;
            break;
        case S_IFCHR: {
            termios t;
            info.kind = ::syscall(SYS_ioctl, fd, TCGETS, &t) == 0 ? FdKind::Tty : FdKind::Other;
            break;
        }
        case S_IFREG:
        case S_IFBLK:
            info.kind = FdKind::File;
            break;
        case 0:  // anonymous inodes: eventfd, timerfd, signalfd, inotify, epoll
            info.kind = FdKind::Anon;
            break;
        default:
            info.kind = FdKind::Other;
            break;
    }
    return info;
}

void store(Entry& e, const FdInfo& info) noexcept {
    e.rcv_ns.store(info.rcv_ns, std::memory_order_relaxed);
    e.snd_ns.store(info.snd_ns, std::memory_order_relaxed);
    e.bits.store(encode(info), std::memory_order_release);
}

}  // namespace

FdInfo fd_info(int fd) noexcept {
    Entry* e = entry(fd, true);
    if (!e) {
        FdInfo other;
        other.kind = FdKind::Other;
        return other;
    }
    if (e->bits.load(std::memory_order_acquire) & kClassified) [[likely]]
        return decode(*e);
    const int saved = errno;
    FdInfo info = classify(fd);
    errno = saved;
    if (info.kind == FdKind::Unknown) {
        // Not open: nothing to patch; the libc call reports EBADF itself.
        info.kind = FdKind::Other;
        return info;
    }
    store(*e, info);
    return info;
}

void fd_created(int fd, FdKind kind, bool nonblock, bool stream, int accmode) noexcept {
    // The number may have been closed where no hook saw it (fclose of an fdopen'd socket):
    // a hub's epoll registration of the old file must not stand for this one.
    rt::fd_generation_bump(fd);
    if (Entry* e = entry(fd, true)) {
        FdInfo info;
        info.kind = kind;
        info.nonblock = nonblock;
        info.stream = stream;
        info.readable = accmode != O_WRONLY;
        info.writable = accmode != O_RDONLY;
        store(*e, info);
    }
}

void fd_forget(int fd) noexcept {
    if (Entry* e = entry(fd, false)) e->bits.store(0, std::memory_order_release);
}

void fd_mark_cold_reads(int fd) noexcept {
    if (Entry* e = entry(fd, true)) e->bits.fetch_or(kColdReads, std::memory_order_relaxed);
}

bool fd_cold_reads(int fd) noexcept {
    const Entry* e = entry(fd, false);
    return e && (e->bits.load(std::memory_order_relaxed) & kColdReads);
}

void fd_copy(int from, int to) noexcept {
    rt::fd_generation_bump(to);  // dup2 onto an open number closed the file it named
    Entry* src = entry(from, false);
    Entry* dst = entry(to, true);
    if (!dst) return;
    if (src && (src->bits.load(std::memory_order_acquire) & kClassified)) {
        store(*dst, decode(*src));
        src->bits.fetch_or(kShared, std::memory_order_acq_rel);
        dst->bits.fetch_or(kShared, std::memory_order_acq_rel);
    } else {
        dst->bits.store(0, std::memory_order_release);
    }
}

namespace {

void set_nonblock_bit(Entry& e, bool on) noexcept {
    std::uint32_t b = e.bits.load(std::memory_order_acquire);
    while (b & kClassified) {
        const std::uint32_t want = on ? (b | kNonblock) : (b & ~kNonblock);
        if (e.bits.compare_exchange_weak(b, want, std::memory_order_acq_rel)) return;
    }
}

// A shared open file changed through one descriptor: every descriptor copied with the dup
// family takes the kernel's word again (rare: only after dup and then F_SETFL/setsockopt).
void refresh_shared() noexcept {
    for (std::size_t c = 0; c < kChunks; ++c) {
        Entry* chunk = g_chunks[c].load(std::memory_order_acquire);
        if (!chunk) continue;
        for (std::size_t i = 0; i < kChunkSize; ++i) {
            Entry& e = chunk[i];
            const std::uint32_t b = e.bits.load(std::memory_order_acquire);
            if (!(b & kClassified) || !(b & kShared)) continue;
            const int fd = static_cast<int>((c << kChunkBits) | i);
            const long fl = ::syscall(SYS_fcntl, fd, F_GETFL);
            if (fl < 0) continue;
            set_nonblock_bit(e, fl & O_NONBLOCK);
            if (static_cast<FdKind>((b >> 1) & 7) == FdKind::Socket) {
                e.rcv_ns.store(read_timeout(fd, SO_RCVTIMEO), std::memory_order_relaxed);
                e.snd_ns.store(read_timeout(fd, SO_SNDTIMEO), std::memory_order_relaxed);
            }
        }
    }
}

bool shared(const Entry& e) noexcept {
    return e.bits.load(std::memory_order_acquire) & kShared;
}

}  // namespace

void fd_set_nonblock(int fd, bool on) noexcept {
    Entry* e = entry(fd, false);
    if (!e) return;
    set_nonblock_bit(*e, on);
    if (shared(*e)) [[unlikely]] {
        const int saved = errno;
        refresh_shared();
        errno = saved;
    }
}

void fd_each_known(unsigned first, unsigned last, void (*fn)(int)) noexcept {
    const std::size_t top = kChunks * kChunkSize - 1;
    const std::size_t end = std::min<std::size_t>(last, top);
    for (std::size_t i = first; i <= end;) {
        Entry* chunk = g_chunks[i >> kChunkBits].load(std::memory_order_acquire);
        if (!chunk) {
            i = ((i >> kChunkBits) + 1) << kChunkBits;  // skip the unmapped chunk
            continue;
        }
        if (chunk[i & (kChunkSize - 1)].bits.load(std::memory_order_acquire) & kClassified)
            fn(static_cast<int>(i));
        ++i;
    }
}

void fd_set_timeout(int fd, bool send, std::int64_t ns) noexcept {
    // Classify first, so a lazily classified entry cannot later overwrite this value.
    (void)fd_info(fd);
    Entry* e = entry(fd, false);
    if (!e) return;
    (send ? e->snd_ns : e->rcv_ns).store(ns, std::memory_order_relaxed);
    if (shared(*e)) [[unlikely]] {
        const int saved = errno;
        refresh_shared();
        errno = saved;
    }
}

}  // namespace green::hooks
