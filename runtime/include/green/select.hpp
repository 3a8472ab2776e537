// green::select: Go's select over the Queue family and Channel. Waits for the first of several
// gets (recv) and puts (send), with an optional deadline (after) or non-blocking default branch;
// exactly one branch happens and the others leave no trace. Works across hubs and plain threads.
//
//   std::optional<Job> job;
//   switch (green::select(green::recv(jobs, job), green::send(results, r), green::after(1s))) {
//       case 0: ...   // got *job (nullopt: jobs is closed and drained)
//       case 1: ...   // r was put
//       case 2: ...   // a second passed, nothing happened
//   }
#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

#include "green/clock.hpp"
#include "green/detail/park_local.hpp"
#include "green/queue.hpp"

namespace green {

namespace detail {

// One recv or send branch of a select, its queue's type erased. The select holds the queue's
// lock (shared mode) or runs on its hub (single-hub mode) around every call. What others touch
// while the select waits (the node, the slot an item lands in, the item on offer) is a ParkLocal:
// on the heap when the selecting fiber is compact.
class SelectCase {
  public:
    virtual HubAffinity& affinity() const noexcept = 0;
    // Performs the operation if it can happen now; true when it did (or found the queue closed).
    virtual bool poll(RemoteWakes& wakes) = 0;
    // Waits as branch `branch` of `claim` on the queue, without parking; dequeue takes it back.
    virtual void enqueue(Fiber* f, SelectClaim& claim, int branch) noexcept = 0;
    virtual void dequeue() noexcept = 0;
    virtual const WaitQueue::Node& node() const noexcept = 0;
    // The branch was claimed, then its select was interrupted: a received item goes back.
    virtual void give_back(RemoteWakes& wakes) = 0;
    // The branch happened: delivers the outcome (throws QueueClosed for a send on a closed queue).
    virtual void finish() = 0;

  protected:
    ~SelectCase() = default;
};

// The select itself: `n` cases, `order` and `locks` scratch space for n entries each. Returns
// the index of the case that happened, or -1 when none did before `deadline` (or at once, with
// `nowait`).
int select_cases(SelectCase* const* cases, std::size_t n, std::size_t* order, HubAffinity** locks,
                 const Deadline& deadline, bool nowait);

// Queues a branch's node as waiter `branch` of the select that `claim` decides.
template <class List, class Node>
void link_branch(List& list, Node& node, Fiber* f, SelectClaim& claim, int branch) noexcept {
    node.fiber = f;
    node.select = &claim;
    node.branch = branch;
    list.link(node);
}

template <class Q>
class SelectRecv final : public SelectCase {
  public:
    using T = typename Q::value_type;
    SelectRecv(Q& q, std::optional<T>& out) : q_(q), out_(out), s_(running_fiber()) {}
    SelectRecv(const SelectRecv&) = delete;
    SelectRecv& operator=(const SelectRecv&) = delete;

    HubAffinity& affinity() const noexcept override { return q_.owner_; }
    bool poll(RemoteWakes& wakes) override {
        HeldOps ops{wakes};
        return q_.get_now(s_->got, ops) != Q::Status::NotReady;
    }
    void enqueue(Fiber* f, SelectClaim& claim, int branch) noexcept override {
        s_->node.slot = &s_->got;
        link_branch(q_.getters_, s_->node, f, claim, branch);
    }
    void dequeue() noexcept override { q_.getters_.unlink(s_->node); }
    const WaitQueue::Node& node() const noexcept override { return s_->node; }
    void give_back(RemoteWakes& wakes) override {
        if (!s_->got) return;  // claimed by close(): nothing was handed over
        HeldOps ops{wakes};
        q_.redeliver(std::move(*s_->got), ops);
        s_->got.reset();
    }
    void finish() override { out_ = std::move(s_->got); }

  private:
    struct Shared {
        std::optional<T> got;  // filled by whoever hands the item over; out_ only if this won
        typename Q::GetWaiter node;
    };
    Q& q_;
    std::optional<T>& out_;
    ParkLocal<Shared> s_;
};

template <class Q>
class SelectSend final : public SelectCase {
  public:
    using T = typename Q::value_type;
    template <class U>
    SelectSend(Q& q, U&& item) : q_(q), s_(running_fiber(), std::forward<U>(item)) {}
    SelectSend(const SelectSend&) = delete;
    SelectSend& operator=(const SelectSend&) = delete;

    HubAffinity& affinity() const noexcept override { return q_.owner_; }
    bool poll(RemoteWakes& wakes) override {
        HeldOps ops{wakes};
        const auto s = q_.put_now(s_->item, ops);
        s_->node.closed = s == Q::Status::Closed;
        return s != Q::Status::NotReady;
    }
    void enqueue(Fiber* f, SelectClaim& claim, int branch) noexcept override {
        s_->node.item = &s_->item;
        link_branch(q_.putters_, s_->node, f, claim, branch);
    }
    void dequeue() noexcept override { q_.putters_.unlink(s_->node); }
    const WaitQueue::Node& node() const noexcept override { return s_->node; }
    // The item was taken: the put happened, as for an interrupted put().
    void give_back(RemoteWakes&) override {}
    void finish() override {
        if (s_->node.closed) throw QueueClosed();
    }

  private:
    struct Shared {
        template <class U>
        explicit Shared(U&& i) : item(std::forward<U>(i)) {}
        T item;  // taken by the getter that claims this branch
        typename Q::PutWaiter node;
    };
    Q& q_;
    ParkLocal<Shared> s_;
};

// green::after / green::default_case: not queue operations, they shape the wait.
struct SelectAfter {
    Deadline deadline;
};
struct SelectDefault {};

template <class C>
inline constexpr bool kIsSelectCase = std::is_base_of_v<SelectCase, std::remove_cvref_t<C>>;

}  // namespace detail

// A get branch: takes the next item of `q` (Queue, LifoQueue, PriorityQueue, JoinableQueue,
// Channel) into `out`. When q is closed and drained the branch is ready and leaves `out` empty
// (Go's `v, ok := <-ch` with ok false). `out` is written only if this branch happens.
template <class Q>
detail::SelectRecv<Q> recv(Q& q, std::optional<typename Q::value_type>& out) {
    return detail::SelectRecv<Q>(q, out);
}

// A put branch: puts `item` (copied, or moved from an rvalue; an rvalue not put is destroyed
// with the branch) when there is room or, on a Channel, a getter. On a closed queue the branch is
// ready and select throws QueueClosed (Go panics).
template <class Q, class U>
detail::SelectSend<Q> send(Q& q, U&& item) {
    return detail::SelectSend<Q>(q, std::forward<U>(item));
}

// A branch that happens when nothing else did before the deadline (Go's `<-time.After(d)`).
inline detail::SelectAfter after(Deadline deadline) noexcept {
    return {deadline};
}
// A branch that happens at once when no other branch is ready (Go's `default:`).
inline detail::SelectDefault default_case() noexcept {
    return {};
}

// Waits until one of the branches can happen, performs it and returns its index (argument
// position). Branches ready at once are tried in random order, so none starves (as Go). Other
// branches leave no trace: nothing taken, nothing put, no waiter left. Without after() or
// default_case(), waits for ever (LoopExit if nothing could ever wake it). kill() and Timeout
// interrupt it like any wait: a received item goes back to its queue, a put that happened stays.
// At most one after() and one default_case(); with both, default_case wins.
template <class... Branches>
int select(Branches&&... branches) {
    constexpr std::size_t kCases =
        (std::size_t{0} + ... + (detail::kIsSelectCase<Branches> ? 1 : 0));
    static_assert(
        (0 + ... + (std::is_same_v<std::remove_cvref_t<Branches>, detail::SelectAfter> ? 1 : 0)) <=
            1,
        "green::select: at most one after()");
    static_assert(
        (0 + ... +
         (std::is_same_v<std::remove_cvref_t<Branches>, detail::SelectDefault> ? 1 : 0)) <= 1,
        "green::select: at most one default_case()");
    constexpr std::size_t kSlots = kCases ? kCases : 1;
    detail::SelectCase* cases[kSlots];
    int index[kSlots] = {};
    std::size_t order[kSlots];
    detail::HubAffinity* locks[kSlots];
    Deadline deadline;
    int after_index = -1, default_index = -1;
    std::size_t k = 0;
    int i = 0;
    auto add = [&](auto& b) {
        using B = std::remove_cvref_t<decltype(b)>;
        if constexpr (detail::kIsSelectCase<B>) {
            cases[k] = &b;
            index[k++] = i;
        } else if constexpr (std::is_same_v<B, detail::SelectAfter>) {
            deadline = b.deadline;
            after_index = i;
        } else {
            static_assert(std::is_same_v<B, detail::SelectDefault>,
                          "green::select takes recv(), send(), after() and default_case()");
            default_index = i;
        }
        ++i;
    };
    (add(branches), ...);
    const int r = detail::select_cases(cases, kCases, order, locks, deadline, default_index >= 0);
    if (r >= 0) return index[r];
    return default_index >= 0 ? default_index : after_index;
}

}  // namespace green
