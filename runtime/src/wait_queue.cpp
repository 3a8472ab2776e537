// WaitQueue and LinkList: the intrusive lists that parking and observing are built from.
#include "green/wait_queue.hpp"

#include "green/waitable.hpp"
#include "hub.hpp"

namespace green {

WaitQueue::~WaitQueue() {
    // Waiters still parked here would dangle: wake them; they see a notification.
    notify_all();
}

void WaitQueue::push(Node& n) noexcept {
    n.prev = tail_;
    n.next = nullptr;
    if (tail_)
        tail_->next = &n;
    else
        head_ = &n;
    tail_ = &n;
    n.linked = true;
    ++size_;
}

void WaitQueue::remove(Node& n) noexcept {
    if (!n.linked) return;
    (n.prev ? n.prev->next : head_) = n.next;
    (n.next ? n.next->prev : tail_) = n.prev;
    n.prev = n.next = nullptr;
    n.linked = false;
    --size_;
}

bool WaitQueue::wait(Deadline deadline) {
    auto& hub = detail::Hub::get();
    Node n;
    n.fiber = hub.current();
    push(n);
    try {
        while (!n.notified) {
            if (!hub.park(deadline)) break;
        }
    } catch (...) {
        remove(n);
        // Interrupted after being picked: pass the wake-up on so no other waiter misses it.
        if (n.notified) notify_one();
        throw;
    }
    remove(n);
    return n.notified;
}

bool WaitQueue::notify_one() noexcept {
    Node* n = head_;
    if (!n) return false;
    remove(*n);
    n->notified = true;
    n->fiber->hub_->ready(*n->fiber);
    return true;
}

std::size_t WaitQueue::notify_all() noexcept {
    std::size_t woken = 0;
    while (notify_one()) ++woken;
    return woken;
}

void LinkList::push(LinkNode& n) noexcept {
    n.prev = tail_;
    n.next = nullptr;
    if (tail_)
        tail_->next = &n;
    else
        head_ = &n;
    tail_ = &n;
    n.linked = true;
}

void LinkList::remove(LinkNode& n) noexcept {
    if (!n.linked) return;
    (n.prev ? n.prev->next : head_) = n.next;
    (n.next ? n.next->prev : tail_) = n.prev;
    n.prev = n.next = nullptr;
    n.linked = false;
}

void LinkList::fire_all(Waitable& source) {
    // Detach the whole list first, so callbacks may link new nodes (kept for a later call)
    // and unlink their own without touching the chain being walked.
    LinkNode* n = head_;
    head_ = tail_ = nullptr;
    for (LinkNode* p = n; p; p = p->next) p->linked = false;
    while (n) {
        LinkNode* next = n->next;
        n->prev = n->next = nullptr;
        n->fire(*n, source);
        n = next;
    }
}

}  // namespace green
