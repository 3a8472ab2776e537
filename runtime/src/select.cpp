// green::select's wait (select.hpp): Go's selectgo on green's queues. Every queue of the select
// is locked at once (shared ones, in address order; single-hub ones need no lock on their own
// hub), the branches are polled in random order, and if none can happen the fiber waits as one
// node per branch; the notifier that claims the select's word picks the branch.
#include "green/select.hpp"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>

#include "green/detail/park_local.hpp"
#include "scheduler.hpp"

namespace green::detail {

namespace {

// The distinct queues of a select, locked and unlocked together. A queue is locked only while
// shared: after bind_all(), each one is either shared or bound to this hub, and only this
// thread can switch the latter to shared, between two of its fibers' steps, never while a
// select runs (so the unlock sees the mode the lock saw).
class LockSet {
  public:
    LockSet(SelectCase* const* cases, std::size_t n, HubAffinity** locks) : locks_(locks) {
        for (std::size_t i = 0; i < n; ++i) locks_[i] = &cases[i]->affinity();
        std::sort(locks_, locks_ + n, std::less<HubAffinity*>());
        n_ = static_cast<std::size_t>(std::unique(locks_, locks_ + n) - locks_);
    }
    // Binds every unbound queue to this hub and has those of other hubs switched to shared (that
    // parks). Afterwards each queue is shared or bound to this hub, and stays so or turns shared.
    void bind_all() {
        for (std::size_t i = 0; i < n_; ++i)
            if (!locks_[i]->shared()) (void)locks_[i]->local();
    }
    bool any_shared() const noexcept {
        for (std::size_t i = 0; i < n_; ++i)
            if (locks_[i]->shared()) return true;
        return false;
    }
    void lock() noexcept {
        for (std::size_t i = 0; i < n_; ++i)
            if (locks_[i]->shared()) locks_[i]->lock().lock();
    }
    void unlock() noexcept {
        for (std::size_t i = n_; i-- > 0;)
            if (locks_[i]->shared()) locks_[i]->lock().unlock();
    }

  private:
    HubAffinity** locks_;
    std::size_t n_ = 0;
};

// Go's fastrand for the poll order: per thread, no lock, not for anything but fairness.
std::uint32_t fast_random() noexcept {
    thread_local std::uint64_t s = reinterpret_cast<std::uintptr_t>(&s) * 0x9E3779B97F4A7C15ull | 1;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<std::uint32_t>(s >> 32);
}

}  // namespace

int select_cases(SelectCase* const* cases, std::size_t n, std::size_t* order, HubAffinity** locks,
                 const Deadline& deadline, bool nowait) {
    Hub& hub = Hub::get();
    LockSet set(cases, n, locks);
    set.bind_all();
    for (std::size_t i = 0; i < n; ++i) {  // Fisher-Yates: a random poll order
        const std::size_t j = fast_random() % (i + 1);
        order[i] = order[j];
        order[j] = i;
    }

    const ParkLocal<SelectClaim> claim(hub.current());  // compact fibers: on the heap
    {
        RemoteWakes wakes;  // posted after the unlock
        set.lock();
        for (std::size_t i = 0; i < n; ++i) {
            SelectCase& c = *cases[order[i]];
            bool done;
            try {
                done = c.poll(wakes);
            } catch (...) {  // an item's move threw: nothing happened
                set.unlock();
                throw;
            }
            if (done) {
                set.unlock();
                c.finish();
                return static_cast<int>(order[i]);
            }
        }
        if (nowait || deadline.expired()) {
            set.unlock();
            return -1;
        }
        for (std::size_t i = 0; i < n; ++i)
            cases[i]->enqueue(hub.current(), *claim, static_cast<int>(i));
        set.unlock();
    }

    // Another hub may claim a branch (the queue is shared, or may become so): no LoopExit
    // meanwhile, as for any wait on a primitive of several hubs. Counted on this hub's thread
    // (Mailbox::own_waits): a HubHandle::KeepAlive costs two locked instructions and, when its
    // count drops to zero, a post to this hub's own mailbox, on every select that waits.
    struct OwnWait {
        Mailbox* mb = nullptr;
        ~OwnWait() {
            if (mb) --mb->own_waits;
        }
    } keep;
    if (g_live_hubs.load(std::memory_order_relaxed) > 1 || set.any_shared()) {
        keep.mb = hub.mailbox().get();
        ++keep.mb->own_waits;
    }
    const WaitNote note(hub.current(), WaitKind::Select, &*claim);
    for (;;) {
        std::exception_ptr interrupted;
        const bool woke = hub.park_capturing(deadline, interrupted);
        int won;
        {
            RemoteWakes wakes;
            set.lock();  // modes re-read: a queue of this hub may have become shared meanwhile
            won = claim->winner.load(std::memory_order_acquire);
            if (won == SelectClaim::kOpen && !interrupted && woke) {
                set.unlock();  // woken, but no branch decided: wait on
                continue;
            }
            // Under every lock, so no notifier is between its claim and its hand-off.
            if (won == SelectClaim::kOpen && claim->claim(SelectClaim::kCancelled))
                won = SelectClaim::kCancelled;
            for (std::size_t i = 0; i < n; ++i) cases[i]->dequeue();
            if (won >= 0 && interrupted) {
                try {
                    cases[won]->give_back(wakes);
                } catch (...) {  // the item's move threw: it is lost, the interrupt stays
                }
            }
            set.unlock();
        }
        if (won >= 0) {
            // Claimed from another hub: its wake-up is on the way and will ready this fiber, so
            // the node must outlive it.
            const WaitQueue::Node& node = cases[won]->node();
            while (node.wake_in_flight.load(std::memory_order_acquire)) hub.park_uninterruptible();
        }
        if (interrupted) std::rethrow_exception(interrupted);
        if (won < 0) return -1;
        cases[won]->finish();
        return won;
    }
}

}  // namespace green::detail
