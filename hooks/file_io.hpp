// The hooks' path for regular files and block devices (FdKind::File): data transfers and syncs
// run as backend operations (io_uring, or the offload pool) so that the disk never stalls the
// hub; GREEN_FILE_IO picks the way (config.hpp). Internal to the hook library.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

namespace green::hooks {

enum class FileDir : bool { Read, Write };

// preadv2/pwritev2 on a file descriptor classified as FdKind::File, by a fiber that route()
// let through: `offset` -1 is the file position (read, write, readv, writev), `flags` the
// RWF_* flags. The result and errno are what the system call would give. A cancellation point
// unless `cancel_point` is false (sendfile's reads of its input).
ssize_t file_transfer(FileDir dir, int fd, const iovec* iov, int n, std::int64_t offset, int flags,
                      bool cancel_point = true);

// copy_file_range between two such descriptors, likewise: on the offload pool (io_uring has no
// such operation), after a zero-length call has made the kernel's own argument checks.
ssize_t file_copy_range(int in, std::int64_t* off_in, int out, std::int64_t* off_out,
                        std::size_t len, unsigned flags);

// fsync (datasync false) or fdatasync, likewise.
int file_sync(int fd, bool datasync);

}  // namespace green::hooks
