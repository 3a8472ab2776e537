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

    struct Node {
        Node* prev = nullptr;
        Node* next = nullptr;
        detail::Fiber* fiber = nullptr;
        bool linked = false;
        bool notified = false;
    };

  private:
    detail::IntrusiveList<Node> waiters_;
};

}  // namespace green
