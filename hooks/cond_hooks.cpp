// pthread condition variables made fiber-aware: a fiber waits on the side table's queue for the
// condvar's address, honouring the clock chosen with pthread_condattr_setclock (libc records it
// in the condvar itself). signal/broadcast wake fibers of this hub and also call libc, so real
// OS threads waiting on the same condvar (the offload pool's workers) are woken too.
#include <errno.h>
#include <pthread.h>

#include <chrono>

#include "fiber_thread.hpp"
#include "hub_set.hpp"
#include "sync_table.hpp"

namespace green::hooks::sync {

namespace {

// glibc keeps the condattr's choices in the low bits of __wrefs (nptl/pthread_cond_common.c).
constexpr unsigned kCondShared = 1;
constexpr unsigned kCondMonotonic = 2;

unsigned wrefs(const pthread_cond_t* cv) noexcept {
    return __atomic_load_n(&cv->__data.__wrefs, __ATOMIC_RELAXED);
}

clockid_t clock_of(const pthread_cond_t* cv) noexcept {
    return (wrefs(cv) & kCondMonotonic) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

// The wait proper. `timed` with an already expired deadline returns at once, keeping the
// mutex. A wake-up by kill/Timeout returns 0 (a spurious wake-up, which callers handle).
// A cancellation point: a pending pthread_cancel ends the thread on entry, or on waking with
// the mutex re-taken (as POSIX asks, so cleanup handlers run with it held).
int wait(FiberCtx c, pthread_cond_t* cv, pthread_mutex_t* m, const Deadline& user, bool timed) {
    threads::test_cancel();
    if (timed && user.expired()) return ETIMEDOUT;
    Table& t = table();
    Pin e(t, cv);
    // Counted for other hubs' signals before the mutex goes: a signal made under it sees us.
    hubs::Elsewhere away(cv);
    const int rc = fiber_mutex_unlock(c, m);
    if (rc != 0) return rc;
    threads::CancelPoint cancel_point;
    Masked mask(c);
    // Another process may signal a process-shared condvar: look again every 10 ms.
    const bool shared = (wrefs(cv) & kCondShared) != 0;
    const Deadline d =
        shared ? earliest(user, Deadline(Clock::now() + std::chrono::milliseconds(10))) : user;
    const Wake w = mask.wait(e->queue, d);
    // After a deadlock report: a spurious wake-up once the outside world moved.
    if (w == Wake::Deadlock) await_outside(c, "pthread_cond_wait");
    const int locked = fiber_mutex_lock(c, m);
    threads::test_cancel();
    // A robust mutex whose owner died meanwhile: the caller owns it and must be told.
    if (locked == EOWNERDEAD || locked == ENOTRECOVERABLE) return locked;
    return (w == Wake::TimedOut && user.expired()) ? ETIMEDOUT : 0;
}

int timed_wait(FiberCtx c, pthread_cond_t* cv, pthread_mutex_t* m, clockid_t clock,
               const timespec* abstime) {
    if (!valid_timespec(abstime)) return EINVAL;
    if (abstime->tv_sec < 0) return ETIMEDOUT;
    return wait(c, cv, m, deadline_from(clock, *abstime), true);
}

}  // namespace

}  // namespace green::hooks::sync

using namespace green::hooks::sync;
namespace hubs = green::hooks::hubs;

extern "C" {

int pthread_cond_wait(pthread_cond_t* cv, pthread_mutex_t* m) {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_cond_wait)(cv, m);
    return wait(c, cv, m, green::Deadline::never(), false);
}

int pthread_cond_timedwait(pthread_cond_t* cv, pthread_mutex_t* m, const struct timespec* abstime) {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_cond_timedwait)(cv, m, abstime);
    return timed_wait(c, cv, m, clock_of(cv), abstime);
}

int pthread_cond_clockwait(pthread_cond_t* cv, pthread_mutex_t* m, clockid_t clock,
                           const struct timespec* abstime) {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_cond_clockwait)(cv, m, clock, abstime);
    if (!valid_wait_clock(clock)) return EINVAL;
    return timed_wait(c, cv, m, clock, abstime);
}

int pthread_cond_signal(pthread_cond_t* cv) noexcept {
    if (Table* t = table_if_any()) {
        // At least one waiter wakes: one of this hub's, else every other hub's (for them a
        // spurious wake-up is allowed; which of them wins is theirs to find out).
        Entry* e = t->find(cv);
        if (!e || !e->queue.notify_one()) hubs::wake_elsewhere(cv);
    } else {
        wake_from_outside(cv);
    }
    return GREEN_REAL(pthread_cond_signal)(cv);
}

int pthread_cond_broadcast(pthread_cond_t* cv) noexcept {
    if (Table* t = table_if_any()) {
        if (Entry* e = t->find(cv)) e->queue.notify_all();
        hubs::wake_elsewhere(cv);
    } else {
        wake_from_outside(cv);
    }
    return GREEN_REAL(pthread_cond_broadcast)(cv);
}

int pthread_cond_init(pthread_cond_t* cv, const pthread_condattr_t* attr) noexcept {
    if (Table* t = table_if_any()) t->forget(cv);
    return GREEN_REAL(pthread_cond_init)(cv, attr);
}

int pthread_cond_destroy(pthread_cond_t* cv) noexcept {
    if (Table* t = table_if_any())
        if (!t->forget(cv)) return EBUSY;
    return GREEN_REAL(pthread_cond_destroy)(cv);
}

}  // extern "C"
