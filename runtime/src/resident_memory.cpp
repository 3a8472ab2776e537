// Resident memory from /proc/self/statm: its second field is the resident page count. Read
// with open/read into a stack buffer, so the monitor's sample allocates nothing and costs one
// small system call trio.
#include "resident_memory.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "proc_fields.hpp"

namespace green::detail {

std::uint64_t resident_bytes() noexcept {
    const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[128];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    // "size resident shared text lib data dt"
    const auto pages = second_proc_field(buf);
    if (!pages) return 0;
    static const long page = ::sysconf(_SC_PAGESIZE);
    return *pages * static_cast<std::uint64_t>(page > 0 ? page : 4096);
}

}  // namespace green::detail
