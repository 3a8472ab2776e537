// Event, and the hub binding that lets Event and AsyncResult be set from other OS threads:
// a set() away from home changes the state under the binding's lock and posts the wake-up.
#include "green/event.hpp"

#include <stdexcept>

#include "green/detail/park_local.hpp"
#include "scheduler.hpp"

namespace green {
namespace detail {

HubBinding::~HubBinding() {
    // Waits for a set() still running on another thread, and cancels what it posted.
    std::lock_guard lk(mu_);
    if (token_) token_->alive.store(false, std::memory_order_release);
}

void HubBinding::bind() {
    if (!try_bind())
        throw std::logic_error(
            "green: this Event/AsyncResult belongs to another thread's hub; any thread may set "
            "it or wait on it, but only fibers of the hub that first waited on it may link it");
}

bool HubBinding::try_bind() {
    Hub* here = &Hub::get();
    Hub* bound = hub_.load(std::memory_order_acquire);
    if (bound == here) return true;
    // Under the lock, so that a concurrent set() from another thread either sees the binding
    // (and posts the wake-up) or finished before it (and its change is visible after bind()).
    std::lock_guard lk(mu_);
    bound = hub_.load(std::memory_order_relaxed);
    if (bound) return bound == here;
    handle_ = here->handle();
    hub_.store(here, std::memory_order_release);
    return true;
}

bool HubBinding::wait_away(bool (*ready)(const void*), const void* object, WaitKind kind,
                           Deadline deadline) {
    Hub& hub = Hub::get();
    const ParkLocal<AwayWaiter> waiter(hub.current());
    AwayWaiter& w = *waiter;
    w.fiber = hub.current();
    {
        std::lock_guard lk(mu_);
        away_.push_back(w);
        away_count_.fetch_add(1, std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (ready(object)) {
            away_.remove(w);
            away_count_.fetch_sub(1, std::memory_order_relaxed);
            return true;
        }
    }
    const HubHandle::KeepAlive keep(hub.handle());  // another hub wakes it
    const WaitNote note(w.fiber, kind, object);
    for (;;) {
        std::exception_ptr interrupted;
        const bool woke = hub.park_capturing(deadline, interrupted);
        bool notified;
        {
            std::lock_guard lk(mu_);
            notified = w.notified;
            if (!notified && !interrupted && woke) continue;  // not by wake_away: wait on
            if (!notified) {
                away_.remove(w);
                away_count_.fetch_sub(1, std::memory_order_relaxed);
            }
        }
        // Its wake-up is on the way and will ready this fiber: the node must outlive it.
        while (w.wake_in_flight.load(std::memory_order_acquire)) hub.park_uninterruptible();
        if (interrupted) std::rethrow_exception(interrupted);
        return notified || ready(object);
    }
}

void HubBinding::wake_away_slow() noexcept {
    std::lock_guard lk(mu_);
    while (AwayWaiter* w = away_.front()) {
        away_.remove(*w);
        away_count_.fetch_sub(1, std::memory_order_relaxed);
        w->notified = true;
        w->wake_in_flight.store(true, std::memory_order_relaxed);
        Fiber* f = w->fiber;
        bool posted = false;
        try {
            posted = f->hub()->mailbox()->post([w, f] {
                w->wake_in_flight.store(false, std::memory_order_release);
                f->hub()->ready(*f);
            });
        } catch (...) {  // out of memory: the waiter sees `notified` at its deadline, if any
        }
        if (!posted) w->wake_in_flight.store(false, std::memory_order_release);
    }
}

bool HubBinding::at_home() const noexcept {
    Hub* bound = hub_.load(std::memory_order_acquire);
    return bound && bound == Hub::peek();
}

bool HubBinding::post_locked(std::function<void()> fn) {
    if (!hub_.load(std::memory_order_relaxed)) return false;
    if (!token_) token_ = std::make_shared<Token>();
    handle_.post([token = token_, fn = std::move(fn)] {
        if (token->alive.load(std::memory_order_acquire)) fn();
    });
    return true;
}

HubHandle::KeepAlive HubBinding::keep_alive() const {
    if (!cross_thread() || !hub_.load(std::memory_order_acquire)) return {};
    return HubHandle::KeepAlive(handle_);
}

}  // namespace detail

void Event::set() {
    // seq_cst: against a waiter of another hub that checks the flag after it queued
    // (HubBinding::wait_away).
    if (binding_.at_home()) {
        flag_.exchange(true, std::memory_order_seq_cst);
        return wake_here();
    }
    // Waiters of other hubs are woken by wake_here on the home hub too: after the lock is
    // dropped this object may be gone (the destructor waits for the lock, nothing more).
    auto lk = binding_.lock();
    flag_.exchange(true, std::memory_order_seq_cst);
    binding_.post_locked([this] { wake_here(); });
}

void Event::wake_here() {
    waiters_.notify_all();
    binding_.wake_away();
    // A link reports the Event as ready; not so if clear() came before this posted wake-up.
    if (!links_.empty() && is_set()) links_.fire_all(*this);
}

bool Event::wait(Deadline deadline) {
    if (is_set()) return true;
    if (!binding_.try_bind()) [[unlikely]]
        return binding_.wait_away(
            [](const void* e) { return static_cast<const Event*>(e)->is_set(); }, this,
            detail::WaitKind::Event, deadline);
    if (is_set()) return true;
    if (binding_.cross_thread()) {
        HubHandle::KeepAlive keep = binding_.keep_alive();
        return waiters_.wait(deadline) || is_set();
    }
    return waiters_.wait(deadline) || is_set();
}

void Event::rawlink(LinkNode& node) {
    binding_.bind();
    links_.push(node);
}

}  // namespace green
