// Kernel-side transfers: sendfile, splice, tee. A fiber whose transfer would wait on a socket or
// a pipe parks until that side is ready, then tries again; partial transfers, offsets and
// errors are the system call's own. The file side: a transfer from a regular file whose range
// is not all in the page cache (range_resident) would wait for the disk inside the call, so
// it runs on the offload pool (as copy_file_range does: the kernel's own call, so offsets and
// partial transfers stay its own), and sendfile to a socket reads such a range through the
// file hooks' path (io_uring or the pool). splice and tee are cancellation points, sendfile is not
// (as in glibc); a handled signal interrupts each as it does natively (EINTR, or a restart
// with SA_RESTART). copy_file_range (regular files only) is in file_hooks.cpp.
#include <fcntl.h>
#include <linux/sock_diag.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <memory>

#include "file_io.hpp"
#include "hook_common.hpp"
#include "page_cache.hpp"

namespace green::hooks {

namespace {

// The bounce buffer of a sendfile to a socket: one piece of a transfer.
constexpr std::size_t kChunk = 256 * 1024;

// Whether the fiber may wait on fd as a blocking socket or pipe would.
bool waitable(const FdInfo& info) noexcept {
    return !info.nonblock && (info.kind == FdKind::Socket || info.kind == FdKind::Pipe);
}

// Whether a kernel transfer of up to len bytes from `in` at pos (-1: the file position) may run
// on the hub: not when `in` is a regular file (or block device) whose range may have to come from
// the disk. GREEN_FILE_IO=off: always (the plain calls).
bool input_ready(int in, const FdInfo& ii, std::int64_t pos, std::size_t len) noexcept {
    return ii.kind != FdKind::File || rt::config().file_io == rt::FileIoChoice::Off ||
           range_resident(in, pos, len);
}

// call(a, b) (a count or -errno) on the offload pool while the fiber parks: a read from the disk
// inside the kernel's transfer is not interruptible natively either. `call` holds copies of
// what it needs; the offsets the transfer moves (either may be null) go to the heap with it and
// come back after: on a compact fiber they may point into its stack, which is copied away while
// it waits (green/stack_mode.hpp), and such a call must not run on the hub's thread instead.
template <class Off, class Call>
long on_pool(Off* a, Off* b, Call call) {
    struct Job {
        Call call;
        Off a, b;
        bool has_a, has_b;
        long operator()() noexcept { return call(has_a ? &a : nullptr, has_b ? &b : nullptr); }
    };
    auto job = std::make_unique<Job>(Job{call, a ? *a : 0, b ? *b : 0, a != nullptr, b != nullptr});
    const long r = rt::run_on_pool_heap(*job);
    if (a) *a = job->a;
    if (b) *b = job->b;
    return r;
}

// What the kernel moves into pipe fd at most in one call: its capacity.
std::size_t pipe_capacity(int fd) noexcept {
    const int n = ::fcntl(fd, F_GETPIPE_SZ);
    return n > 0 ? static_cast<std::size_t>(n) : std::size_t{1} << 16;
}

enum class CancelPoint : bool { No, Yes };

// The park of these transfers: readiness of fd (or the deadline: 0), interruptible by a
// handled signal, and a cancellation point if the call is one.
int transfer_park(int fd, short events, CancelPoint cp, const Deadline& deadline = Deadline()) {
    if (cp == CancelPoint::Yes) return hook_park(fd, events, deadline);
    return interruptible_wait_fd(fd, events, deadline);
}

// attempt() until it stops saying EAGAIN; between tries park on what wait_for() names.
template <class Attempt, class WaitFor>
long transfer_loop(CancelPoint cp, Attempt attempt, WaitFor wait_for) {
    ErrnoKeeper keep;
    if (cp == CancelPoint::Yes) cancel::act_if_pending();
    return keep.ok(libc_result(rt::io_call_parking(
        [&] {
            int fd = -1;
            short events = 0;
            wait_for(fd, events);
            return transfer_park(fd, events, cp);
        },
        attempt)));
}

// A direct sendfile is worth it from this size on; below it the bounce buffer goes.
constexpr std::size_t kMinDirect = 64 * 1024;

// What a send on `fd` takes now without waiting for room, for certain: half of what the
// kernel's own accounting leaves below the send buffer's limit (the other half covers the
// per-packet overhead it counts too); and that limit. Zeros when the kernel does not say.
struct SendRoom {
    std::size_t now = 0;
    std::size_t limit = 0;
};

SendRoom send_room(int fd) noexcept {
    std::uint32_t mem[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof mem;
    if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
        len < sizeof(std::uint32_t) * (SK_MEMINFO_WMEM_QUEUED + 1))
        return {};
    const std::uint32_t used = std::max(mem[SK_MEMINFO_WMEM_ALLOC], mem[SK_MEMINFO_WMEM_QUEUED]);
    const std::uint32_t limit = mem[SK_MEMINFO_SNDBUF];
    return {used < limit ? (limit - used) / 2 : 0, limit};
}

// sendfile from a regular file to a blocking stream socket. The socket is in blocking mode and
// sendfile has no flag to say "don't wait": the kernel's sendfile moves only what the socket
// certainly takes (certain_room) from a range in the page cache, and otherwise the bytes go
// through a buffer: read from the file (the file hooks' path: the fiber parks while the disk
// works), send(MSG_DONTWAIT) to the socket, park while the socket is full. Like the native call,
// it sends everything (up to the end of the file) unless an error comes first, and then
// reports what was sent; the file position (or *offset) moves by what was sent.
ssize_t sendfile_to_socket(int out, const FdInfo& oi, int in, off_t* offset, std::size_t count) {
    ErrnoKeeper keep;
    const Deadline deadline = deadline_after_ns(oi.snd_ns);  // SO_SNDTIMEO: EAGAIN, as natively
    std::int64_t pos = offset ? *offset : ::lseek(in, 0, SEEK_CUR);
    if (pos < 0) return -1;
    count = std::min(count, rt::kMaxRwCount);
    std::unique_ptr<char[]> buf(new char[std::min(count, kChunk)]);
    std::size_t done = 0;
    std::size_t have = 0, taken = 0;  // bytes in buf, and how many of them the socket took
    long err = 0;
    while (done < count) {
        if (taken == have) {
            // Room the socket has for certain: the kernel's sendfile itself (no copy). A full
            // socket whose buffer is large waits for POLLOUT instead of copying: then a third
            // of its buffer is free (tcp_poll), a sixth for certain.
            const std::size_t rest = count - done;
            const SendRoom room = send_room(out);
            const std::size_t piece = std::min(rest, std::max(room.now, room.limit / 6));
            if (piece >= kMinDirect && range_resident(in, pos, piece)) {
                off_t at = static_cast<off_t>(pos);
                const long r = rt::io_call_parking(
                    [&] { return transfer_park(out, POLLOUT, CancelPoint::No, deadline); },
                    [&]() -> long {
                        const std::size_t n = std::min(rest, send_room(out).now);
                        if (n != 0)
                            return rt::sys_result(
                                GREEN_REAL_OR_SYSCALL(sendfile64, SYS_sendfile, out, in, &at, n));
                        // No room for certain, yet a socket that is not full (bytes it sent
                        // and not yet freed still count): the buffer below, whose send the
                        // kernel checks. Only a full one is waited for: its POLLOUT will come.
                        return rt::poll_once(out, POLLOUT) == 0 ? -EAGAIN : -EINPROGRESS;
                    });
                if (r > 0) {
                    done += static_cast<std::size_t>(r);
                    pos = at;
                    continue;
                }
                if (r != -EINPROGRESS) {  // 0: the file ended
                    err = r;
                    break;
                }
            }
        }
        if (taken == have) {  // pos is where the buffered bytes end
            const std::size_t want = std::min(count - done, kChunk);
            iovec v{buf.get(), want};  // cached bytes at once, the rest by io_uring or the pool
            const ssize_t read = file_transfer(FileDir::Read, in, &v, 1, pos, 0, false);
            const long got = read < 0 ? -errno : read;
            if (got <= 0) {
                err = got;
                break;
            }
            have = static_cast<std::size_t>(got);
            taken = 0;
        }
        // Native sendfile raises SIGPIPE on a closed connection: no MSG_NOSIGNAL.
        const long sent = rt::io_call_parking(
            [&] { return transfer_park(out, POLLOUT, CancelPoint::No, deadline); },
            [&] {
                return rt::sys_result(GREEN_REAL_OR_SYSCALL(sendto, SYS_sendto, out,
                                                            buf.get() + taken, have - taken,
                                                            MSG_DONTWAIT, nullptr, 0));
            });
        if (sent <= 0) {
            err = sent;
            break;
        }
        taken += static_cast<std::size_t>(sent);
        done += static_cast<std::size_t>(sent);
        pos += sent;
    }
    if (offset)
        *offset = static_cast<off_t>(pos);
    else if (done)
        ::lseek(in, pos, SEEK_SET);
    if (done) return keep.ok(static_cast<ssize_t>(done));
    return keep.ok(libc_result(err));
}

ssize_t sendfile_hook(int out, int in, off_t* offset, size_t count) {
    auto real = [out, in](off_t* off, size_t n) {
        return GREEN_REAL_OR_SYSCALL(sendfile64, SYS_sendfile, out, in, off, n);
    };
    auto pooled = [real, count](off_t* off, off_t*) { return rt::sys_result(real(off, count)); };
    if (!route(Need::Io)) return real(offset, count);
    const FdInfo oi = fd_info(out);
    const FdInfo ii = fd_info(in);
    const std::int64_t pos = offset ? *offset : -1;
    if (!waitable(oi) || !oi.writable) {
        // Nothing to wait for on the output (a file, a non-blocking socket): the disk only.
        if (count == 0 || input_ready(in, ii, pos, count)) return real(offset, count);
        ErrnoKeeper keep;
        return keep.ok(libc_result(on_pool(offset, static_cast<off_t*>(nullptr), pooled)));
    }
    // The call with nothing to move: the kernel's own checks (bad descriptors, an invalid
    // offset, an input it cannot read from) fail it exactly as the real transfer would. Into a
    // pipe even that call waits while the pipe is full: then the checks come with the transfer,
    // once the pipe has room.
    if (oi.kind != FdKind::Pipe || rt::poll_once(out, POLLOUT) != 0) {
        off_t probe = offset ? *offset : 0;
        const ssize_t checked = real(offset ? &probe : nullptr, 0);
        if (checked < 0 || count == 0) return checked;
    }
    if (oi.kind == FdKind::Socket && oi.stream && ii.kind == FdKind::File)
        return sendfile_to_socket(out, oi, in, offset, count);
    // A pipe (or another socket input): once the pipe has room, the kernel fills what fits and
    // returns, as it does natively; on the pool when that may mean reading the disk.
    return transfer_loop(
        CancelPoint::No,
        [&]() -> long {
            if (rt::poll_once(out, POLLOUT) == 0) return -EAGAIN;
            const std::size_t most =
                oi.kind == FdKind::Pipe ? std::min(count, pipe_capacity(out)) : count;
            if (input_ready(in, ii, pos, most)) return rt::sys_result(real(offset, count));
            return on_pool(offset, static_cast<off_t*>(nullptr), pooled);
        },
        [&](int& fd, short& ev) {
            fd = out;
            ev = POLLOUT;
        });
}

// The side of a splice/tee that would wait: an empty input pipe or socket, else the output.
void side_to_wait(int in, const FdInfo& ii, int out, int& fd, short& events) noexcept {
    if (waitable(ii) && rt::poll_once(in, POLLIN) == 0) {
        fd = in;
        events = POLLIN;
    } else {
        fd = out;
        events = POLLOUT;
    }
}

}  // namespace

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

ssize_t sendfile(int out, int in, off_t* offset, size_t count) {
    return sendfile_hook(out, in, offset, count);
}
ssize_t sendfile64(int out, int in, off64_t* offset, size_t count) {
    return sendfile_hook(out, in, offset, count);
}

// SPLICE_F_NONBLOCK makes the pipe side of a splice non-blocking (and a Unix socket's input);
// a TCP input ignores it, so the call is made only once the socket has data.
ssize_t splice(int in, loff_t* off_in, int out, loff_t* off_out, size_t len, unsigned flags) {
    auto call = [in, out, len](loff_t* a, loff_t* b, unsigned f) {
        return GREEN_REAL_OR_SYSCALL(splice, SYS_splice, in, a, out, b, len, f);
    };
    auto real = [&](unsigned f) { return call(off_in, off_out, f); };
    auto pooled = [call](unsigned f) {  // on the pool, with copies of the offsets (on_pool)
        return [call, f](loff_t* a, loff_t* b) { return rt::sys_result(call(a, b, f)); };
    };
    if ((flags & SPLICE_F_NONBLOCK) || !route(Need::Io)) return real(flags);
    const FdInfo ii = fd_info(in);
    const FdInfo oi = fd_info(out);
    // From a file, the kernel moves into the output pipe at most what the pipe holds.
    auto from_disk = [&] {
        const std::size_t most =
            oi.kind == FdKind::Pipe ? std::min<std::size_t>(len, pipe_capacity(out)) : len;
        return !input_ready(in, ii, off_in ? *off_in : -1, most);
    };
    if (!waitable(ii) && !waitable(oi)) {
        if (len == 0 || !from_disk()) return real(flags);
        ErrnoKeeper keep;
        cancel::act_if_pending();
        return keep.ok(libc_result(on_pool(off_in, off_out, pooled(flags))));
    }
    return transfer_loop(
        CancelPoint::Yes,
        [&]() -> long {
            if (ii.kind == FdKind::Socket && waitable(ii) && rt::poll_once(in, POLLIN) == 0)
                return -EAGAIN;
            // An output socket is waited for first; it may still take less than is offered.
            if (oi.kind == FdKind::Socket && waitable(oi) && rt::poll_once(out, POLLOUT) == 0)
                return -EAGAIN;
            if (ii.kind == FdKind::File && from_disk())
                return on_pool(off_in, off_out, pooled(flags | SPLICE_F_NONBLOCK));
            return rt::sys_result(real(flags | SPLICE_F_NONBLOCK));
        },
        [&](int& fd, short& ev) { side_to_wait(in, ii, out, fd, ev); });
}

ssize_t tee(int in, int out, size_t len, unsigned flags) {
    auto real = [&](unsigned f) { return GREEN_REAL_OR_SYSCALL(tee, SYS_tee, in, out, len, f); };
    if ((flags & SPLICE_F_NONBLOCK) || !route(Need::Io)) return real(flags);
    const FdInfo ii = fd_info(in);
    const FdInfo oi = fd_info(out);
    if (!waitable(ii) || !waitable(oi)) return real(flags);
    return transfer_loop(
        CancelPoint::Yes, [&]() -> long { return rt::sys_result(real(flags | SPLICE_F_NONBLOCK)); },
        [&](int& fd, short& ev) { side_to_wait(in, ii, out, fd, ev); });
}

}  // extern "C"
