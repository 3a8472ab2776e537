// gevent.lock in C++: Semaphore, BoundedSemaphore, Lock and RLock. Waiters are served strictly
// first come, first served: a release hands the permit straight to the longest waiter. All of
// them satisfy the standard Lockable/TimedLockable requirements (std::lock_guard, unique_lock,
// scoped_lock, try_lock_for).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <type_traits>

#include "green/clock.hpp"
#include "green/wait_queue.hpp"

namespace green {

namespace detail {
// Converts any clock's time point into green's Deadline.
template <class C, class D>
Deadline deadline_from(const std::chrono::time_point<C, D>& t) {
    if constexpr (std::is_same_v<C, Clock>) {
        return Deadline(std::chrono::time_point_cast<Duration>(t));
    } else {
        return Deadline(t - C::now());
    }
}

// The Lockable and TimedLockable names (lock/try_lock/unlock/try_lock_for/try_lock_until) over a
// primitive's acquire/try_acquire/release, so std::lock_guard, unique_lock and scoped_lock work.
template <class Derived>
class LockableNames {
  public:
    void lock() { self().acquire(); }
    bool try_lock() { return self().try_acquire(); }
    void unlock() { self().release(); }
    template <class Rep, class Period>
    bool try_lock_for(const std::chrono::duration<Rep, Period>& d) {
        return self().acquire(Deadline(d));
    }
    template <class C, class D>
    bool try_lock_until(const std::chrono::time_point<C, D>& t) {
        return self().acquire(deadline_from(t));
    }

  private:
    Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

}  // namespace detail

class Semaphore : public detail::LockableNames<Semaphore> {
  public:
    // `value` permits; negative is std::invalid_argument.
    explicit Semaphore(std::ptrdiff_t value = 1);
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;

    // Takes a permit, waiting up to `deadline` (true) or giving up (false). A zero or negative
    // deadline only polls. Throws what kill() or a Timeout delivers, holding no permit then.
    // The inline paths are only the uncontended single-hub case, behind owner_'s gate (open on
    // the owning hub while nobody waits); everything else (binding, parking, hand-off, misuse,
    // shared mode) is out of line, so that these stay a few instructions.
    [[gnu::always_inline]] bool acquire(Deadline deadline = {}) {
        return take_local() || acquire_slow(deadline);
    }
    [[gnu::always_inline]] bool try_acquire() {
        return take_local() || acquire_slow(Deadline(Duration::zero()));
    }
    [[gnu::always_inline]] void release() {
        if (owner_.gate_open_here() && count_ < limit_) [[likely]] {
            ++count_;
            return;
        }
        release_slow();
    }

    std::size_t counter() const noexcept {
        if (!owner_.shared()) return count_;
        std::lock_guard lk(owner_.lock());
        return count_;
    }
    bool locked() const noexcept { return counter() == 0; }
    std::size_t waiting() const noexcept {
        if (!owner_.shared()) return waiters_.size();
        std::lock_guard lk(owner_.lock());
        return waiters_.size();
    }

  protected:
    enum class Kind : std::uint8_t { Plain, Bounded, Lock };
    Semaphore(std::ptrdiff_t value, Kind kind);

  private:
    [[gnu::always_inline]] bool take_local() {
        if (owner_.gate_open_here() && count_ > 0) [[likely]] {
            --count_;
            return true;
        }
        return false;
    }
    bool acquire_slow(Deadline deadline);
    bool acquire_shared(Deadline deadline);
    void release_slow();
    void release_shared();
    void give_back();
    // A permit released or given back, in shared mode under the lock.
    void pass_on_locked(detail::RemoteWakes& wakes);
    void open_gate_if_idle() noexcept;
    [[noreturn]] void over_release() const;

    // First member: its waiters' label (format_run_info) names the semaphore's own address.
    WaitQueue waiters_;
    std::size_t count_;
    std::size_t initial_;
    std::size_t limit_;  // release() beyond this count is misuse: initial_ if bounded
    detail::HubAffinity owner_{&waiters_};
    Kind kind_;
};

// A Semaphore that may not be released above its initial value (gevent BoundedSemaphore).
class BoundedSemaphore : public Semaphore {
  public:
    explicit BoundedSemaphore(std::ptrdiff_t value = 1) : Semaphore(value, Kind::Bounded) {}
};

// A mutual-exclusion lock without an owner: any fiber may release it, as threading.Lock.
// Releasing an unlocked Lock is a std::logic_error.
class Lock : public Semaphore {
  public:
    Lock() : Semaphore(1, Kind::Lock) {}
};

// A re-entrant lock: the owning fiber may acquire it again; it is free after as many releases.
// Only the owner may release (std::logic_error otherwise).
class RLock : public detail::LockableNames<RLock> {
  public:
    RLock() = default;
    RLock(const RLock&) = delete;
    RLock& operator=(const RLock&) = delete;

    bool acquire(Deadline deadline = {});
    bool try_acquire();
    void release();
    bool locked() const noexcept { return sem_.locked(); }
    // True when the calling fiber holds it.
    bool owned() const noexcept;
    std::size_t depth() const noexcept { return count_; }

  private:
    Semaphore sem_{1};
    // The owning fiber. Atomic (relaxed) because fibers of other hubs compare it with
    // themselves while the owner sets it; only the owner ever finds itself there.
    std::atomic<const void*> owner_{nullptr};
    std::size_t count_ = 0;  // the owner's only
};

}  // namespace green
