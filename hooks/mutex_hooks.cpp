// pthread mutexes made fiber-aware. libc's lock word stays the single truth about whether a
// mutex is held, so fibers and real OS threads (offload workers, the hub's own locks) exclude
// each other correctly; fibers add what libc cannot see on one OS thread: which fiber owns a
// recursive, error-checking, robust or priority-inheritance mutex, a queue to park on, and
// hand-over to the first waiter. Robust mutexes get their owner-died state from here when a
// fiber thread ends holding one (libc keys that on OS threads, which do not end).
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <climits>

#include "hub_set.hpp"
#include "sync_table.hpp"

namespace green::hooks::sync {

namespace {

// glibc's mutex kind bits (nptl/pthreadP.h; stable ABI).
constexpr int kTypeMask = 3;
constexpr int kRobust = 16;
constexpr int kPrioInherit = 32;
constexpr int kPrioProtect = 64;
constexpr int kPshared = 128;
// glibc's __owner of a robust mutex taken with EOWNERDEAD and not yet made consistent.
constexpr int kInconsistent = INT_MAX;

int kind_of(const pthread_mutex_t* m) noexcept {
    return __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
}

int real_trylock(pthread_mutex_t* m) noexcept {
    auto f = GREEN_REAL(pthread_mutex_trylock);
    return f ? f(m) : 0;
}

int real_unlock(pthread_mutex_t* m) noexcept {
    auto f = GREEN_REAL(pthread_mutex_unlock);
    return f ? f(m) : 0;
}

enum class Mode { Block, TryOnly, Timed };

// The uncontended lock and unlock of a default mutex (kind 0: normal, process-private, not
// robust, no priority protocol, no lock elision) that no fiber of this hub waits on or was
// woken for (no side-table entry): libc's own steps for that kind, inline, instead of a call of
// libc's trylock or unlock after the table work (an uncontended pair: ~120 instructions instead
// of ~270). The steps (glibc's pthread_mutex_trylock.c and pthread_mutex_unlock.c): the lock
// word goes 0 -> 1 by compare-and-swap, the owner becomes this OS thread's TID and the user
// count goes up; unlock clears the owner, counts down and exchanges the word for 0, waking one
// sleeper on the futex when it was 2 (an OS thread of the program's own asleep in libc's lock).
// acquire() and release() take this way first, so the pthread calls and the condition variables'
// unlock and relock (fiber_mutex_lock/unlock) share it; any other kind, an entry or a taken word
// goes on to the general path.
inline bool is_default(int kind, const Entry* e) noexcept {
    return kind == 0 && !e;
}

inline bool take_default(FiberCtx c, pthread_mutex_t* m) noexcept {
    int expected = 0;
    if (!__atomic_compare_exchange_n(&m->__data.__lock, &expected, 1, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return false;
    m->__data.__owner = rt::os_tid(*c.hub);
    ++m->__data.__nusers;
    return true;
}

inline void release_default(pthread_mutex_t* m) noexcept {
    m->__data.__owner = 0;
    --m->__data.__nusers;
    if (__atomic_exchange_n(&m->__data.__lock, 0, __ATOMIC_RELEASE) > 1)
        ::syscall(SYS_futex, &m->__data.__lock, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    // The exchange is a locked instruction: the full barrier wake_others counts on.
    hubs::wake_elsewhere(m);
}

// Mutexes whose owning fiber is recorded: those libc checks the owner of (recursive,
// error-checking; robust and priority-inheritance ones of every type refuse an unlock by
// another thread), and robust ones, whose owner's end must be noticed.
static_assert(PTHREAD_MUTEX_RECURSIVE == 1 && PTHREAD_MUTEX_ERRORCHECK == 2);
inline bool tracked(int kind) noexcept {
    return static_cast<unsigned>((kind & kTypeMask) - 1) < 2u || (kind & (kRobust | kPrioInherit));
}

bool inconsistent(const pthread_mutex_t* m) noexcept {
    return __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) == kInconsistent;
}

void set_owner(Table& t, Entry& e, rt::Fiber* f, int kind) noexcept {
    if ((kind & kRobust) && !e.owner) {
        e.robust = true;
        ++t.robust_owned;
    }
    e.owner = f;
}

void clear_owner(Table& t, Entry& e) noexcept {
    if (e.robust && e.owner) --t.robust_owned;
    e.owner = nullptr;
    e.count = 0;
}

// A tracked mutex (recursive, error-checking, robust...) that libc says this OS thread holds, with
// no owning fiber on record, was locked before the thread had a hub: by its main stack, which is
// now the main fiber. Record that, so other fibers neither share nor release it.
[[gnu::noinline]] Entry* adopt_held(FiberCtx c, Table& t, pthread_mutex_t* m, int kind,
                                    Entry* e) noexcept {
    if (!__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) ||
        __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) != ::gettid())
        return e;
    Entry& en = t.get(m);
    set_owner(t, en, &rt::main_fiber(*c.hub), kind);
    en.count = (kind & kTypeMask) == PTHREAD_MUTEX_RECURSIVE ? m->__data.__count : 1;
    return &en;
}
inline Entry* adopt(FiberCtx c, Table& t, pthread_mutex_t* m, int kind, Entry* e) noexcept {
    if (!tracked(kind) || (e && e->owner)) [[likely]]
        return e;
    return adopt_held(c, t, m, kind, e);
}

// The last fiber-level unlock gives the mutex back to libc: once, or as many times as libc
// counted for a recursive mutex adopted from the main stack.
int release_to_libc(pthread_mutex_t* m, int type) noexcept {
    if (type == PTHREAD_MUTEX_RECURSIVE)
        for (unsigned n = m->__data.__count; n > 1; --n) real_unlock(m);
    return real_unlock(m);
}

// One attempt through libc. On success a tracked mutex records its fiber. EOWNERDEAD (a robust
// mutex whose owner died) is a success too: the caller owns it, inconsistent.
int try_acquire(FiberCtx c, Table& t, pthread_mutex_t* m, int kind, Entry* e) noexcept {
    if (e && (e->owner || (e->reserved && e->reserved != c.self)))
        return EBUSY;  // a fiber of ours has it, was just handed it, or was woken first for it
    int rc = real_trylock(m);
    if (rc == ENOTRECOVERABLE) {
        // glibc's trylock of an unrecoverable robust mutex leaves its lock word claimed by
        // this OS thread (its blocking lock does not); every fiber shares that thread, so the
        // next try would count as a relock. Nobody can own such a mutex: clear the word.
        int self = ::gettid();
        __atomic_compare_exchange_n(&m->__data.__lock, &self, 0, false, __ATOMIC_RELEASE,
                                    __ATOMIC_RELAXED);
    }
    if (rc != 0 && rc != EOWNERDEAD) return rc;
    if ((kind & kTypeMask) == PTHREAD_MUTEX_RECURSIVE && m->__data.__count > 1) {
        // libc counted a second level: this OS thread held it already, outside any fiber
        // (locked before the hub existed). Another fiber must not share that ownership.
        real_unlock(m);
        return EBUSY;
    }
    if (tracked(kind)) {
        Entry& en = t.get(m);
        set_owner(t, en, c.self, kind);
        en.count = 1;
    }
    return rc;
}

// A waiting fiber. Unlock hands the mutex to the longest waiter directly (`granted`, with
// the entry's owner already set to it); libc's lock stays with this OS thread meanwhile.
struct Waiter : WaitQueue::Node {
    bool granted = false;
};

int wait_acquire(FiberCtx c, Table& t, pthread_mutex_t* m, int kind,
                 const Deadline& user) noexcept {
    const bool pshared = (kind & kPshared) != 0;
    Pin e(t, m);
    // With several hubs, a fiber of another hub that unlocks wakes us through our mailbox: we
    // are counted before the last look at the lock word.
    hubs::Elsewhere away(m);
    if (away) {
        const int rc = try_acquire(c, t, m, kind, &*e);
        if (rc != EBUSY) return rc;
    }
    // The reservation an unlock gave us ends with this call, whatever its outcome.
    struct Unreserve {
        Entry& e;
        rt::Fiber* self;
        ~Unreserve() {
            if (e.reserved == self) e.reserved = nullptr;
        }
    } unreserve{*e, c.self};
    Masked mask(c);
    Backoff backoff;
    for (;;) {
        // A holder that is one of our fibers hands over to the queue; libc's owner TID tells
        // whether the holder is this OS thread, or another hub's (which wakes us on unlock; a
        // poll every 10 ms covers an unlock made while it posted, hub_set.hpp). Anyone else is
        // polled for.
        const pid_t holder = m->__data.__owner;
        const bool ours = e->owner || (!pshared && holder == ::gettid());
        const bool other_hub = !ours && away && !pshared && hubs::is_hub_tid(holder);
        const Deadline d =
            ours ? user
                 : (other_hub
                        ? earliest(user, Deadline(Clock::now() + std::chrono::milliseconds(10)))
                        : backoff.next(user));
        Waiter me;
        const Wake w = mask.guard([&] { return e->queue.wait(me, d); });
        if (me.granted) return 0;  // even if interrupted meanwhile: the mutex is ours now
        if (w == Wake::Deadlock) await_outside(c, "pthread_mutex_lock");
        const int rc = try_acquire(c, t, m, kind, &*e);
        if (rc != EBUSY) return rc;
        if (user.expired()) return ETIMEDOUT;
    }
}

// Every lock but the uncontended default one: `e` is the mutex's entry (or null).
[[gnu::noinline]] int acquire_general(FiberCtx c, Table& t, pthread_mutex_t* m, int kind, Entry* e,
                                      Mode mode, clockid_t clock,
                                      const timespec* abstime) noexcept {
    const int type = kind & kTypeMask;
    e = adopt(c, t, m, kind, e);
    if (e && e->owner == c.self) {
        if (type == PTHREAD_MUTEX_RECURSIVE) {
            if (e->count == UINT_MAX) return EAGAIN;
            ++e->count;
            return 0;
        }
        if (type == PTHREAD_MUTEX_ERRORCHECK) {
            // libc's trylock by the owner: EBUSY for a plain one, EDEADLK for the others.
            const bool plain = (kind & (kRobust | kPrioInherit | kPrioProtect)) == 0;
            return mode == Mode::TryOnly && plain ? EBUSY : EDEADLK;
        }
        if (mode == Mode::TryOnly) return EBUSY;  // a normal mutex relocked deadlocks, as in libc
    }
    const int rc = try_acquire(c, t, m, kind, e);
    if (rc != EBUSY || mode == Mode::TryOnly) return rc;
    Deadline user = Deadline::never();
    if (mode == Mode::Timed) {
        // As libc: the time is only checked when the mutex is not free.
        if (int err = timed_wait_deadline(clock, abstime, user)) return err;
    }
    return wait_acquire(c, t, m, kind, user);
}

// Inline into each pthread call: out of line, the default mutex's way paid the general path's
// frame (~40 instructions more per pair).
[[gnu::always_inline]] inline int acquire(FiberCtx c, pthread_mutex_t* m, Mode mode,
                                          clockid_t clock, const timespec* abstime) noexcept {
    const int kind = kind_of(m);
    Table& t = table();
    Entry* e = t.find(m);
    if (is_default(kind, e) && take_default(c, m)) [[likely]]
        return 0;
    return acquire_general(c, t, m, kind, e, mode, clock, abstime);
}

// Every unlock but the default mutex's with no entry.
[[gnu::noinline]] int release_general(FiberCtx c, Table& t, pthread_mutex_t* m, int kind,
                                      Entry* e) noexcept {
    const int type = kind & kTypeMask;
    e = adopt(c, t, m, kind, e);
    if (tracked(kind)) {
        if (!e || e->owner != c.self) {
            if (e && e->owner) return EPERM;  // another fiber owns it
            return real_unlock(m);            // another OS thread's or free: libc answers
        }
        if (type == PTHREAD_MUTEX_RECURSIVE && --e->count > 0)
            return inconsistent(m) ? ENOTRECOVERABLE : 0;  // as libc answers inner unlocks
    }
    if (e) {
        if (inconsistent(m)) {
            // Unlocked without pthread_mutex_consistent: libc makes it unrecoverable, and
            // every waiter must look again to be told so.
            clear_owner(t, *e);
            const int rc = release_to_libc(m, type);
            e->queue.notify_all();
            t.release(m, *e);
            hubs::wake_elsewhere(m);
            return rc;
        }
        auto* next = static_cast<Waiter*>(e->queue.front());
        if (next && !hubs::multi()) {
            // Hand the mutex to the longest waiter. Without this a fiber that unlocks and
            // relocks without blocking in between would starve the others forever: fibers
            // are not preempted.
            next->granted = true;
            e->owner = next->fiber;
            e->count = 1;
            e->queue.notify(*next);
            return 0;
        }
        // Several hubs: no hand-over (libc's lock word would stay with this OS thread until
        // the waiter runs, and other hubs' threads may block on it meanwhile: the hooks' own
        // mailbox posts). The first waiter is woken and reserved against the other fibers of
        // this hub, so they cannot starve it; other hubs' waiters wake and try again.
        clear_owner(t, *e);
        if (next) {
            e->reserved = next->fiber;
            e->queue.notify(*next);
        }
        t.release(m, *e);
    }
    if (!hubs::multi()) return release_to_libc(m, type);  // one hub: a tail call, as before
    const int rc = release_to_libc(m, type);
    hubs::wake_elsewhere(m);
    return rc;
}

[[gnu::always_inline]] inline int release(FiberCtx c, pthread_mutex_t* m) noexcept {
    const int kind = kind_of(m);
    Table& t = table();
    Entry* e = t.find(m);
    if (is_default(kind, e)) [[likely]] {
        release_default(m);
        return 0;
    }
    return release_general(c, t, m, kind, e);
}

}  // namespace

int fiber_mutex_lock(FiberCtx c, pthread_mutex_t* m) noexcept {
    return acquire(c, m, Mode::Block, CLOCK_REALTIME, nullptr);
}

int fiber_mutex_unlock(FiberCtx c, pthread_mutex_t* m) noexcept {
    return release(c, m);
}

void release_robust_mutexes(rt::Fiber* dead) noexcept {
    Table* t = t_table;
    if (!t || t->robust_owned == 0) return;
    // Collected first: releasing may drop entries from the table.
    constexpr int kBatch = 32;
    for (;;) {
        pthread_mutex_t* held[kBatch];
        int n = 0;
        t->for_each([&](const void* obj, Entry& e) {
            if (n < kBatch && e.robust && e.owner == dead)
                held[n++] = static_cast<pthread_mutex_t*>(const_cast<void*>(obj));
        });
        if (n == 0) return;
        for (int i = 0; i < n; ++i) {
            pthread_mutex_t* m = held[i];
            Entry* e = t->find(m);
            clear_owner(*t, *e);
            // What the kernel does for a thread that dies holding a robust futex: the lock
            // word becomes "owner died" (libc's unlock first takes the mutex off this OS
            // thread's robust list). A mutex the dead fiber held inconsistent is told again.
            if (inconsistent(m)) __atomic_store_n(&m->__data.__owner, ::gettid(), __ATOMIC_RELAXED);
            const int type = kind_of(m) & kTypeMask;
            if (type == PTHREAD_MUTEX_RECURSIVE) m->__data.__count = 1;
            release_to_libc(m, type);
            int expected = 0;
            __atomic_compare_exchange_n(&m->__data.__lock, &expected, FUTEX_OWNER_DIED, false,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED);
            e->queue.notify_one();
            t->release(m, *e);
            hubs::wake_elsewhere(m);
        }
    }
}

}  // namespace green::hooks::sync

using namespace green::hooks::sync;
namespace hubs = green::hooks::hubs;

extern "C" {

int pthread_mutex_lock(pthread_mutex_t* m) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c || hubs::posting()) [[unlikely]] {
        auto f = GREEN_REAL(pthread_mutex_lock);
        return f ? f(m) : 0;
    }
    return acquire(c, m, Mode::Block, CLOCK_REALTIME, nullptr);
}

int pthread_mutex_trylock(pthread_mutex_t* m) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c || hubs::posting()) return real_trylock(m);
    return acquire(c, m, Mode::TryOnly, CLOCK_REALTIME, nullptr);
}

int pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_mutex_timedlock)(m, abstime);
    return acquire(c, m, Mode::Timed, CLOCK_REALTIME, abstime);
}

int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock,
                            const struct timespec* abstime) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_mutex_clocklock)(m, clock, abstime);
    if (!valid_wait_clock(clock)) return EINVAL;
    return acquire(c, m, Mode::Timed, clock, abstime);
}

int pthread_mutex_unlock(pthread_mutex_t* m) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c || hubs::posting()) [[unlikely]] {
        if (!hubs::multi()) return real_unlock(m);
        // A real thread or a hub's loop may hold what a fiber of another hub waits for.
        const int rc = real_unlock(m);
        hubs::wake_elsewhere(m);
        return rc;
    }
    return release(c, m);
}

int pthread_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* attr) noexcept {
    if (fiber_ctx()) table().forget(m);
    auto f = GREEN_REAL(pthread_mutex_init);
    return f ? f(m, attr) : 0;
}

int pthread_mutex_destroy(pthread_mutex_t* m) noexcept {
    if (fiber_ctx()) {
        Table& t = table();
        if (Entry* e = t.find(m)) {
            if (e->owner || !t.forget(m)) return EBUSY;
        }
    }
    auto f = GREEN_REAL(pthread_mutex_destroy);
    return f ? f(m) : 0;
}

}  // extern "C"
