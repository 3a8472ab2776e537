// WaitQueue: the one parking primitive every coordination object is built from — a FIFO of
// fibers waiting for a notification, with deadline and kill support. Hub-thread only.
#pragma once

#include <atomic>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <mutex>

#include "green/clock.hpp"
#include "green/detail/hub_head.hpp"
#include "green/detail/intrusive_list.hpp"
#include "green/detail/wait_reason.hpp"

namespace green {

class WaitQueue;

namespace detail {
class Fiber;
class Hub;
struct Mailbox;

// A lock for the short critical sections of shared primitives (a few list and counter
// updates): spins, then yields the CPU. Not a std::mutex: under the preload, pthread mutexes are
// turned into fiber mutexes, and the runtime must not lean on what it implements.
class SpinLock {
  public:
    void lock() noexcept {
        if (!locked_.exchange(true, std::memory_order_acquire)) [[likely]]
            return;
        lock_slow();
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

  private:
    void lock_slow() noexcept;
    std::atomic<bool> locked_{false};
};

// Which hubs a primitive (Semaphore, Lock, RLock, the Queue family, Channel) serves, and so how
// it synchronizes. Memory-ordering rules (the README's Multi-core section):
//  - Single-hub mode: bound to the hub of the first thread that used it; only that hub's thread
//    touches the object, without atomics or locks: today's cost, one pointer comparison per call.
//  - Shared mode: every access, by any thread, holds lock(); a waiter on another hub is handed
//    what it waited for (a permit, an item) under the lock and woken through its hub's mailbox.
//  - The switch is one way, and it is made by the owning hub's own thread, between two of its
//    fibers' steps: the first call from another hub posts the switch to the owner's mailbox and
//    waits (uninterruptibly) until it is done. The owner's code that read "single-hub" can then
//    not be half-way through an operation, and everything it wrote is visible to the other
//    thread (mailbox mutex, then the hub_ store with release, read with acquire).
//  - Waiters parked in single-hub mode at the switch are marked there (Node::keeps_hub) and finish
//    their wait under the lock, keeping their place in line.
// The owning hub's thread must run its loop for the switch to happen: a thread blocked outside
// green (std::thread::join, a long computation) delays the other hub's first call until it
// returns to its hub. If the owner's thread has exited, the caller switches it itself.
class HubAffinity {
  public:
    // The wait queues of the object, converted at the switch.
    HubAffinity(std::initializer_list<WaitQueue*> queues) noexcept;
    void add(WaitQueue* queue) noexcept;  // at construction, before any use; 4 queues at most
    HubAffinity(const HubAffinity&) = delete;
    HubAffinity& operator=(const HubAffinity&) = delete;

    // True on the owning hub while single-hub (the caller goes on without the lock); binds an
    // unbound object to the calling thread's hub. False once shared: the caller takes lock().
    bool local() {
        if (hub_.load(std::memory_order_relaxed) == t_hub) [[likely]]
            return true;
        return local_slow();
    }
    // True once shared (on the owning thread, in single-hub mode, it cannot change under it).
    bool shared() const noexcept { return hub_.load(std::memory_order_acquire) == shared_mark(); }
    SpinLock& lock() const noexcept { return lock_; }

    // A gate for a primitive's inline path that may skip every other test (Semaphore's: open
    // only while nobody waits). Open: the owning hub, single-hub mode, and the primitive said so
    // (open_gate_here() on the owning thread after local()). Closed again by the primitive before
    // it parks a waiter, and by the switch to shared mode. One load and one comparison with the
    // thread's hub, so an uncontended lock and unlock cost what they did before hubs were shared.
    [[gnu::always_inline]] bool gate_open_here() const noexcept { return gate() == t_hub; }
    void open_gate_here() noexcept { set_gate(t_hub); }  // after local(), before any park
    void close_gate() noexcept { set_gate(unbound_mark()); }

  private:
    friend class green::WaitQueue;
    static Hub* unbound_mark() noexcept {
        return reinterpret_cast<Hub*>(alignof(std::max_align_t));
    }
    static Hub* shared_mark() noexcept {
        return reinterpret_cast<Hub*>(2 * alignof(std::max_align_t));
    }
    bool local_slow();
    // The gate is a plain pointer, not an atomic, so that the compiler may keep it in a register
    // between an acquire and the release after it. Only the owning thread writes it (and, once the
    // owner has exited, the thread that makes the switch); a thread of another hub reads it and
    // finds anything but its own hub, so a stale value sends it to the slow path as the current
    // one does. ThreadSanitizer builds read and write it as a relaxed atomic, which it is in
    // effect on every target (an aligned pointer).
    Hub* gate() const noexcept {
#if defined(__SANITIZE_THREAD__)
        return __atomic_load_n(&gate_, __ATOMIC_RELAXED);
#else
        return gate_;
#endif
    }
    void set_gate(Hub* h) noexcept {
#if defined(__SANITIZE_THREAD__)
        __atomic_store_n(&gate_, h, __ATOMIC_RELAXED);
#else
        gate_ = h;
#endif
    }
    void become_shared() noexcept;  // on the owner's thread, or once the owner has exited

    std::atomic<Hub*> hub_{unbound_mark()};
    // Never nullptr when closed: a thread without a hub has t_hub == nullptr.
    Hub* gate_ = unbound_mark();
    mutable SpinLock lock_;
    std::shared_ptr<Mailbox> home_;  // the owner's mailbox; under lock_
    WaitQueue* queues_[4] = {};
};

class RemoteWakes;

// The decision of one green::select call (select.hpp). Each of its branches waits as a node on
// its queue; a notifier that reaches such a node claims the select for that branch (a CAS, under
// the queue's lock or on its single hub), and one that finds it decided already drops the node
// and moves on, so exactly one branch happens (Go's selectDone).
struct SelectClaim {
    static constexpr int kOpen = -1;
    static constexpr int kCancelled = -2;  // the select's deadline or an interrupt came first
    std::atomic<int> winner{kOpen};
    bool claim(int branch) noexcept {
        int open = kOpen;
        return winner.compare_exchange_strong(open, branch, std::memory_order_acq_rel,
                                              std::memory_order_acquire);
    }
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
        // Shared mode (detail::HubAffinity): the waiter holds a KeepAlive on its hub and leaves
        // under the lock. Set on the waiter's own thread.
        bool keeps_hub = false;
        // Shared mode: set by the waiter's own hub thread when it readies the waiter for its
        // notification (a mailbox wake, or a notifier on the same hub): the notifier's writes
        // are visible and nobody touches the node any more, so the waiter reads it without the
        // lock. Cleared by the waiter before it parks.
        bool delivered = false;
        // A notifier on another hub picked it and posted its wake-up, which has not run yet:
        // the waiter may not return (the node is on its stack) until it has.
        std::atomic<bool> wake_in_flight{false};
        Node* next_wake;  // detail::RemoteWakes: set when added there (one store less per wait)
        // Shared mode: the waiter's hub's mailbox, so that a notifier on another hub posts the
        // wake-up without reading the waiter's Fiber and Hub (lines that hub writes as it runs).
        // nullptr: found through `fiber`.
        detail::Mailbox* mailbox = nullptr;
        // A branch of a green::select: `select` decides whether a notifier may take this node.
        detail::SelectClaim* select = nullptr;
        int branch;  // read only where select is set
    };

    // Explicit form: parks the current fiber as `n` (the caller owns it) until notify(n) (true)
    // or the deadline (false); `n` is unlinked on every exit. When this throws, n.notified
    // tells the caller whether it was handed something it must pass on or give back.
    // Waiters of two different hubs on one queue are refused (std::logic_error).
    bool wait(Node& n, Deadline deadline);
    // wait(n, deadline) for a node on the caller's stack, which a compact fiber may not park on
    // (its stack is copied away while it waits): for one, returns Compact at once, `n` not queued,
    // and the caller waits again with its node on the heap. Costs nothing over wait(): the
    // compact test is one the wait makes anyway.
    enum class StackWait : unsigned char { Timeout, Notified, Compact };
    StackWait wait_on_stack(Node& n, Deadline deadline);
    // The longest waiter, or nullptr.
    Node* front() const noexcept { return waiters_.front(); }
    // The longest waiter that may take a hand-off now, or nullptr. A select's node (select.hpp)
    // is claimed for its branch first, and dropped when another branch of its select won; the
    // caller must then hand off to the node it got and notify it. Under the owning object's lock
    // in shared mode.
    Node* claim_front() noexcept {
        for (;;) {
            Node* n = waiters_.front();
            if (!n || !n->select) [[likely]]
                return n;
            if (n->select->claim(n->branch)) return n;
            waiters_.remove(*n);
        }
    }
    // True when a waiter is queued that may still take a hand-off; drops the nodes in front whose
    // select went another way.
    bool live_waiter() noexcept {
        for (;;) {
            Node* n = waiters_.front();
            if (!n) return false;
            if (!n->select ||
                n->select->winner.load(std::memory_order_acquire) == detail::SelectClaim::kOpen)
                return true;
            waiters_.remove(*n);
        }
    }
    // For green::select, which parks on several queues at once: queue `n` (its fiber set) without
    // parking, and take it out again (no-op when a notifier did already). Under the owning
    // object's lock in shared mode.
    void link(Node& n) noexcept { waiters_.push_back(n); }
    void unlink(Node& n) noexcept { waiters_.remove(n); }
    // Unlinks `n`, marks it notified and makes its fiber runnable. The fiber runs later, never
    // inside this call, so the notifier may still fill the node afterwards.
    void notify(Node& n) noexcept;

    // Shared mode (detail::HubAffinity), with the affinity's lock held by `lk`: parks the current
    // fiber as `n` as wait(n, deadline) does. Returns, or throws, with the lock released.
    bool wait_locked(Node& n, Deadline deadline, std::unique_lock<detail::SpinLock>& lk);
    // With the lock held: unlinks `n`, marks it notified and wakes its fiber, now on this hub,
    // or through its hub's mailbox once `wakes` goes out of scope (after the lock is dropped).
    void notify_locked(Node& n, detail::RemoteWakes& wakes) noexcept;
    void notify_all_locked(detail::RemoteWakes& wakes) noexcept {
        while (Node* n = waiters_.front()) notify_locked(*n, wakes);
    }

  private:
    friend class detail::HubAffinity;
    // At the switch to shared mode, on the owner's thread: its waiters will leave under the lock.
    void share(detail::Mailbox& owner) noexcept;
    friend class Semaphore;
    // wait(deadline) with a node of its own: on the stack, or (compact fibers) on the heap.
    [[gnu::always_inline]] bool wait_as(detail::Hub& hub, detail::Fiber* self, Node& n,
                                        const Deadline& deadline);
    bool wait_heap_node(detail::Hub& hub, detail::Fiber* self, Deadline deadline);
    // wait(n, deadline), inline (runtime/src/wait_queue_inline.hpp): for the runtime's own waits,
    // given the calling thread's hub and its running fiber, which the caller has at hand.
    // kOnStack: `n` is on the caller's stack, and a compact fiber's wait returns Compact.
    template <bool kOnStack = false>
    [[gnu::always_inline]] StackWait wait_here(detail::Hub& hub, detail::Fiber* self, Node& n,
                                               const Deadline& deadline);
    bool wait_keeping_hub(Node& n, Deadline deadline);
    bool finish_keeping_hub(Node& n, Deadline deadline, bool woke);
    bool finish_shared(Node& n, Deadline deadline, bool woke);
    void leave(Node& n) noexcept;
    void leave_shared(Node& n) noexcept;

    detail::IntrusiveList<Node> waiters_;
    detail::HubAffinity* affinity_ = nullptr;
    detail::WaitKind kind_ = detail::WaitKind::WaitQueue;
};

namespace detail {
// Posts the mailbox wake-ups a shared primitive's operation decided on, after it dropped the lock
// (the eventfd write stays out of the critical section). Declare it before the lock guard.
class RemoteWakes {
  public:
    RemoteWakes() = default;
    RemoteWakes(const RemoteWakes&) = delete;
    RemoteWakes& operator=(const RemoteWakes&) = delete;
    ~RemoteWakes() {
        if (n_) post_all();
    }
    void add(WaitQueue::Node& n) noexcept;

  private:
    void post_all() noexcept;
    WaitQueue::Node* first_ = nullptr;
    std::size_t n_ = 0;
};
}  // namespace detail

}  // namespace green
