// Regular-file and block-device I/O for the hooks. A transfer first tries the call with
// RWF_NOWAIT: data in the page cache (or a write that need not wait) moves at once, at the
// cost of one system call. Only what would wait for the disk becomes a backend operation:
// - at an explicit offset (pread, pwrite, preadv, pwritev, preadv2 with offset >= 0): an
//   io_uring read/write (on epoll, or with GREEN_FILE_IO=offload: the offload pool), also
//   where the file system does not support RWF_NOWAIT (ext4's buffered writes);
// - at the file position (read, write, readv, writev): the offload pool, whose thread makes
//   the plain call. io_uring's "offset -1" reads f_pos without the kernel's position lock, so
//   two such operations in flight on one open file would both use the same position
//   (axboe/liburing#32): natively the second read gets the next bytes, and a second write to a
//   file that two threads share as stdout must not overwrite the first. Where RWF_NOWAIT is
//   not supported (procfs, sysfs, ext4's buffered writes) the plain call is made at once: those
//   wait for the page cache, not the disk (dirty-page throttling aside).
// A read of kInlineReadMax bytes or more through a descriptor whose earlier large read found its
// range not cached skips the RWF_NOWAIT try: on a range that is not cached that try submits the
// file's readahead (up to read_ahead_kb: 8 MiB on a virtio disk) from the hub thread, and the block
// layer makes it wait for free requests, then for the data: measured 2.9 ms on average and 12 ms at
// worst per 1 MiB try of a cold file, the ticker's gaps of 37-108 ms in bench/file. Such reads
// always become the operation (the io_uring one is queued with IOSQE_ASYNC, so io_uring's own first
// try does not do the same in the hub); a cached one then costs a round trip to another thread
// besides its copy, which is small beside the copy. (Trying inline where cachestat(2) says the
// whole range is cached was measured too: the try then starts the next readahead window when it
// meets the window's mark, with the same wait, and the ticker's gap went up to 49-326 ms in 3 of 10
// runs.) Each descriptor pays one such try, its first large read of an uncached range: a server
// sending cached files keeps reading them inline on the hub, without a thread per concurrent read
// (tests/examples_ftp counts its OS threads). Neither path returns before the kernel is done with
// the caller's buffer: a fiber killed while its operation is in flight stays parked until the
// operation completes (io_uring: cancel, then wait for the completion; the pool: the thread's call
// always ends).
#include "file_io.hpp"

#include <limits.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "hook_common.hpp"
#include "iov_window.hpp"

namespace green::hooks {

namespace {

// The raw preadv2/pwritev2 (libc's names lead back into the hooks), as a count or -errno.
long raw_transfer(FileDir dir, int fd, const iovec* iov, int n, std::int64_t offset,
                  int flags) noexcept {
    // On 64-bit the offset is one register: the kernel ignores the high half.
    return rt::sys_result(::syscall(dir == FileDir::Read ? SYS_preadv2 : SYS_pwritev2, fd, iov, n,
                                    static_cast<long>(offset), 0L, flags));
}

constexpr std::size_t kInlineReadMax = std::size_t{64} << 10;

rt::FileIoChoice file_io_choice() noexcept {
    return rt::config().file_io;
}

// One backend operation for the rest of a transfer; the fiber parks until it completes.
long transfer_op(FileDir dir, int fd, const iovec* iov, int n, std::int64_t offset, int flags) {
    rt::IoOp op{dir == FileDir::Read ? rt::IoOp::Kind::ReadV : rt::IoOp::Kind::WriteV, fd,
                const_cast<iovec*>(iov), static_cast<std::size_t>(n)};
    op.flags = flags;
    op.offset = offset;
    op.pool = offset < 0 || file_io_choice() == rt::FileIoChoice::Offload;
    return rt::submit(op, Deadline());
}

}  // namespace

ssize_t file_transfer(FileDir dir, int fd, const iovec* iov, int n, std::int64_t offset, int flags,
                      bool cancel_point) {
    // What the kernel refuses, or a caller that asked not to wait: the call as it is.
    if (n <= 0 || n > IOV_MAX || offset < -1 || (flags & RWF_NOWAIT) ||
        file_io_choice() == rt::FileIoChoice::Off)
        return libc_result(raw_transfer(dir, fd, iov, n, offset, flags));
    ErrnoKeeper keep;
    // read, write and their kind are cancellation points (sendfile's reads are not)
    if (cancel_point) cancel::act_if_pending();
    // One call moves at most MAX_RW_COUNT bytes, as the kernel's own read(2) does.
    const std::size_t total = std::min(iov_total(iov, n), rt::kMaxRwCount);
    std::size_t done = 0;
    // RWF_NOWAIT first (until it says EAGAIN or is not supported), except for a large read of a
    // descriptor known to read uncached ranges.
    const bool cold = dir == FileDir::Read && fd_cold_reads(fd);
    auto large = [&] { return dir == FileDir::Read && total - done >= kInlineReadMax; };
    auto try_inline = [&] { return !cold || !large(); };
    bool nowait = try_inline();
    for (;;) {
        IovWindow rest(iov, n, done, total - done);
        const std::int64_t at = offset < 0 ? -1 : offset + static_cast<std::int64_t>(done);
        long r;
        if (nowait) {
            r = raw_transfer(dir, fd, rest.data(), rest.size(), at, flags | RWF_NOWAIT);
            if (r == -EOPNOTSUPP && at < 0) {
                // The file system cannot tell (procfs, sysfs; ext4's buffered writes): the
                // plain call, which takes the kernel's position lock.
                r = raw_transfer(dir, fd, rest.data(), rest.size(), at, flags);
            } else if (r == -EAGAIN || r == -EOPNOTSUPP) {
                if (r == -EAGAIN && large()) fd_mark_cold_reads(fd);
                nowait = false;
                continue;
            }
        } else {
            r = transfer_op(dir, fd, rest.data(), rest.size(), at, flags);
        }
        // A failure after progress reports the progress, as the kernel does for a short
        // transfer; the end of the file (0) ends it too.
        if (r <= 0) return done ? keep.ok(static_cast<ssize_t>(done)) : libc_result(r);
        done += static_cast<std::size_t>(r);
        if (done >= total) return keep.ok(static_cast<ssize_t>(done));
        // A short transfer: the rest was not cached (or the file ends: the next try says 0).
        nowait = try_inline();
    }
}

ssize_t file_copy_range(int in, std::int64_t* off_in, int out, std::int64_t* off_out,
                        std::size_t len, unsigned flags) {
    auto raw = [&](std::size_t n) {
        return rt::sys_result(::syscall(SYS_copy_file_range, in, off_in, out, off_out, n, flags));
    };
    if (len == 0 || file_io_choice() == rt::FileIoChoice::Off) return libc_result(raw(len));
    // A refused zero-length call: the whole call gives the kernel's own error for it (the
    // checks depend on the count: EOVERFLOW rather than EINVAL for a negative offset).
    if (raw(0) < 0) return libc_result(raw(len));
    ErrnoKeeper keep;
    rt::CopyRangeArgs args{out, off_in, off_out};
    rt::IoOp op{rt::IoOp::Kind::CopyRange, in, &args, len};
    op.flags = static_cast<int>(flags);
    return keep.ok(libc_result(rt::submit(op, Deadline())));
}

int file_sync(int fd, bool datasync) {
    if (file_io_choice() == rt::FileIoChoice::Off)
        return static_cast<int>(
            libc_result(rt::sys_result(::syscall(datasync ? SYS_fdatasync : SYS_fsync, fd))));
    ErrnoKeeper keep;
    cancel::act_if_pending();
    rt::IoOp op{rt::IoOp::Kind::Fsync, fd, nullptr, 0};
    op.flags = datasync ? rt::IoOp::kDataSync : 0;
    op.pool = file_io_choice() == rt::FileIoChoice::Offload;
    return static_cast<int>(keep.ok(libc_result(rt::submit(op, Deadline()))));
}

}  // namespace green::hooks
