// Event, and the hub binding that lets Event and AsyncResult be set from other OS threads:
// a set() away from home changes the state under the binding's lock and posts the wake-up.
#include "green/event.hpp"

#include <stdexcept>

#include "scheduler.hpp"

namespace green {
namespace detail {

HubBinding::~HubBinding() {
    // Waits for a set() still running on another thread, and cancels what it posted.
    std::lock_guard lk(mu_);
    if (token_) token_->alive.store(false, std::memory_order_release);
}

void HubBinding::bind() {
    Hub* here = &Hub::get();
    Hub* bound = hub_.load(std::memory_order_acquire);
    if (bound == here) return;
    if (bound)
        throw std::logic_error(
            "green: this Event/AsyncResult belongs to another thread's hub; any thread may set "
            "it, but only fibers of the hub that first waited on it may wait");
    // Under the lock, so that a concurrent set() from another thread either sees the binding
    // (and posts the wake-up) or finished before it (and its change is visible after bind()).
    std::lock_guard lk(mu_);
    handle_ = here->handle();
    hub_.store(here, std::memory_order_release);
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
    if (binding_.at_home()) {
        flag_.store(true, std::memory_order_release);
        return wake_here();
    }
    auto lk = binding_.lock();
    flag_.store(true, std::memory_order_release);
    binding_.post_locked([this] { wake_here(); });
}

void Event::wake_here() {
    waiters_.notify_all();
    // A link reports the Event as ready; not so if clear() came before this posted wake-up.
    if (!links_.empty() && is_set()) links_.fire_all(*this);
}

bool Event::wait(Deadline deadline) {
    if (is_set()) return true;
    binding_.bind();
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
