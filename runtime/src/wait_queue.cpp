// WaitQueue and LinkList: parking and observing, on the shared intrusive list.
#include "green/wait_queue.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "green/detail/park_local.hpp"
#include "green/waitable.hpp"
#include "scheduler.hpp"
#include "wait_queue_inline.hpp"

namespace green {

WaitQueue::~WaitQueue() {
    // Waiters still parked here would dangle: wake them; they see a notification.
    notify_all();
}

inline bool WaitQueue::wait_as(detail::Hub& hub, detail::Fiber* self, Node& n,
                               const Deadline& deadline) {
    try {
        return wait_here(hub, self, n, deadline) == StackWait::Notified;
    } catch (...) {
        // Interrupted after being picked: pass the wake-up on so no other waiter misses it.
        if (n.notified) notify_one();
        throw;
    }
}

bool WaitQueue::wait(Deadline deadline) {
    auto& hub = detail::Hub::get();
    detail::Fiber* self = hub.current();
    if (self->compact()) [[unlikely]]
        return wait_heap_node(hub, self, deadline);
    Node n;
    return wait_as(hub, self, n, deadline);
}

bool WaitQueue::wait_heap_node(detail::Hub& hub, detail::Fiber* self, Deadline deadline) {
    return wait_as(hub, self, *std::make_unique<Node>(), deadline);  // its stack is copied away
}

bool WaitQueue::wait(Node& n, Deadline deadline) {
    auto& hub = detail::Hub::get();
    return wait_here(hub, hub.current(), n, deadline) == StackWait::Notified;
}

WaitQueue::StackWait WaitQueue::wait_on_stack(Node& n, Deadline deadline) {
    auto& hub = detail::Hub::get();
    return wait_here<true>(hub, hub.current(), n, deadline);
}

// Another hub may use the object later and wake this waiter: no LoopExit meanwhile. It then
// leaves as a shared-mode waiter does (the lock is uncontended while single-hub).
bool WaitQueue::wait_keeping_hub(Node& n, Deadline deadline) {
    n.keeps_hub = true;
    n.delivered = false;
    n.mailbox = n.fiber->hub()->mailbox().get();
    ++n.mailbox->own_waits;
    waiters_.push_back(n);
    const detail::WaitLabel label(*n.fiber, kind_, this);
    bool woke;
    try {
        woke = n.fiber->hub()->park(deadline);
    } catch (...) {
        leave(n);
        throw;
    }
    return finish_keeping_hub(n, deadline, woke);
}

bool WaitQueue::finish_keeping_hub(Node& n, Deadline deadline, bool woke) {
    struct Leave {
        WaitQueue& q;
        Node& n;
        ~Leave() { q.leave_shared(n); }
    } leave{*this, n};
    return finish_shared(n, deadline, woke);
}

void WaitQueue::leave(Node& n) noexcept {
    if (n.keeps_hub) [[unlikely]]
        leave_shared(n);
    else
        waiters_.remove(n);
}

bool WaitQueue::wait_locked(Node& n, Deadline deadline, std::unique_lock<detail::SpinLock>& lk) {
    auto& hub = detail::Hub::get();
    n.fiber = hub.current();
    n.notified = false;
    n.keeps_hub = true;
    n.delivered = false;
    n.mailbox = hub.mailbox().get();
    if (n.fiber->compact()) [[unlikely]]
        detail::refuse_compact_stack_record(&n, "wait-queue node");
    // Another thread may be the one to wake it: no LoopExit while it waits.
    ++n.mailbox->own_waits;
    waiters_.push_back(n);
    lk.unlock();
    struct Leave {
        WaitQueue& q;
        Node& n;
        ~Leave() { q.leave_shared(n); }
    } leave{*this, n};
    const detail::WaitLabel label(*n.fiber, kind_, this);
    return finish_shared(n, deadline, hub.park(deadline));
}

// The rest of a shared-mode wait: `notified` is written under the lock by whichever thread
// picked the node, so it is read under the lock too, unless this hub's thread delivered the
// notification (Node::delivered): a notifier of this hub wrote it under the lock this thread
// held; one of another hub wrote it before its seq_cst push of the node, which this thread's
// run_posts took with acquire before it set `delivered`. Either way it is visible without the
// lock, and the notifier has unlinked the node and will not touch it again. This saves the
// woken side taking the lock's line back from the notifier's core on every hand-off.
bool WaitQueue::finish_shared(Node& n, Deadline deadline, bool woke) {
    auto& hub = *n.fiber->hub();
    for (;;) {
        if (n.delivered) return true;
        {
            std::lock_guard lk(affinity_->lock());
            if (n.notified) return true;
        }
        if (!woke) return false;
        woke = hub.park(deadline);
    }
}

void WaitQueue::leave_shared(Node& n) noexcept {
    auto& hub = *n.fiber->hub();
    if (!n.delivered) {  // delivered: unlinked by its notifier already (finish_shared)
        {
            std::lock_guard lk(affinity_->lock());
            waiters_.remove(n);
        }
        // Picked by another hub, whose wake-up is still on its way: it will ready this fiber,
        // so the node must live until then.
        while (n.wake_in_flight.load(std::memory_order_acquire)) hub.park_uninterruptible();
    }
    n.keeps_hub = false;
    --detail::home_mailbox(n).own_waits;
}

void WaitQueue::notify_locked(Node& n, detail::RemoteWakes& wakes) noexcept {
    waiters_.remove(n);
    n.notified = true;
    detail::Hub* here = detail::t_hub;
    // The waiter's mailbox from its node: its Fiber and Hub are lines its own hub writes.
    const bool same_hub =
        n.mailbox ? here && n.mailbox == here->mailbox().get() : n.fiber->hub() == here;
    if (same_hub) {
        n.delivered = true;
        here->ready(*n.fiber);
    } else {
        n.wake_in_flight.store(true, std::memory_order_relaxed);
        wakes.add(n);
    }
}

void WaitQueue::share(detail::Mailbox& owner) noexcept {
    for (Node* n = waiters_.front(); n; n = n->next) {
        // Holds its KeepAlive already (several hubs), or a select's node: the select keeps its
        // hub alive and takes the locks itself when it leaves.
        if (n->keeps_hub || n->select) continue;
        n->keeps_hub = true;
        n->delivered = false;
        n->mailbox = &owner;
        ++owner.own_waits;  // on the owner's thread (or once it has exited)
    }
}

void WaitQueue::notify(Node& n) noexcept {
    waiters_.remove(n);
    n.notified = true;
    // On the waiter's own thread: a waiter that keeps its hub (several hubs alive) leaves
    // without the lock (finish_shared). Unread by single-hub waiters.
    n.delivered = true;
    n.fiber->hub()->ready_inline(*n.fiber);
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

namespace detail {

void SpinLock::lock_slow() noexcept {
    for (unsigned spins = 0;; ++spins) {
        if (!locked_.load(std::memory_order_relaxed) &&
            !locked_.exchange(true, std::memory_order_acquire))
            return;
        if (spins < 64)
            __builtin_ia32_pause();
        else
            ::syscall(SYS_sched_yield);  // the holder may have been preempted
    }
}

HubAffinity::HubAffinity(std::initializer_list<WaitQueue*> queues) noexcept {
    for (WaitQueue* q : queues) add(q);
}

void HubAffinity::add(WaitQueue* q) noexcept {
    for (WaitQueue*& slot : queues_) {
        if (slot) continue;
        slot = q;
        q->affinity_ = this;
        return;
    }
    std::abort();  // a primitive with more wait queues than slots: a bug caught by any test
}

void HubAffinity::become_shared() noexcept {
    close_gate();
    for (WaitQueue* q : queues_)
        if (q && home_) q->share(*home_);
    hub_.store(shared_mark(), std::memory_order_release);
}

bool HubAffinity::local_slow() {
    // First, also for a shared object: a plain thread gets its hub here, which the shared
    // path's waits park on.
    Hub& here = Hub::get();
    // Shared is for good (nothing turns it back): every operation of a shared object comes
    // here, and it takes the lock once, in its SharedOps, not twice.
    if (hub_.load(std::memory_order_acquire) == shared_mark()) return false;
    std::shared_ptr<Mailbox> owner;
    {
        std::lock_guard lk(lock_);
        Hub* h = hub_.load(std::memory_order_acquire);
        if (h == shared_mark()) return false;
        if (h == &here) return true;
        if (h == unbound_mark()) {
            home_ = here.mailbox();
            hub_.store(&here, std::memory_order_release);
            return true;
        }
        owner = home_;
    }
    // Bound to another hub: its thread makes the switch, between two of its fibers' steps.
    struct Request {
        HubAffinity* self;
        Fiber* waiter;
        std::shared_ptr<Mailbox> back;
        std::atomic<bool> done{false};
        bool ran = false;
    };
    auto req = std::make_shared<Request>();
    req->self = this;
    req->waiter = here.current();
    req->back = here.mailbox();
    struct Switch {
        std::shared_ptr<Request> r;
        // Dropped unrun: the owner's hub exited, so no thread of it can be mid-operation.
        ~Switch() {
            if (!r || r->ran) return;
            run();
        }
        void run() const {
            r->ran = true;
            {
                std::lock_guard lk(r->self->lock_);
                if (r->self->hub_.load(std::memory_order_relaxed) != shared_mark())
                    r->self->become_shared();
            }
            auto wake = [r = r] {
                r->done.store(true, std::memory_order_release);
                r->waiter->hub()->ready(*r->waiter);
            };
            if (!r->back->post(wake)) r->done.store(true, std::memory_order_release);
        }
        explicit Switch(std::shared_ptr<Request> p) : r(std::move(p)) {}
        Switch(const Switch&) = delete;
        Switch& operator=(const Switch&) = delete;
    };
    // std::function copies its callable: the copies share one Switch, which runs once.
    auto ask = [sw = std::make_shared<Switch>(req)] { sw->run(); };
    HubHandle::KeepAlive keep(here.handle());
    // Refused (the owner's hub has exited): dropping `ask` ran the switch here, and its wake-up
    // is in this hub's mailbox. Either way, wait for it.
    (void)owner->post(std::move(ask));
    while (!req->done.load(std::memory_order_acquire)) here.park_uninterruptible();
    return false;
}

void RemoteWakes::add(WaitQueue::Node& n) noexcept {
    n.next_wake = first_;
    first_ = &n;
    ++n_;
}

void RemoteWakes::post_all() noexcept {
    for (WaitQueue::Node* n = first_; n;) {
        WaitQueue::Node* next = n->next_wake;  // read first: post_wake relinks it
        home_mailbox(*n).post_wake(*n);
        n = next;
    }
}

}  // namespace detail

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
