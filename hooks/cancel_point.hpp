// pthread_cancel for fiber threads blocked in the I/O and sleep hooks: every hook wait that POSIX
// makes a cancellation point (read, recv, accept, connect, poll, select, epoll_wait, sleep...)
// parks through cancellable(), which acts on a pending request before parking and lets
// pthread_cancel wake the parked fiber, which then ends the thread (cleanup handlers run).
#pragma once

#include <atomic>

#include "hook_interface.hpp"

namespace green::hooks {

// Delivered by pthread_cancel to a fiber thread parked in a cancellation point: it only wakes
// the wait, which then acts on the cancellation itself.
struct CancelWake {};

namespace cancel {

// Set once the first fiber thread is made: until then no wait needs any of this.
extern std::atomic<bool> g_fiber_threads __attribute__((visibility("hidden")));
// Fiber threads with a pthread_cancel request that has not ended them yet (any hub).
extern std::atomic<unsigned> g_pending __attribute__((visibility("hidden")));

// Acts on a pending, enabled pthread_cancel of the calling fiber thread: does not return then.
void act_on_request() __attribute__((visibility("hidden")));
inline void act_if_pending() {
    if (g_pending.load(std::memory_order_relaxed) != 0) [[unlikely]]
        act_on_request();
}

class Scope;
// The fibers of this hub thread parked in a cancellation point (initial-exec: no allocation on
// a thread's first use).
extern thread_local Scope* t_scopes
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

// Registers the calling fiber as parked in a cancellation point: an intrusive list per hub
// thread, so the wait path allocates nothing and looks up no types; inline, as it sits on the
// path of every socket wait.
class Scope {
  public:
    explicit Scope(rt::Fiber* self) noexcept : fiber_(self), next_(t_scopes) {
        if (next_) next_->prev_ = this;
        t_scopes = this;
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    ~Scope() {
        if (prev_)
            prev_->next_ = next_;
        else
            t_scopes = next_;
        if (next_) next_->prev_ = prev_;
    }

    // Whether `f` (a fiber of this hub) is parked inside a Scope.
    static bool holds(const rt::Fiber* f) noexcept {
        for (const Scope* s = t_scopes; s; s = s->next_)
            if (s->fiber_ == f) return true;
        return false;
    }

  private:
    rt::Fiber* fiber_;
    Scope* prev_ = nullptr;
    Scope* next_;
};

}  // namespace cancel

// Runs `wait` (a parking call) as a cancellation point. Returns what it returns, or `woken`
// when a cancellation woke it but did not act (not expected: pthread_cancel only wakes a fiber
// whose cancellation is enabled). Other exceptions (kill, Timeout) pass through.
template <class Wait, class R>
__attribute__((visibility("hidden"), always_inline)) inline R cancellable(Wait&& wait, R woken) {
    if (!cancel::g_fiber_threads.load(std::memory_order_relaxed)) [[likely]]
        return wait();
    cancel::act_if_pending();
    {
        rt::Hub* hub = rt::hub();
        cancel::Scope scope(hub ? rt::current(*hub) : nullptr);
        try {
            return wait();
        } catch (const CancelWake&) {
        }
    }
    cancel::act_if_pending();
    return woken;
}

}  // namespace green::hooks
