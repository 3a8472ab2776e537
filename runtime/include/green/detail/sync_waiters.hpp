// The parking list under Semaphore, Lock, Queue and Channel. Like WaitQueue it is a FIFO of
// parked fibers, but a wake-up is a grant the waiter owns (a permit, an item): a waiter that is
// killed after its grant sees w.granted and hands the grant on itself, so nothing is lost.
#pragma once

#include <cstddef>

#include "green/clock.hpp"

namespace green::detail {

class Fiber;

struct Waiter {
    Waiter() = default;
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    Waiter* prev = nullptr;
    Waiter* next = nullptr;
    Fiber* fiber = nullptr;
    bool linked = false;
    bool granted = false;
};

// Hub-thread only. Waiters from two different hubs on one list are refused (std::logic_error).
class WaiterList {
  public:
    WaiterList() = default;
    WaiterList(const WaiterList&) = delete;
    WaiterList& operator=(const WaiterList&) = delete;

    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept { return size_; }
    Waiter* front() const noexcept { return head_; }

    // Unlinks `w`, marks it granted and makes its fiber runnable. The fiber runs later, never
    // inside this call, so the granter may still fill the waiter's slot afterwards.
    void grant(Waiter& w) noexcept;

    // Links the current fiber as `w` at the back and parks until grant() (true) or the deadline
    // (false). `w` is unlinked on every exit. When this throws (kill, Timeout, LoopExit),
    // w.granted tells the caller whether it owns a grant that it must pass on.
    bool wait(Waiter& w, Deadline deadline);

  private:
    void push(Waiter& w) noexcept;
    void remove(Waiter& w) noexcept;

    Waiter* head_ = nullptr;
    Waiter* tail_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace green::detail
