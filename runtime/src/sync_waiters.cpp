// WaiterList: parking with owned grants, on top of the hub's park/ready. The primitives in
// semaphore/queue decide what a grant means and what an interrupted waiter gives back.
#include "green/detail/sync_waiters.hpp"

#include <stdexcept>

#include "hub.hpp"

namespace green::detail {

void WaiterList::push(Waiter& w) noexcept {
    w.prev = tail_;
    w.next = nullptr;
    if (tail_)
        tail_->next = &w;
    else
        head_ = &w;
    tail_ = &w;
    w.linked = true;
    ++size_;
}

void WaiterList::remove(Waiter& w) noexcept {
    if (!w.linked) return;
    (w.prev ? w.prev->next : head_) = w.next;
    (w.next ? w.next->prev : tail_) = w.prev;
    w.prev = w.next = nullptr;
    w.linked = false;
    --size_;
}

void WaiterList::grant(Waiter& w) noexcept {
    remove(w);
    w.granted = true;
    w.fiber->hub_->ready(*w.fiber);
}

bool WaiterList::wait(Waiter& w, Deadline deadline) {
    Hub& hub = Hub::get();
    // A grant wakes the waiter through its own hub's run queue; mixing hubs would touch another
    // thread's scheduler.
    if (head_ && head_->fiber->hub_ != &hub)
        throw std::logic_error(
            "green: a lock or queue is waited on from two OS threads; fibers of one hub only");
    w.fiber = hub.current();
    w.granted = false;
    push(w);
    try {
        while (!w.granted) {
            if (!hub.park(deadline)) break;
        }
    } catch (...) {
        remove(w);
        throw;
    }
    remove(w);
    return w.granted;
}

}  // namespace green::detail
