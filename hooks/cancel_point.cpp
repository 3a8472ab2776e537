// The registry of fibers parked in the I/O and sleep hooks' cancellation points (one list per
// hub thread), and the bridge to the thread hooks' cancellation (thread_hooks.cpp).
#include "cancel_point.hpp"

#include "fiber_thread.hpp"

namespace green::hooks::cancel {

std::atomic<bool> g_fiber_threads{false};
std::atomic<unsigned> g_pending{0};

namespace {
// initial-exec: no allocation on a thread's first use.
thread_local Scope* t_scopes __attribute__((tls_model("initial-exec"))) = nullptr;
}  // namespace

void act_if_pending() {
    if (g_pending.load(std::memory_order_relaxed) != 0) threads::test_cancel();
}

Scope::Scope() noexcept : fiber_(detail::Hub::peek() ? detail::Hub::peek()->current() : nullptr) {
    next_ = t_scopes;
    if (next_) next_->prev_ = this;
    t_scopes = this;
}

Scope::~Scope() {
    if (prev_)
        prev_->next_ = next_;
    else
        t_scopes = next_;
    if (next_) next_->prev_ = prev_;
}

bool Scope::holds(const detail::Fiber* f) noexcept {
    for (const Scope* s = t_scopes; s; s = s->next_)
        if (s->fiber_ == f) return true;
    return false;
}

}  // namespace green::hooks::cancel
