// WaitQueue: the one parking primitive every coordination object is built from — a FIFO of
// fibers waiting for a notification, with deadline and kill support. Hub-thread only.
#pragma once

#include <cstddef>

#include "green/clock.hpp"
#include "green/detail/intrusive_list.hpp"

namespace green {

namespace detail {
class Fiber;
}

class WaitQueue {
  public:
    WaitQueue() = default;
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
};

}  // namespace green
