// pthread mutexes made fiber-aware. libc's lock word stays the single truth about whether a
// mutex is held, so fibers and real OS threads (offload workers, the hub's own locks) exclude
// each other correctly; fibers add what libc cannot see on one OS thread: which fiber owns a
// recursive or error-checking mutex, a queue to park on, and hand-over to the first waiter.
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include <climits>

#include "sync_table.hpp"

namespace green::hooks::sync {

namespace {

// glibc's mutex kind bits (nptl/pthreadP.h; stable ABI).
constexpr int kTypeMask = 3;
constexpr int kPshared = 128;

int kind_of(const pthread_mutex_t* m) noexcept {
    return __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
}

int real_trylock(pthread_mutex_t* m) noexcept {
    auto f = real::pthread_mutex_trylock();
    return f ? f(m) : 0;
}

int real_unlock(pthread_mutex_t* m) noexcept {
    auto f = real::pthread_mutex_unlock();
    return f ? f(m) : 0;
}

enum class Mode { block, try_only, timed };

bool tracked(int type) noexcept {
    return type == PTHREAD_MUTEX_RECURSIVE || type == PTHREAD_MUTEX_ERRORCHECK;
}

// A recursive or error-checking mutex that libc says this OS thread holds, with no owning fiber
// on record, was locked before the thread had a hub: by its main stack, which is now the main
// fiber. Record that, so other fibers neither share nor release it.
Entry* adopt(FiberCtx c, Table& t, pthread_mutex_t* m, int type, Entry* e) noexcept {
    if (!tracked(type) || (e && e->owner)) return e;
    if (!__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) ||
        __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) != ::gettid())
        return e;
    Entry& en = t.get(m);
    en.owner = &c.hub->main_fiber();
    en.count = type == PTHREAD_MUTEX_RECURSIVE ? m->__data.__count : 1;
    return &en;
}

// The last fiber-level unlock gives the mutex back to libc: once, or as many times as libc
// counted for a recursive mutex adopted from the main stack.
int release_to_libc(pthread_mutex_t* m, int type) noexcept {
    if (type == PTHREAD_MUTEX_RECURSIVE)
        for (unsigned n = m->__data.__count; n > 1; --n) real_unlock(m);
    return real_unlock(m);
}

// One attempt through libc. On success a recursive or error-checking mutex records its fiber.
int try_acquire(FiberCtx c, Table& t, pthread_mutex_t* m, int type, Entry* e) noexcept {
    if (e && e->owner) return EBUSY;  // a fiber of ours has it (or was just handed it)
    int rc = real_trylock(m);
    if (rc != 0) return rc;
    if (type == PTHREAD_MUTEX_RECURSIVE && m->__data.__count > 1) {
        // libc counted a second level: this OS thread held it already, outside any fiber
        // (locked before the hub existed). Another fiber must not share that ownership.
        real_unlock(m);
        return EBUSY;
    }
    if (tracked(type)) {
        Entry& en = t.get(m);
        en.owner = c.self;
        en.count = 1;
    }
    return 0;
}

// A waiting fiber. Unlock hands the mutex to the longest waiter directly (`granted`, with
// the entry's owner already set to it); libc's lock stays with this OS thread meanwhile.
struct Waiter : WaitQueue::Node {
    bool granted = false;
};

int wait_acquire(FiberCtx c, Table& t, pthread_mutex_t* m, int type, bool pshared,
                 const Deadline& user) noexcept {
    Pin e(t, m);
    Masked mask(c);
    Backoff backoff;
    for (;;) {
        // A holder that is one of our fibers hands over to the queue; libc's owner TID tells
        // whether the holder is this OS thread. Anyone else is polled for.
        const bool ours = e->owner || (!pshared && m->__data.__owner == ::gettid());
        Waiter me;
        const Wake w =
            mask.guard([&] { return e->queue.wait(me, ours ? user : backoff.next(user)); });
        if (me.granted) return 0;  // even if interrupted meanwhile: the mutex is ours now
        if (w == Wake::deadlock) await_outside(c, "pthread_mutex_lock");
        const int rc = try_acquire(c, t, m, type, &*e);
        if (rc != EBUSY) return rc;
        if (user.expired()) return ETIMEDOUT;
    }
}

int acquire(FiberCtx c, pthread_mutex_t* m, Mode mode, clockid_t clock,
            const timespec* abstime) noexcept {
    const int kind = kind_of(m);
    const int type = kind & kTypeMask;
    Table& t = table();
    Entry* e = adopt(c, t, m, type, t.find(m));
    if (e && e->owner == c.self) {
        if (type == PTHREAD_MUTEX_RECURSIVE) {
            if (e->count == UINT_MAX) return EAGAIN;
            ++e->count;
            return 0;
        }
        if (type == PTHREAD_MUTEX_ERRORCHECK) return mode == Mode::try_only ? EBUSY : EDEADLK;
        if (mode == Mode::try_only) return EBUSY;  // a normal mutex relocked deadlocks, as in libc
    }
    const int rc = try_acquire(c, t, m, type, e);
    if (rc != EBUSY || mode == Mode::try_only) return rc;
    Deadline user = Deadline::never();
    if (mode == Mode::timed) {
        // As libc: the time is only checked when the mutex is not free.
        if (int err = timed_wait_deadline(clock, abstime, user)) return err;
    }
    return wait_acquire(c, t, m, type, (kind & kPshared) != 0, user);
}

}  // namespace

int fiber_mutex_lock(FiberCtx c, pthread_mutex_t* m) noexcept {
    return acquire(c, m, Mode::block, CLOCK_REALTIME, nullptr);
}

int fiber_mutex_unlock(FiberCtx c, pthread_mutex_t* m) noexcept {
    const int type = kind_of(m) & kTypeMask;
    Table& t = table();
    Entry* e = adopt(c, t, m, type, t.find(m));
    if (tracked(type)) {
        if (!e || e->owner != c.self) {
            if (e && e->owner) return EPERM;  // another fiber owns it
            return real_unlock(m);            // another OS thread's or free: libc answers
        }
        if (type == PTHREAD_MUTEX_RECURSIVE && --e->count > 0) return 0;
    }
    if (e) {
        if (auto* next = static_cast<Waiter*>(e->queue.front())) {
            // Hand the mutex to the longest waiter. Without this a fiber that unlocks and
            // relocks without blocking in between would starve the others forever: fibers
            // are not preempted.
            next->granted = true;
            e->owner = next->fiber;
            e->count = 1;
            e->queue.notify(*next);
            return 0;
        }
        e->owner = nullptr;
        e->count = 0;
        t.release(m, *e);
    }
    return release_to_libc(m, type);
}

}  // namespace green::hooks::sync

using namespace green::hooks::sync;

extern "C" {

int pthread_mutex_lock(pthread_mutex_t* m) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c || mutex_passes_through(m)) {
        auto f = real::pthread_mutex_lock();
        return f ? f(m) : 0;
    }
    return acquire(c, m, Mode::block, CLOCK_REALTIME, nullptr);
}

int pthread_mutex_trylock(pthread_mutex_t* m) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c || mutex_passes_through(m)) return real_trylock(m);
    return acquire(c, m, Mode::try_only, CLOCK_REALTIME, nullptr);
}

int pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c || mutex_passes_through(m)) return real::pthread_mutex_timedlock()(m, abstime);
    return acquire(c, m, Mode::timed, CLOCK_REALTIME, abstime);
}

int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock,
                            const struct timespec* abstime) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c || mutex_passes_through(m)) return real::pthread_mutex_clocklock()(m, clock, abstime);
    if (!valid_wait_clock(clock)) return EINVAL;
    return acquire(c, m, Mode::timed, clock, abstime);
}

int pthread_mutex_unlock(pthread_mutex_t* m) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c || mutex_passes_through(m)) return real_unlock(m);
    return fiber_mutex_unlock(c, m);
}

int pthread_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* attr) noexcept {
    if (fiber_ctx()) table().forget(m);
    auto f = real::pthread_mutex_init();
    return f ? f(m, attr) : 0;
}

int pthread_mutex_destroy(pthread_mutex_t* m) noexcept {
    if (fiber_ctx()) {
        Table& t = table();
        if (Entry* e = t.find(m)) {
            if (e->owner || !t.forget(m)) return EBUSY;
        }
    }
    auto f = real::pthread_mutex_destroy();
    return f ? f(m) : 0;
}

}  // extern "C"
