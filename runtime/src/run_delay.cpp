// RunDelay: /proc/<pid>/task/<tid>/schedstat is "on-CPU ns, run-queue ns, timeslices". The path
// names the pid explicitly (not /proc/self), so that a file opened before a fork is recognised
// as the parent's in the child. The descriptor stays open between samples, so it is marked as
// the runtime's: the hooks' close and closefrom leave it alone, as they do a hub's eventfd.
#include "run_delay.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "owned_fds.hpp"
#include "proc_fields.hpp"

namespace green::detail {

RunDelay::~RunDelay() {
    close_file();
}

void RunDelay::close_file() noexcept {
    if (fd_ < 0) return;
    runtime_fd_released(fd_);
    ::close(fd_);
    fd_ = -1;
}

std::int64_t RunDelay::read(pid_t tid) noexcept {
    const pid_t pid = ::getpid();
    if (fd_ < 0 || pid != pid_ || tid != tid_) {
        close_file();
        char path[64];
        std::snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", static_cast<int>(pid),
                      static_cast<int>(tid));
        fd_ = ::open(path, O_RDONLY | O_CLOEXEC);
        pid_ = pid;
        tid_ = tid;
        if (fd_ < 0) return -1;
        runtime_fd_acquired(fd_);
    }
    char buf[96];
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    if (n <= 0) return -1;
    buf[n] = '\0';
    const auto ns = second_proc_field(buf);  // after the on-CPU time
    return ns ? static_cast<std::int64_t>(*ns) : -1;
}

}  // namespace green::detail
