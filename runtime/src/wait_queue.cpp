// WaitQueue and LinkList: parking and observing, on the shared intrusive list.
#include "green/wait_queue.hpp"

#include <stdexcept>
#include <string>

#include "green/waitable.hpp"
#include "scheduler.hpp"

namespace green {

WaitQueue::~WaitQueue() {
    // Waiters still parked here would dangle: wake them; they see a notification.
    notify_all();
}

bool WaitQueue::wait(Deadline deadline) {
    Node n;
    try {
        return wait(n, deadline);
    } catch (...) {
        // Interrupted after being picked: pass the wake-up on so no other waiter misses it.
        if (n.notified) notify_one();
        throw;
    }
}

bool WaitQueue::wait(Node& n, Deadline deadline) {
    auto& hub = detail::Hub::get();
    // A notification readies the waiter through its own hub's run queue; mixing hubs would
    // touch another thread's scheduler.
    if (Node* first = waiters_.front(); first && first->fiber->hub() != &hub)
        throw std::logic_error(
            "green: a wait queue (lock, queue, ...) used from two OS threads; one hub only");
    n.fiber = hub.current();
    n.notified = false;
    waiters_.push_back(n);
    struct Unlink {
        detail::IntrusiveList<Node>& list;
        Node& n;
        ~Unlink() { list.remove(n); }
    } unlink{waiters_, n};
    const detail::WaitNote note(n.fiber, kind_, this);
    while (!n.notified) {
        if (!hub.park(deadline)) break;
    }
    return n.notified;
}

void WaitQueue::notify(Node& n) noexcept {
    waiters_.remove(n);
    n.notified = true;
    n.fiber->hub()->ready(*n.fiber);
}

bool WaitQueue::notify_one() noexcept {
    Node* n = waiters_.front();
    if (!n) return false;
    notify(*n);
    return true;
}

std::size_t WaitQueue::notify_all() noexcept {
    std::size_t woken = 0;
    while (notify_one()) ++woken;
    return woken;
}

void detail::SameHubCheck::bind_or_refuse(const char* what) {
    if (hub_ == reinterpret_cast<Hub*>(alignof(std::max_align_t))) {  // first use
        hub_ = &Hub::get();
        return;
    }
    throw std::logic_error(std::string(what) +
                           " used from an OS thread other than the one whose hub it belongs to; "
                           "only Event and AsyncResult cross threads (or post to the owning "
                           "hub with HubHandle::post)");
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
