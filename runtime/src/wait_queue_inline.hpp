// WaitQueue's single-hub wait, inline down to the context switch (hub_switch.hpp): the runtime's
// own wait paths (WaitQueue::wait, Semaphore) include it, so that a wait costs one call, not a
// call per layer. Internal: user code reaches it through WaitQueue::wait.
#pragma once

#include <stdexcept>

#include "green/detail/park_local.hpp"
#include "green/wait_queue.hpp"
#include "hub_switch.hpp"
#include "scheduler.hpp"

namespace green {

template <bool kOnStack>
inline WaitQueue::StackWait WaitQueue::wait_here(detail::Hub& hub, detail::Fiber* self, Node& n,
                                                 const Deadline& deadline) {
    // A notification readies the waiter through its own hub's run queue; mixing hubs would
    // touch another thread's scheduler (shared primitives use wait_locked instead).
    if (Node* first = waiters_.front(); first && first->fiber->hub() != &hub)
        throw std::logic_error(
            "green: a wait queue (lock, queue, ...) used from two OS threads; one hub only");
    n.fiber = self;
    n.notified = false;
    // Both rare cases behind one branch: a compact fiber, several hubs alive.
    const bool compact = self->compact();
    const bool several_hubs = detail::g_live_hubs.load(std::memory_order_relaxed) > 1;
    if (compact | several_hubs) [[unlikely]] {
        if (compact) {
            if constexpr (kOnStack) return StackWait::Compact;  // not linked
            detail::refuse_compact_stack_record(&n, "wait-queue node");
        }
        // With one hub, the queue's affinity is not read at all.
        if (several_hubs && affinity_)
            return wait_keeping_hub(n, deadline) ? StackWait::Notified : StackWait::Timeout;
    }
    // The single-hub wait, the common one: a notifier has unlinked the node already, so only
    // a timeout or an interrupt unlinks it here. park is inlined (hub_switch.hpp).
    waiters_.push_back(n);
    const detail::WaitLabel label(*self, kind_, this);
    for (;;) {
        bool woke;
        try {
            woke = hub.park_inline(deadline);
        } catch (...) {
            leave(n);
            throw;
        }
        if (n.keeps_hub) [[unlikely]]  // its object became shared while it waited
            return finish_keeping_hub(n, deadline, woke) ? StackWait::Notified : StackWait::Timeout;
        if (n.notified) return StackWait::Notified;
        if (!woke) {
            waiters_.remove(n);
            return StackWait::Timeout;
        }
    }
}

}  // namespace green
