// Shared machinery of the thread hooks (pthread_* made fiber-aware): when a call takes the
// fiber path, libc's own functions, absolute-time conversion, masked waits, and the per-hub
// side table that maps the address of a user's pthread object to the fibers waiting on it.
#pragma once

#include <pthread.h>
#include <semaphore.h>
#include <time.h>
#include <cerrno>

#include <cstdint>
#include <exception>
#include <vector>

#include "cancel_point.hpp"
#include "green/clock.hpp"
#include "green/errors.hpp"
#include "green/wait_queue.hpp"
#include "hook_interface.hpp"
#include "real_symbols.hpp"
#include "route.hpp"
#include "side_map.hpp"

// Internal to the hook library: bound directly, not through the PLT (these sit on the path of
// every pthread_mutex_lock).
#define GREEN_HOOK_INTERNAL __attribute__((visibility("hidden")))

namespace green::hooks::sync {

// Where a hooked pthread call runs: route(Need::Threads), with the calling fiber (the main stack
// counts) at hand. Empty: libc (real OS threads such as offload workers, threads without a hub,
// the loop fiber, GREEN_PATCH=io).
struct FiberCtx {
    rt::Hub* hub = nullptr;
    rt::Fiber* self = nullptr;
    explicit operator bool() const noexcept { return hub != nullptr; }
};

inline FiberCtx fiber_ctx() noexcept {
    rt::Hub* h = route(Need::Threads);
    if (!h) return {};
    return {h, rt::current(*h)};
}

// libc's own functions are GREEN_REAL(fn) (real_symbols.hpp). A null one only happens while
// dlsym itself runs on this thread (a program's malloc calling back into a hook); the process is
// then still starting up and single-threaded, so callers treat a missing lock function as an
// uncontended success.

// ---- time -------------------------------------------------------------------------------
// Absolute time on `clock` as a green Deadline (steady clock). Past times give an expired
// deadline; times more than a century ahead give "forever".
GREEN_HOOK_INTERNAL Deadline deadline_from(clockid_t clock, const timespec& abstime) noexcept;
inline bool valid_timespec(const timespec* ts) noexcept {
    return ts && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}
// A timed lock or wait whose object was not free: its absolute time as `out`, or the error the
// call returns at once (EINVAL for a malformed time, ETIMEDOUT for one already past).
inline int timed_wait_deadline(clockid_t clock, const timespec* abstime, Deadline& out) noexcept {
    if (!valid_timespec(abstime)) return EINVAL;
    if (abstime->tv_sec < 0) return ETIMEDOUT;
    out = deadline_from(clock, *abstime);
    return out.expired() ? ETIMEDOUT : 0;
}
inline bool valid_wait_clock(clockid_t c) noexcept {
    return c == CLOCK_MONOTONIC || c == CLOCK_REALTIME;
}

// ---- waiting ----------------------------------------------------------------------------
enum class Wake { Notified, TimedOut, Interrupted, Deadlock };

// Delivered to a fiber thread parked in a cancellation point by pthread_cancel: it only wakes
// the wait, which then acts on the cancellation itself.
using CancelWake = ::green::hooks::CancelWake;

// A pthread wait cannot deliver a C++ exception to its C caller, so kill() and green::Timeout
// that arrive meanwhile are held back and re-armed on the fiber when this object goes away:
// the fiber's next cooperative call receives them, every one of them (the hub orders them:
// kills before Timeouts).
class GREEN_HOOK_INTERNAL Masked {
  public:
    explicit Masked(FiberCtx c) noexcept : ctx_(c) {}
    Masked(const Masked&) = delete;
    Masked& operator=(const Masked&) = delete;
    ~Masked();
    // One WaitQueue wait. `Deadlock`: the hub found nothing left that could wake anyone
    // (LoopExit, delivered to the main fiber only).
    Wake wait(WaitQueue& q, const Deadline& d) noexcept {
        return guard([&] { return q.wait(d); });
    }
    // Any other parking call `f` (true: woken as hoped, false: deadline passed).
    template <class F>
    Wake guard(F&& f) noexcept {
        try {
            return f() ? Wake::Notified : Wake::TimedOut;
        } catch (const LoopExit&) {
            return Wake::Deadlock;
        } catch (const CancelWake&) {
            return Wake::Interrupted;
        } catch (...) {
            hold(std::current_exception());
            return Wake::Interrupted;
        }
    }

  private:
    void hold(std::exception_ptr e) noexcept;

    FiberCtx ctx_;
    std::exception_ptr held_;               // the first interrupt held back
    std::vector<std::exception_ptr> more_;  // any that came after it, in order
};

// How long a fiber waits before looking again at an object that a real OS thread (or another
// process) may hold: such holders cannot notify our queues. Grows from 50 us to 10 ms.
class GREEN_HOOK_INTERNAL Backoff {
  public:
    Deadline next(const Deadline& user) noexcept;

  private:
    long us_ = 50;
};

// A condvar signal or semaphore post from a thread without a side table (a real OS thread):
// it reaches libc's waiters only, so the fibers waiting on `obj` in every hub are woken too,
// through the hubs' thread-safe mailboxes (for them a spurious wake-up: they look again).
GREEN_HOOK_INTERNAL void wake_from_outside(const void* obj) noexcept;

// What the main fiber does when the hub proves that no fiber can run again (LoopExit): only
// a real thread or a signal handler could still change anything, so it sleeps in the kernel
// until one posts to the hub or a signal arrives, then returns for the caller to look again.
// A program that truly deadlocked hangs here, as it would natively.
GREEN_HOOK_INTERNAL void await_outside(FiberCtx c, const char* where) noexcept;

// ---- the side table ---------------------------------------------------------------------
// Green state for one pthread object in use by fibers of this hub. Kept beside the user's
// object, keyed by its address, instead of inside it: glibc's structs are fully used by libc
// (the lock word, owner TID and counts stay libc's, so real threads and fibers agree on who
// holds a mutex), static initializers leave no room, and the fields needed here (a wait queue,
// the owning fiber) would not fit. An entry lives only while some fiber owns or waits.
struct Entry {
    WaitQueue queue;                // fibers of this hub waiting on the object
    rt::Fiber* owner = nullptr;     // mutex / rwlock writer: the owning fiber, when tracked
                                    // (a mutex handed to a waiter is tracked from then on)
    unsigned count = 0;             // recursive mutex depth; barrier: threads arrived
    unsigned users = 0;             // fibers inside a hook that use this entry
    bool robust = false;            // a robust mutex, counted in Table::robust_owned while owned
    std::uint64_t round = 0;        // barrier: completed rounds
    rt::Fiber* reserved = nullptr;  // several hubs: the waiter an unlock woke first; the
                                    // other fibers of this hub do not take the mutex before it
};

// Its memory is private (side_map.hpp): the program's malloc may lock a hooked mutex, so
// nothing here may allocate through it.
class Table {
  public:
    Entry* find(const void* obj) noexcept { return map_.find(obj); }
    Entry& get(const void* obj) { return map_.get(obj); }
    // Drops the entry when nothing refers to it any more.
    void release(const void* obj, Entry& e) noexcept {
        if (!e.owner && !e.users && !e.count && !e.reserved && e.queue.empty()) map_.erase(obj);
    }
    // pthread_*_init / _destroy: stale state for a reused address must go (unless a fiber
    // still waits there, which the caller reports as EBUSY).
    bool forget(const void* obj) noexcept {
        Entry* e = map_.find(obj);
        if (!e) return true;
        if (e->users || !e->queue.empty()) return false;
        map_.erase(obj);
        return true;
    }

    // Fiber threads (pthread_create) of this hub still running, and a queue notified when
    // the count drops to zero (pthread_exit in the main thread waits for it).
    unsigned live_threads = 0;
    WaitQueue threads_done;
    // Robust mutexes owned by a fiber of this hub: a fiber thread that ends holding one makes
    // it "owner died" (release_robust_mutexes); when none is owned its end costs nothing.
    unsigned robust_owned = 0;

    // Calls f(obj, entry) for every entry; f must not add or remove entries.
    template <class F>
    void for_each(F&& f) {
        map_.for_each(f);
    }

  private:
    SideMap<Entry> map_;
};

// This hub thread's table (created on first use, lives as long as the thread; a plain
// pointer, never destroyed: hooks may still run while thread_local destructors do), and the
// table if this thread already has one (signal/broadcast/post need not create it).
extern thread_local Table* t_table GREEN_HOOK_INTERNAL __attribute__((tls_model("initial-exec")));
GREEN_HOOK_INTERNAL Table& new_table() noexcept;
inline Table& table() noexcept {
    if (!t_table) [[unlikely]]
        return new_table();
    return *t_table;
}
GREEN_HOOK_INTERNAL Table* table_if_any() noexcept;

// Holds an entry in use for the length of a hook call.
class Pin {
  public:
    Pin(Table& t, const void* obj) : t_(t), obj_(obj), e_(t.get(obj)) { ++e_.users; }
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    ~Pin() {
        --e_.users;
        t_.release(obj_, e_);
    }
    Entry& operator*() const noexcept { return e_; }
    Entry* operator->() const noexcept { return &e_; }

  private:
    Table& t_;
    const void* obj_;
    Entry& e_;
};

// ---- mutex operations shared with the condition variable hooks --------------------------
// Fiber-path lock (no deadline) and unlock of a mutex; they return an errno value.
GREEN_HOOK_INTERNAL int fiber_mutex_lock(FiberCtx c, pthread_mutex_t* m) noexcept;
GREEN_HOOK_INTERNAL int fiber_mutex_unlock(FiberCtx c, pthread_mutex_t* m) noexcept;
// A fiber thread `dead` ended: every robust mutex it still owns is released with the state a
// thread's death leaves in libc (the next locker gets EOWNERDEAD), and a waiter is woken.
GREEN_HOOK_INTERNAL void release_robust_mutexes(rt::Fiber* dead) noexcept;

}  // namespace green::hooks::sync
