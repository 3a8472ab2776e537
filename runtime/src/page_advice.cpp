// process_madvise on this process. The target is named by PIDFD_SELF (Linux 6.15) where the
// kernel has it, else by a pidfd opened for the call: a cached pidfd would name the parent in a
// forked child, and advising the parent's address space from the child is the one mistake here
// that is worse than a slow path.
#include "page_advice.hpp"

#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

namespace green::detail {

namespace {

#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
constexpr int kPidfdSelfProcess = -20000;  // PIDFD_SELF_THREAD_GROUP, linux/pidfd.h
constexpr std::size_t kMaxIov = 1024;      // UIO_MAXIOV

// 1: PIDFD_SELF works; 0: not known yet; -1: open a pidfd per call; -2: no process_madvise.
std::atomic<int> g_mode{0};

long advise(int pidfd, const iovec* iov, std::size_t n, int advice) noexcept {
    return ::syscall(SYS_process_madvise, pidfd, iov, n, advice, 0);
}

}  // namespace

bool advise_pages(char* const* pages, std::size_t count, std::size_t page_bytes,
                  int advice) noexcept {
    if (g_mode.load(std::memory_order_relaxed) == -2) return false;
    iovec iov[64];
    int own_fd = -1;  // a pidfd opened for this call's batches, when PIDFD_SELF does not work
    struct CloseAtEnd {
        int& fd;
        ~CloseAtEnd() {
            if (fd >= 0) ::syscall(SYS_close, fd);  // raw: the hooks' close must not see it
        }
    } close_at_end{own_fd};
    for (std::size_t done = 0; done < count;) {
        const std::size_t n = std::min({count - done, std::size(iov), kMaxIov});
        for (std::size_t i = 0; i < n; ++i) iov[i] = {pages[done + i], page_bytes};
        const int mode = g_mode.load(std::memory_order_relaxed);
        long r = -1;
        if (mode >= 0) {
            r = advise(kPidfdSelfProcess, iov, n, advice);
            if (r < 0 && errno == EBADF && mode == 0)
                g_mode.store(-1, std::memory_order_relaxed);
            else if (r >= 0)
                g_mode.store(1, std::memory_order_relaxed);
        }
        if (g_mode.load(std::memory_order_relaxed) == -1) {
            if (own_fd < 0) own_fd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
            if (own_fd < 0) return false;
            r = advise(own_fd, iov, n, advice);
        }
        if (r < 0) {
            if (errno == ENOSYS) g_mode.store(-2, std::memory_order_relaxed);
            return false;
        }
        // A short count means the kernel stopped at some page: let the caller redo the rest.
        if (static_cast<std::size_t>(r) != n * page_bytes) return false;
        done += n;
    }
    return true;
}

}  // namespace green::detail
