// Futex waits made through libc's syscall() function: C++20's std::atomic::wait, std::latch,
// std::barrier and std::counting_semaphore (libstdc++ calls syscall(SYS_futex, ...)), and any
// program that rolls its own futex that way. A fiber's FUTEX_WAIT parks it on the side table
// for the futex word instead of stopping the OS thread; FUTEX_WAKE wakes fibers of this hub,
// and libc's futex for real threads. Every other system call passes straight through.
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdarg>
#include <cstdint>

#include "hub_set.hpp"
#include "saturating_time.hpp"
#include "sync_table.hpp"

namespace green::hooks::sync {
namespace {

constexpr long kCmdMask = ~static_cast<long>(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

long fail(int err) noexcept {
    errno = err;
    return -1;
}

// FUTEX_WAIT (relative timeout) or FUTEX_WAIT_BITSET (absolute, on the monotonic clock unless
// FUTEX_CLOCK_REALTIME). A wake-up by kill/Timeout or after a deadlock report returns 0: a
// spurious wake-up, which every futex user handles.
long fiber_wait(FiberCtx c, long op, const std::uint32_t* word, std::uint32_t expected,
                const timespec* ts) noexcept {
    // Counted for other hubs' FUTEX_WAKE before the word is read.
    hubs::Elsewhere away(word);
    if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != expected) return fail(EAGAIN);
    Deadline deadline = Deadline::never();
    if (ts) {
        if (!valid_timespec(ts)) return fail(EINVAL);
        if ((op & kCmdMask) == FUTEX_WAIT) {
            deadline = Deadline(saturating_duration(*ts));
        } else {
            deadline =
                deadline_from((op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC, *ts);
        }
    }
    Table& t = table();
    Pin e(t, word);
    Masked mask(c);
    if (!(op & FUTEX_PRIVATE_FLAG)) {
        // A shared futex: another process may wake it, which no queue here hears of. Look at
        // the word again on a growing interval.
        Backoff backoff;
        while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == expected) {
            const Wake w = mask.wait(e->queue, backoff.next(deadline));
            if (w == Wake::Notified || w == Wake::Interrupted) return 0;
            if (w == Wake::Deadlock) await_outside(c, "futex wait");
            if (deadline.expired()) return fail(ETIMEDOUT);
        }
        return 0;
    }
    const Wake w = mask.wait(e->queue, deadline);
    if (w == Wake::Deadlock) await_outside(c, "futex wait");
    return w == Wake::TimedOut ? fail(ETIMEDOUT) : 0;
}

// Wakes up to `n` fibers of this hub waiting on `word`; the rest of the count goes to libc's
// futex. Returns how many were woken, like the system call.
long wake(const long (&a)[6], long (*real)(long, ...)) noexcept {
    const auto* word = reinterpret_cast<const std::uint32_t*>(a[0]);
    const long n = a[2];
    long woken = 0;
    if (Table* t = table_if_any()) {
        if (Entry* e = t->find(word))
            while (woken < n && e->queue.notify_one()) ++woken;
        // Other hubs' waiters all look again (spurious wake-ups, which futex users expect);
        // they are not counted in the result.
        if (woken < n && hubs::multi()) {
            // The caller's store to the word may be a plain one: order it before the counts.
            std::atomic_thread_fence(std::memory_order_seq_cst);
            hubs::wake_elsewhere(word);
        }
    } else {
        wake_from_outside(word);
    }
    if (woken < n) {
        const long more = real(SYS_futex, a[0], a[1], n - woken, a[3], a[4], a[5]);
        if (more > 0) woken += more;
    }
    return woken;
}

}  // namespace
}  // namespace green::hooks::sync

using namespace green::hooks::sync;

// Not checked by ASan: like libc's own syscall() it reads six arguments whatever the call
// passed, and past the fifth those are the caller's stack, possibly a poisoned redzone there.
extern "C" [[gnu::no_sanitize_address]] long syscall(long number, ...) noexcept {
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (long& x : a) x = va_arg(ap, long);  // as libc's own syscall(): six register arguments
    va_end(ap);
    auto real = GREEN_REAL(syscall);
    if (number == SYS_futex) {
        const long op = a[1];
        const auto* word = reinterpret_cast<const std::uint32_t*>(a[0]);
        switch (op & kCmdMask) {
            case FUTEX_WAIT:
            case FUTEX_WAIT_BITSET:
                if (const FiberCtx c = fiber_ctx())
                    return fiber_wait(c, op, word, static_cast<std::uint32_t>(a[2]),
                                      reinterpret_cast<const timespec*>(a[3]));
                break;
            case FUTEX_WAKE:
            case FUTEX_WAKE_BITSET:
                return wake(a, real);
            default:
                break;
        }
    }
    return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
