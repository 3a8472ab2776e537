// WaitQueue: the one parking primitive every coordination object is built from — a FIFO of
// fibers waiting for a notification, with deadline and kill support. Hub-thread only.
#pragma once

#include <cstddef>

#include "green/clock.hpp"
#include "green/detail/intrusive_list.hpp"
#include "green/detail/wait_reason.hpp"

namespace green {

namespace detail {
class Fiber;
class Hub;
// The calling thread's hub, or nullptr (hub.cpp).
extern thread_local constinit Hub* t_hub __attribute__((tls_model("initial-exec")));

// The hub a same-hub primitive (Semaphore, Lock, RLock, the Queue family, Channel) belongs to:
// the hub of the first thread that used it (which gets a hub then, if it had none). A call from any
// other OS thread is refused with std::logic_error before it touches anything: it would ready a
// waiter on another hub's run queue without waking that hub (a data race, and a hang for a waiter
// with no deadline). Event and AsyncResult are the objects that cross threads. One pointer
// comparison per call.
class SameHubCheck {
  public:
    void check(const char* what) {
        if (hub_ != t_hub) [[unlikely]]
            bind_or_refuse(what);
    }

  private:
    void bind_or_refuse(const char* what);
    // Unbound: a value no thread's hub pointer has, so that the first call always binds.
    Hub* hub_ = reinterpret_cast<Hub*>(alignof(std::max_align_t));
};
}  // namespace detail

class WaitQueue {
  public:
    WaitQueue() = default;
    // `kind` labels its waiters in green::format_run_info (run_info.hpp).
    explicit WaitQueue(detail::WaitKind kind) noexcept : kind_(kind) {}
    WaitQueue(const WaitQueue&) = delete;
    WaitQueue& operator=(const WaitQueue&) = delete;
    ~WaitQueue();

    // Parks the current fiber until notify_one/notify_all picks it (true) or the deadline
    // passes (false). Throws what kill() or a Timeout delivers; a waiter that is interrupted
    // after being notified hands its notification to the next waiter, so none is lost.
    bool wait(Deadline deadline = {});

    // Wakes the longest-waiting fiber; false when nobody waits.
    bool notify_one() noexcept;
    std::size_t notify_all() noexcept;
    bool empty() const noexcept { return waiters_.empty(); }
    std::size_t size() const noexcept { return waiters_.size(); }

    // A waiter. Primitives that hand something over with the wake-up (a permit, a queue item)
    // derive from it to carry the item, and use the explicit form below.
    struct Node {
        Node() = default;
        Node(const Node&) = delete;
        Node& operator=(const Node&) = delete;

        Node* prev = nullptr;
        Node* next = nullptr;
        detail::Fiber* fiber = nullptr;
        bool linked = false;
        bool notified = false;
    };

    // Explicit form: parks the current fiber as `n` (the caller owns it) until notify(n) (true)
    // or the deadline (false); `n` is unlinked on every exit. When this throws, n.notified
    // tells the caller whether it was handed something it must pass on or give back.
    // Waiters of two different hubs on one queue are refused (std::logic_error).
    bool wait(Node& n, Deadline deadline);
    // The longest waiter, or nullptr.
    Node* front() const noexcept { return waiters_.front(); }
    // Unlinks `n`, marks it notified and makes its fiber runnable. The fiber runs later, never
    // inside this call, so the notifier may still fill the node afterwards.
    void notify(Node& n) noexcept;

  private:
    detail::IntrusiveList<Node> waiters_;
    detail::WaitKind kind_ = detail::WaitKind::WaitQueue;
};

}  // namespace green
