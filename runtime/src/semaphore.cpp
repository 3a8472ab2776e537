// Semaphore slow paths (parking, hand-off, misuse errors) and RLock, whose owner is the
// current fiber as the hub sees it (the main fiber included).
#include "green/semaphore.hpp"

#include <stdexcept>
#include <string>

#include "scheduler.hpp"

namespace green {

Semaphore::Semaphore(std::ptrdiff_t value) : Semaphore(value, Kind::Plain) {}

Semaphore::Semaphore(std::ptrdiff_t value, Kind kind)
    : count_(static_cast<std::size_t>(value)),
      initial_(static_cast<std::size_t>(value)),
      bounded_(kind != Kind::Plain),
      kind_(kind) {
    if (value < 0)
        throw std::invalid_argument("green::Semaphore: initial value must be >= 0, got " +
                                    std::to_string(value));
}

bool Semaphore::acquire_slow(Deadline deadline) {
    if (deadline.expired()) return false;
    WaitQueue::Node w;
    const detail::WaitNote note(
        detail::Hub::get().current(),
        kind_ == Kind::Lock ? detail::WaitKind::Lock : detail::WaitKind::Semaphore, this);
    try {
        return waiters_.wait(w, deadline);
    } catch (...) {
        // Interrupted after release() picked us: the permit is ours, so give it on.
        if (w.notified) {
            if (!waiters_.empty())
                hand_off();
            else
                ++count_;
        }
        throw;
    }
}

void Semaphore::hand_off() noexcept {
    waiters_.notify(*waiters_.front());
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
    if (owner_ == me) {
        ++count_;
        return true;
    }
    if (!sem_.acquire(deadline)) return false;
    owner_ = me;
    count_ = 1;
    return true;
}

bool RLock::try_acquire() {
    return acquire(Deadline(Duration::zero()));
}

void RLock::release() {
    if (count_ == 0 || owner_ != current_fiber())
        throw std::logic_error(count_ == 0 ? "green::RLock: release of an unlocked lock"
                                           : "green::RLock: cannot release a lock owned by "
                                             "another fiber");
    if (--count_ == 0) {
        owner_ = nullptr;
        sem_.release();
    }
}

bool RLock::owned() const noexcept {
    auto* hub = detail::Hub::peek();
    return count_ > 0 && hub && owner_ == hub->current();
}

}  // namespace green
