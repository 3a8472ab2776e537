// POSIX unnamed semaphores made fiber-aware. libc's counter in the sem_t stays the truth (so a
// real thread's sem_post is never lost); a fiber that finds it at zero parks on the side table
// and is woken by the next sem_post from a fiber of this hub. Named and process-shared
// semaphores, which another process may post, are looked at again on a growing interval.
#include <errno.h>
#include <semaphore.h>

#include <cstring>

#include "fiber_thread.hpp"
#include "hub_set.hpp"
#include "sync_table.hpp"

namespace green::hooks::sync {

namespace {

// glibc's struct new_sem: a 64-bit value/waiters word, then `private`, which is 0
// (FUTEX_SHARED) for process-shared and named semaphores.
bool is_shared(const sem_t* s) noexcept {
    int priv;
    std::memcpy(&priv, reinterpret_cast<const char*>(s) + sizeof(std::uint64_t), sizeof priv);
    return priv == 0;
}

bool try_take(sem_t* s) noexcept {
    const int saved = errno;
    if (GREEN_REAL(sem_trywait)(s) == 0) return true;
    errno = saved;
    return false;
}

int fail(int err) noexcept {
    errno = err;
    return -1;
}

// A waiting fiber. sem_post hands its permit straight to the longest waiter (`granted`)
// instead of raising libc's counter, where the poster, not being preempted, could take it
// back at its next sem_wait and starve the waiters (Python's Lock is such a semaphore).
struct Waiter : WaitQueue::Node {
    bool granted = false;
};

// abstime == nullptr: no deadline. A cancellation point.
int wait(FiberCtx c, sem_t* s, clockid_t clock, const timespec* abstime) {
    threads::test_cancel();
    // Counted for other hubs' posts before the first look at the counter.
    hubs::Elsewhere away(s);
    if (try_take(s)) return 0;
    Deadline user = Deadline::never();
    if (abstime) {
        if (int err = timed_wait_deadline(clock, abstime, user)) return fail(err);
    }
    const bool shared = is_shared(s);
    Table& t = table();
    Pin e(t, s);
    threads::CancelPoint cancel_point;
    Masked mask(c);
    Backoff backoff;
    for (;;) {
        Waiter me;
        const Wake w =
            mask.guard([&] { return e->queue.wait(me, shared ? backoff.next(user) : user); });
        if (me.granted) return 0;
        if (w == Wake::Deadlock) {
            // No fiber can ever post: only a signal handler or another process can. Block in
            // libc, as the program would without green.
            return abstime ? GREEN_REAL(sem_clockwait)(s, clock, abstime) : GREEN_REAL(sem_wait)(s);
        }
        if (try_take(s)) return 0;
        threads::test_cancel();
        if (user.expired()) return fail(ETIMEDOUT);
    }
}

}  // namespace

}  // namespace green::hooks::sync

using namespace green::hooks::sync;
namespace hubs = green::hooks::hubs;

extern "C" {

int sem_wait(sem_t* s) {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(sem_wait)(s);
    return wait(c, s, CLOCK_REALTIME, nullptr);
}

int sem_timedwait(sem_t* s, const struct timespec* abstime) {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(sem_timedwait)(s, abstime);
    if (!valid_timespec(abstime)) return fail(EINVAL);
    return wait(c, s, CLOCK_REALTIME, abstime);
}

int sem_clockwait(sem_t* s, clockid_t clock, const struct timespec* abstime) {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(sem_clockwait)(s, clock, abstime);
    if (!valid_wait_clock(clock) || !valid_timespec(abstime)) return fail(EINVAL);
    return wait(c, s, clock, abstime);
}

int sem_post(sem_t* s) noexcept {
    if (Table* t = table_if_any()) {
        if (Entry* e = t->find(s)) {
            if (auto* next = static_cast<Waiter*>(e->queue.front())) {
                next->granted = true;
                e->queue.notify(*next);
                return 0;
            }
        }
    } else {
        wake_from_outside(s);
    }
    const int rc = GREEN_REAL(sem_post)(s);
    hubs::wake_elsewhere(s);  // the permit is in libc's counter: another hub's waiter takes it
    return rc;
}

int sem_init(sem_t* s, int pshared, unsigned value) noexcept {
    if (Table* t = table_if_any()) t->forget(s);
    return GREEN_REAL(sem_init)(s, pshared, value);
}

int sem_destroy(sem_t* s) noexcept {
    if (Table* t = table_if_any())
        if (!t->forget(s)) return fail(EBUSY);
    return GREEN_REAL(sem_destroy)(s);
}

}  // extern "C"
