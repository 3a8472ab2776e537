// File locks that wait: flock, fcntl F_SETLKW / F_OFD_SETLKW and lockf F_LOCK. Each first makes
// the non-blocking form of the same call (LOCK_NB, F_SETLK, F_TLOCK: its result is the
// kernel's, conflicts and errors alike). While the lock is held elsewhere:
// - POSIX record locks (F_SETLKW, lockf F_LOCK) wait in the kernel, on a helper thread
//   (kernel_lock_wait.hpp): only a waiter the kernel sees takes part in its deadlock detection,
//   so EDEADLK reaches the process it would reach natively, and waiters are served in the
//   kernel's order. Such a wait is rare (a conflict between processes) and holds one thread.
// - flock and OFD locks, which the kernel never checks for deadlocks, and record locks when no
//   helper can be used, sleep on the hub's timer for the growing interval (50 us to 10 ms) the
//   process-shared mutexes use (sync::Backoff) and try again.
// Either wait is an interruption point (a handled signal without SA_RESTART fails it with EINTR,
// with SA_RESTART it goes on waiting, as the kernel restarts all three) and, for fcntl and
// lockf, a pthread_cancel point as POSIX requires (flock is not one, in POSIX or glibc).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "file_locks.hpp"
#include "hook_common.hpp"
#include "kernel_lock_wait.hpp"
#include "sync_table.hpp"

namespace green::hooks {

namespace {

// One wait between two attempts; -EINTR when a handler without SA_RESTART ran meanwhile.
int park_for_lock(bool cancel_point, const Deadline& until) {
    auto wait = [&] {
        return interruptible(
            Restart::WithSaRestart,
            [&] {
                green::sleep(until.remaining());
                return 0;
            },
            true);
    };
    return cancel_point ? cancellable(wait, 1) : wait();
}

// attempt(): the non-blocking call, libc-style (0, or -1 with errno); `held(errno)` says that it
// failed only because the lock is held elsewhere, which is worth waiting for.
template <class Attempt, class Held>
int wait_for_lock(bool cancel_point, Attempt attempt, Held held) {
    ErrnoKeeper keep;
    if (cancel_point) cancel::act_if_pending();
    sync::Backoff backoff;
    for (;;) {
        const int r = attempt();
        if (r >= 0 || !held(errno)) return keep.ok(r);
        if (park_for_lock(cancel_point, backoff.next(Deadline::never())) == -EINTR) {
            errno = EINTR;
            return -1;
        }
    }
}

// F_SETLK reports a conflicting lock as EACCES or EAGAIN (fcntl(2)); lockf's F_TLOCK likewise.
bool record_lock_held(int e) noexcept {
    return e == EACCES || e == EAGAIN;
}

// A record lock (F_SETLKW, lockf F_LOCK): attempt() its non-blocking form, blocking() the call
// itself, made on a helper thread on a conflict.
template <class Attempt>
int wait_for_record_lock(Attempt attempt, const std::function<int()>& blocking) {
    {
        ErrnoKeeper keep;
        cancel::act_if_pending();
        const int r = attempt();
        if (r >= 0 || !record_lock_held(errno)) return keep.ok(r);
        int result = 0;
        if (kernel_lock_wait(blocking, result)) return keep.ok(result);
    }
    return wait_for_lock(true, attempt, record_lock_held);
}

// lockf and lockf64 (off_t and off64_t): glibc's lockf calls fcntl inside libc, where the
// fcntl hook does not reach; its F_LOCK is the blocking call the helper makes.
template <class Off>
int cooperative_lockf(int (*real)(int, int, Off), int fd, int cmd, Off len) {
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    if (cmd != F_LOCK || !route(Need::Io)) return real(fd, cmd, len);
    return wait_for_record_lock([&] { return real(fd, F_TLOCK, len); },
                                [real, fd, len] { return real(fd, F_LOCK, len); });
}

int real_flock(int fd, int op) {
    return GREEN_REAL_OR_SYSCALL(flock, SYS_flock, fd, op);
}

}  // namespace

bool fcntl_waits_for_lock(int cmd) noexcept {
#if defined(F_SETLKW64) && F_SETLKW64 != F_SETLKW
    if (cmd == F_SETLKW64) return true;
#endif
    return cmd == F_SETLKW || cmd == F_OFD_SETLKW;
}

int fcntl_lock_wait(int (*real)(int, int, ...), long sysno, int fd, int cmd, unsigned long arg) {
    auto call = [real, sysno, fd, arg](int c) {
        return real ? real(fd, c, arg) : static_cast<int>(::syscall(sysno, fd, c, arg));
    };
    if (cmd == F_OFD_SETLKW)
        return wait_for_lock(
            true, [&] { return call(F_OFD_SETLK); }, record_lock_held);
    int try_cmd = F_SETLK;
#if defined(F_SETLKW64) && F_SETLKW64 != F_SETLKW
    if (cmd == F_SETLKW64) try_cmd = F_SETLK64;
#endif
    return wait_for_record_lock([&] { return call(try_cmd); }, [call, cmd] { return call(cmd); });
}

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

int flock(int fd, int op) {
    if ((op & LOCK_NB) || !(op & (LOCK_SH | LOCK_EX)) || !route(Need::Io))
        return real_flock(fd, op);
    return wait_for_lock(
        false, [&] { return real_flock(fd, op | LOCK_NB); },
        [](int e) { return e == EWOULDBLOCK; });
}

int lockf(int fd, int cmd, off_t len) {
    return cooperative_lockf(GREEN_REAL(lockf), fd, cmd, len);
}

int lockf64(int fd, int cmd, off64_t len) {
    return cooperative_lockf(GREEN_REAL(lockf64), fd, cmd, len);
}

}  // extern "C"
