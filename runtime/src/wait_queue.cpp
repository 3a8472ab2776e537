// WaitQueue and LinkList: parking and observing, on the shared intrusive list.
#include "green/wait_queue.hpp"

#include "green/waitable.hpp"
#include "hub.hpp"

namespace green {

WaitQueue::~WaitQueue() {
    // Waiters still parked here would dangle: wake them; they see a notification.
    notify_all();
}

bool WaitQueue::wait(Deadline deadline) {
    auto& hub = detail::Hub::get();
    Node n;
    n.fiber = hub.current();
    waiters_.push_back(n);
    try {
        while (!n.notified) {
            if (!hub.park(deadline)) break;
        }
    } catch (...) {
        waiters_.remove(n);
        // Interrupted after being picked: pass the wake-up on so no other waiter misses it.
        if (n.notified) notify_one();
        throw;
    }
    waiters_.remove(n);
    return n.notified;
}

bool WaitQueue::notify_one() noexcept {
    Node* n = waiters_.front();
    if (!n) return false;
    waiters_.remove(*n);
    n->notified = true;
    n->fiber->hub_->ready(*n->fiber);
    return true;
}

std::size_t WaitQueue::notify_all() noexcept {
    std::size_t woken = 0;
    while (notify_one()) ++woken;
    return woken;
}

void LinkList::fire_all(Waitable& source) {
    // Detach the whole list first, so callbacks may link new nodes (kept for a later call)
    // and unlink their own without touching the chain being walked.
    LinkNode* n = nodes_.take_all();
    while (n) {
        LinkNode* next = n->next;
        n->prev = n->next = nullptr;
        n->fire(*n, source);
        n = next;
    }
}

}  // namespace green
