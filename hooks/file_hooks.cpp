// File I/O hooks at an explicit offset, and the syncs: pread, pwrite, preadv, pwritev,
// preadv2, pwritev2 (with their 64-bit names, which glibc exports as well), fsync, fdatasync,
// copy_file_range.
// On a regular file or a block device they run through file_io (the hub keeps running while
// the disk works); on anything else, and outside a fiber, they are libc's. read, write, readv
// and writev take the same path from io_hooks.cpp.
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "file_io.hpp"
#include "hook_common.hpp"

namespace green::hooks {

namespace {

// Whether a call on fd takes the file path (a fiber, I/O patched, a regular file or a block
// device open for that direction).
bool file_path(int fd, FileDir dir) noexcept {
    if (!route(Need::Io)) return false;
    const FdInfo info = fd_info(fd);
    return info.kind == FdKind::File && (dir == FileDir::Read ? info.readable : info.writable);
}

ssize_t pread_hook(int fd, void* buf, size_t n, off_t offset) {
    if (offset < 0 || !file_path(fd, FileDir::Read))
        return GREEN_REAL_OR_SYSCALL(pread64, SYS_pread64, fd, buf, n, offset);
    iovec v{buf, n};
    return file_transfer(FileDir::Read, fd, &v, 1, offset, 0);
}

ssize_t pwrite_hook(int fd, const void* buf, size_t n, off_t offset) {
    if (offset < 0 || !file_path(fd, FileDir::Write))
        return GREEN_REAL_OR_SYSCALL(pwrite64, SYS_pwrite64, fd, buf, n, offset);
    iovec v{const_cast<void*>(buf), n};
    return file_transfer(FileDir::Write, fd, &v, 1, offset, 0);
}

// preadv/pwritev (v2 false) and preadv2/pwritev2. preadv2's offset -1 is the file position;
// preadv refuses it (EINVAL) as any other negative offset.
ssize_t vector_hook(FileDir dir, int fd, const iovec* iov, int n, off_t offset, int flags,
                    bool v2) {
    const bool ok = v2 ? offset >= -1 : offset >= 0;
    if (ok && file_path(fd, dir)) return file_transfer(dir, fd, iov, n, offset, flags);
    if (dir == FileDir::Read)
        return v2 ? GREEN_REAL(preadv64v2)(fd, iov, n, offset, flags)
                  : GREEN_REAL(preadv64)(fd, iov, n, offset);
    return v2 ? GREEN_REAL(pwritev64v2)(fd, iov, n, offset, flags)
              : GREEN_REAL(pwritev64)(fd, iov, n, offset);
}

int sync_hook(int fd, bool datasync) {
    if (route(Need::Io) && fd_info(fd).kind == FdKind::File) return file_sync(fd, datasync);
    return datasync ? GREEN_REAL_OR_SYSCALL(fdatasync, SYS_fdatasync, fd)
                    : GREEN_REAL_OR_SYSCALL(fsync, SYS_fsync, fd);
}

}  // namespace

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

ssize_t pread(int fd, void* buf, size_t n, off_t offset) {
    return pread_hook(fd, buf, n, offset);
}
ssize_t pread64(int fd, void* buf, size_t n, off64_t offset) {
    return pread_hook(fd, buf, n, offset);
}
ssize_t pwrite(int fd, const void* buf, size_t n, off_t offset) {
    return pwrite_hook(fd, buf, n, offset);
}
ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t offset) {
    return pwrite_hook(fd, buf, n, offset);
}
ssize_t preadv(int fd, const iovec* iov, int n, off_t offset) {
    return vector_hook(FileDir::Read, fd, iov, n, offset, 0, false);
}
ssize_t preadv64(int fd, const iovec* iov, int n, off64_t offset) {
    return vector_hook(FileDir::Read, fd, iov, n, offset, 0, false);
}
ssize_t pwritev(int fd, const iovec* iov, int n, off_t offset) {
    return vector_hook(FileDir::Write, fd, iov, n, offset, 0, false);
}
ssize_t pwritev64(int fd, const iovec* iov, int n, off64_t offset) {
    return vector_hook(FileDir::Write, fd, iov, n, offset, 0, false);
}
ssize_t preadv2(int fd, const iovec* iov, int n, off_t offset, int flags) {
    return vector_hook(FileDir::Read, fd, iov, n, offset, flags, true);
}
ssize_t preadv64v2(int fd, const iovec* iov, int n, off64_t offset, int flags) {
    return vector_hook(FileDir::Read, fd, iov, n, offset, flags, true);
}
ssize_t pwritev2(int fd, const iovec* iov, int n, off_t offset, int flags) {
    return vector_hook(FileDir::Write, fd, iov, n, offset, flags, true);
}
ssize_t pwritev64v2(int fd, const iovec* iov, int n, off64_t offset, int flags) {
    return vector_hook(FileDir::Write, fd, iov, n, offset, flags, true);
}
int fsync(int fd) {
    return sync_hook(fd, false);
}
int fdatasync(int fd) {
    return sync_hook(fd, true);
}

// Regular files only (the kernel refuses anything else): the copy reads and writes the disk.
ssize_t copy_file_range(int in, off64_t* off_in, int out, off64_t* off_out, size_t len,
                        unsigned flags) {
    if (!file_path(in, FileDir::Read) || !file_path(out, FileDir::Write))
        return libc_result(
            rt::sys_result(::syscall(SYS_copy_file_range, in, off_in, out, off_out, len, flags)));
    return file_copy_range(in, off_in, out, off_out, len, flags);
}

}  // extern "C"
