// pthread read-write locks made fiber-aware. libc's try operations decide, so fibers and real
// threads agree; fibers that must wait park on the side table and are woken by each unlock.
// Readers are not attributed to fibers, so a waiter also looks again on a growing interval.
#include <errno.h>
#include <pthread.h>

#include "hub_set.hpp"
#include "sync_table.hpp"

namespace green::hooks::sync {

namespace {

enum class Mode { Block, TryOnly, Timed };

int real_try(pthread_rwlock_t* rw, bool write) noexcept {
    return write ? GREEN_REAL(pthread_rwlock_trywrlock)(rw)
                 : GREEN_REAL(pthread_rwlock_tryrdlock)(rw);
}

int acquire(FiberCtx c, pthread_rwlock_t* rw, bool write, Mode mode, clockid_t clock,
            const timespec* abstime) noexcept {
    Table& t = table();
    if (Entry* e = t.find(rw); e && e->owner == c.self)
        return mode == Mode::TryOnly ? EBUSY : EDEADLK;  // this fiber holds it for writing
    int rc = real_try(rw, write);
    if (rc == 0 && write) t.get(rw).owner = c.self;
    if (rc != EBUSY || mode == Mode::TryOnly) return rc;
    Deadline user = Deadline::never();
    if (mode == Mode::Timed) {
        if (int err = timed_wait_deadline(clock, abstime, user)) return err;
    }
    Pin e(t, rw);
    // Other hubs' unlocks wake us (counted before the last look); real threads are polled for.
    hubs::Elsewhere away(rw);
    if (away) {
        rc = real_try(rw, write);
        if (rc == 0 && write) e->owner = c.self;
        if (rc != EBUSY) return rc;
    }
    Masked mask(c);
    Backoff backoff;
    for (;;) {
        if (mask.wait(e->queue, backoff.next(user)) == Wake::Deadlock)
            await_outside(c, write ? "pthread_rwlock_wrlock" : "pthread_rwlock_rdlock");
        rc = real_try(rw, write);
        if (rc == 0 && write) e->owner = c.self;
        if (rc != EBUSY) return rc;
        if (user.expired()) return ETIMEDOUT;
    }
}

}  // namespace

}  // namespace green::hooks::sync

using namespace green::hooks::sync;
namespace hubs = green::hooks::hubs;

extern "C" {

int pthread_rwlock_rdlock(pthread_rwlock_t* rw) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_rwlock_rdlock)(rw);
    return acquire(c, rw, false, Mode::Block, CLOCK_REALTIME, nullptr);
}

int pthread_rwlock_wrlock(pthread_rwlock_t* rw) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_rwlock_wrlock)(rw);
    return acquire(c, rw, true, Mode::Block, CLOCK_REALTIME, nullptr);
}

int pthread_rwlock_tryrdlock(pthread_rwlock_t* rw) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_rwlock_tryrdlock)(rw);
    return acquire(c, rw, false, Mode::TryOnly, CLOCK_REALTIME, nullptr);
}

int pthread_rwlock_trywrlock(pthread_rwlock_t* rw) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_rwlock_trywrlock)(rw);
    return acquire(c, rw, true, Mode::TryOnly, CLOCK_REALTIME, nullptr);
}

int pthread_rwlock_timedrdlock(pthread_rwlock_t* rw, const struct timespec* abstime) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_rwlock_timedrdlock)(rw, abstime);
    return acquire(c, rw, false, Mode::Timed, CLOCK_REALTIME, abstime);
}

int pthread_rwlock_timedwrlock(pthread_rwlock_t* rw, const struct timespec* abstime) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_rwlock_timedwrlock)(rw, abstime);
    return acquire(c, rw, true, Mode::Timed, CLOCK_REALTIME, abstime);
}

int pthread_rwlock_clockrdlock(pthread_rwlock_t* rw, clockid_t clock,
                               const struct timespec* abstime) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_rwlock_clockrdlock)(rw, clock, abstime);
    if (!valid_wait_clock(clock)) return EINVAL;
    return acquire(c, rw, false, Mode::Timed, clock, abstime);
}

int pthread_rwlock_clockwrlock(pthread_rwlock_t* rw, clockid_t clock,
                               const struct timespec* abstime) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_rwlock_clockwrlock)(rw, clock, abstime);
    if (!valid_wait_clock(clock)) return EINVAL;
    return acquire(c, rw, true, Mode::Timed, clock, abstime);
}

int pthread_rwlock_unlock(pthread_rwlock_t* rw) noexcept {
    Table* t = table_if_any();
    Entry* e = t ? t->find(rw) : nullptr;
    if (e && e->owner == fiber_ctx().self) e->owner = nullptr;
    const int rc = GREEN_REAL(pthread_rwlock_unlock)(rw);
    if (e) {
        e->queue.notify_all();
        t->release(rw, *e);
    }
    hubs::wake_elsewhere(rw);
    return rc;
}

int pthread_rwlock_init(pthread_rwlock_t* rw, const pthread_rwlockattr_t* attr) noexcept {
    if (Table* t = table_if_any()) t->forget(rw);
    return GREEN_REAL(pthread_rwlock_init)(rw, attr);
}

int pthread_rwlock_destroy(pthread_rwlock_t* rw) noexcept {
    if (Table* t = table_if_any())
        if (!t->forget(rw)) return EBUSY;
    return GREEN_REAL(pthread_rwlock_destroy)(rw);
}

}  // extern "C"
