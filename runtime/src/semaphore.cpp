// Semaphore slow paths (parking, hand-off, misuse errors) and RLock, whose owner is the
// current fiber as the hub sees it (the main fiber included).
#include "green/semaphore.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "green/detail/park_local.hpp"
#include "scheduler.hpp"
#include "wait_queue_inline.hpp"

namespace green {

Semaphore::Semaphore(std::ptrdiff_t value) : Semaphore(value, Kind::Plain) {}

Semaphore::Semaphore(std::ptrdiff_t value, Kind kind)
    : waiters_(kind == Kind::Lock ? detail::WaitKind::Lock : detail::WaitKind::Semaphore),
      count_(static_cast<std::size_t>(value)),
      initial_(static_cast<std::size_t>(value)),
      limit_(kind == Kind::Plain ? SIZE_MAX : static_cast<std::size_t>(value)),
      kind_(kind) {
    if (value < 0)
        throw std::invalid_argument("green::Semaphore: initial value must be >= 0, got " +
                                    std::to_string(value));
}

// After local() and no park since: still single-hub and bound here, so only the waiters count.
// A shut gate is always safe (the slow path decides); it is opened only where that is cheap:
// here, after a release or a first use, and not after a wait, whose next release opens it.
void Semaphore::open_gate_if_idle() noexcept {
    if (waiters_.empty()) owner_.open_gate_here();
}

// local() binds an unbound semaphore to this hub or, for one bound to another hub, makes it
// shared. Single-hub mode cannot end while this fiber runs, only while it waits.
bool Semaphore::acquire_slow(Deadline deadline) {
    if (!owner_.local()) return acquire_shared(deadline);
    if (count_ > 0 && waiters_.empty()) {  // the gate was shut: first use, or after a wait
        --count_;
        owner_.open_gate_here();
        return true;
    }
    if (deadline.expired()) return false;
    owner_.close_gate();  // a waiter: the other fibers' acquires and releases queue behind it
    auto& hub = detail::Hub::get();
    const auto park = [&](WaitQueue::Node& w, auto on_stack) {
        try {
            return waiters_.wait_here<on_stack()>(hub, hub.current(), w, deadline);
        } catch (...) {
            // Interrupted after release() picked us: the permit is ours, so give it on.
            if (w.notified) give_back();
            throw;
        }
    };
    WaitQueue::Node w;
    const auto waited = park(w, std::true_type{});
    if (waited != WaitQueue::StackWait::Compact) [[likely]]
        return waited == WaitQueue::StackWait::Notified;
    // A compact fiber's stack is copied away while it waits: its node lives on the heap.
    const auto held = std::make_unique<WaitQueue::Node>();
    return park(*held, std::false_type{}) == WaitQueue::StackWait::Notified;
}

void Semaphore::give_back() {
    if (owner_.shared()) {          // shared all along, or it became so while we waited
        detail::RemoteWakes wakes;  // posted after the lock is dropped
        std::lock_guard lk(owner_.lock());
        return pass_on_locked(wakes);
    }
    if (WaitQueue::Node* w = waiters_.front())
        waiters_.notify(*w);
    else
        ++count_;
}

bool Semaphore::acquire_shared(Deadline deadline) {
    std::unique_lock lk(owner_.lock());
    if (count_ > 0 && waiters_.empty()) {
        --count_;
        return true;
    }
    if (deadline.expired()) return false;
    const detail::ParkLocal<WaitQueue::Node> w(detail::Hub::get().current());
    try {
        return waiters_.wait_locked(*w, deadline, lk);
    } catch (...) {
        if (w->notified) give_back();  // as in acquire_slow
        throw;
    }
}

void Semaphore::release_shared() {
    detail::RemoteWakes wakes;
    std::lock_guard lk(owner_.lock());
    if (waiters_.empty() && count_ >= limit_) over_release();
    pass_on_locked(wakes);
}

void Semaphore::pass_on_locked(detail::RemoteWakes& wakes) {
    // Direct hand-off: the permit goes to the longest waiter, whichever hub it is on.
    if (WaitQueue::Node* next = waiters_.front())
        waiters_.notify_locked(*next, wakes);
    else
        ++count_;
}

void Semaphore::release_slow() {
    if (!owner_.local()) return release_shared();
    if (WaitQueue::Node* w = waiters_.front()) {
        waiters_.notify(*w);
        return open_gate_if_idle();
    }
    if (count_ >= limit_) over_release();
    ++count_;
    owner_.open_gate_here();  // bound just now by local(), or shut by a waiter that has left
}

void Semaphore::over_release() const {
    if (kind_ == Kind::Lock) throw std::logic_error("green::Lock: release of an unlocked lock");
    throw std::logic_error("green::BoundedSemaphore: released too many times (initial value " +
                           std::to_string(initial_) + ")");
}

namespace {
const void* current_fiber() {
    return detail::Hub::get().current();
}
}  // namespace

bool RLock::acquire(Deadline deadline) {
    const void* me = current_fiber();
    if (owner_.load(std::memory_order_relaxed) == me) {
        ++count_;
        return true;
    }
    if (!sem_.acquire(deadline)) return false;
    owner_.store(me, std::memory_order_relaxed);
    count_ = 1;
    return true;
}

bool RLock::try_acquire() {
    return acquire(Deadline(Duration::zero()));
}

void RLock::release() {
    const void* me = current_fiber();
    if (owner_.load(std::memory_order_relaxed) != me)
        throw std::logic_error(!sem_.locked() ? "green::RLock: release of an unlocked lock"
                                              : "green::RLock: cannot release a lock owned by "
                                                "another fiber");
    if (--count_ == 0) {
        owner_.store(nullptr, std::memory_order_relaxed);
        sem_.release();
    }
}

bool RLock::owned() const noexcept {
    auto* hub = detail::Hub::peek();
    return hub && owner_.load(std::memory_order_relaxed) == hub->current();
}

}  // namespace green
