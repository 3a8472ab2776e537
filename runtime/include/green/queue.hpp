// gevent.queue in C++: Queue (FIFO), LifoQueue, PriorityQueue, JoinableQueue and Channel (a
// rendezvous). Items may be move-only. Waiting getters and putters are served first come, first
// served, and an item handed to a getter that is killed before it runs goes to the next getter.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "green/clock.hpp"
#include "green/detail/park_local.hpp"
#include "green/wait_queue.hpp"

namespace green {

// get() found nothing before its deadline (gevent's Empty).
class QueueEmpty : public std::runtime_error {
  public:
    QueueEmpty() : std::runtime_error("green::QueueEmpty: no item before the deadline") {}
};
// put() found no room before its deadline (gevent's Full).
class QueueFull : public std::runtime_error {
  public:
    QueueFull() : std::runtime_error("green::QueueFull: no room before the deadline") {}
};
// put() on a closed queue, or get() on a closed queue that has been drained.
class QueueClosed : public std::runtime_error {
  public:
    QueueClosed() : std::runtime_error("green::QueueClosed: the queue is closed") {}
};

namespace detail {

// Counts its items: every bounded put asks size(), which std::deque works out from its map.
template <class T>
class FifoStore {
  public:
    void push(T&& v) {
        d_.push_back(std::move(v));
        ++n_;
    }
    void push_next(T&& v) {  // to be taken next
        d_.push_front(std::move(v));
        ++n_;
    }
    const T& next() const { return d_.front(); }
    T pop() {
        T v = std::move(d_.front());
        d_.pop_front();
        --n_;
        return v;
    }
    std::size_t size() const noexcept { return n_; }
    bool empty() const noexcept { return n_ == 0; }

  private:
    std::deque<T> d_;
    std::size_t n_ = 0;
};

template <class T>
class LifoStore {
  public:
    void push(T&& v) { v_.push_back(std::move(v)); }
    void push_next(T&& v) { v_.push_back(std::move(v)); }
    const T& next() const { return v_.back(); }
    T pop() {
        T v = std::move(v_.back());
        v_.pop_back();
        return v;
    }
    std::size_t size() const noexcept { return v_.size(); }
    bool empty() const noexcept { return v_.empty(); }

  private:
    std::vector<T> v_;
};

// Lowest first (by Compare), as Python's PriorityQueue; equal items leave in arrival order.
template <class T, class Compare>
class PriorityStore {
  public:
    void push(T&& v) { add(std::move(v), next_seq_++); }
    void push_next(T&& v) { add(std::move(v), --front_seq_); }
    const T& next() const { return heap_.front().value; }
    T pop() {
        std::pop_heap(heap_.begin(), heap_.end(), After{&comp_});
        T v = std::move(heap_.back().value);
        heap_.pop_back();
        return v;
    }
    std::size_t size() const noexcept { return heap_.size(); }
    bool empty() const noexcept { return heap_.empty(); }

  private:
    struct Entry {
        T value;
        std::int64_t seq;
    };
    struct After {  // heap order: the top is the entry no other entry comes before
        const Compare* comp;
        bool operator()(const Entry& a, const Entry& b) const {
            if ((*comp)(b.value, a.value)) return true;
            if ((*comp)(a.value, b.value)) return false;
            return a.seq > b.seq;
        }
    };
    void add(T&& v, std::int64_t seq) {
        heap_.push_back(Entry{std::move(v), seq});
        std::push_heap(heap_.begin(), heap_.end(), After{&comp_});
    }

    std::vector<Entry> heap_;
    Compare comp_{};
    std::int64_t next_seq_ = 0;
    std::int64_t front_seq_ = 0;
};

// How one queue operation synchronizes (detail::HubAffinity). LocalOps: the single-hub code,
// no lock. SharedOps: holds the lock from construction; a wait drops it; wake-ups of waiters on
// other hubs are posted when it is destroyed, after the lock (members destroy in reverse order).
// wait_on_stack: for a node on the caller's stack, declined for a compact fiber (StackWait).
struct LocalOps {
    bool wait(WaitQueue& q, WaitQueue::Node& n, const Deadline& d) { return q.wait(n, d); }
    WaitQueue::StackWait wait_on_stack(WaitQueue& q, WaitQueue::Node& n, const Deadline& d) {
        return q.wait_on_stack(n, d);
    }
    void notify(WaitQueue& q, WaitQueue::Node& n) noexcept { q.notify(n); }
    void notify_all(WaitQueue& q) noexcept { q.notify_all(); }
};
struct SharedOps {
    explicit SharedOps(HubAffinity& a) : lk(a.lock()) {}
    bool wait(WaitQueue& q, WaitQueue::Node& n, const Deadline& d) {
        return q.wait_locked(n, d, lk);
    }
    WaitQueue::StackWait wait_on_stack(WaitQueue& q, WaitQueue::Node& n, const Deadline& d) {
        if (hub_running_fiber()->compact()) return WaitQueue::StackWait::Compact;  // lock kept
        return wait(q, n, d) ? WaitQueue::StackWait::Notified : WaitQueue::StackWait::Timeout;
    }
    void notify(WaitQueue& q, WaitQueue::Node& n) noexcept { q.notify_locked(n, wakes); }
    void notify_all(WaitQueue& q) noexcept { q.notify_all_locked(wakes); }
    RemoteWakes wakes;
    std::unique_lock<SpinLock> lk;
};
// green::select: the caller holds the lock of every shared queue it works on (a local one needs
// none) and posts the wake-ups after dropping them all. Never waits.
struct HeldOps {
    RemoteWakes& wakes;
    void notify(WaitQueue& q, WaitQueue::Node& n) noexcept { q.notify_locked(n, wakes); }
    void notify_all(WaitQueue& q) noexcept { q.notify_all_locked(wakes); }
};

template <class Q>
class SelectRecv;
template <class Q>
class SelectSend;

// The queue machinery shared by every flavour; `Store` decides the order. capacity: items the
// buffer holds before put() waits; 0 is a rendezvous (Channel), kUnbounded never waits.
// Usable from any hub and plain thread: single-hub until a second hub uses it (HubAffinity).
template <class T, class Store>
class BasicQueue {
  public:
    using value_type = T;
    static constexpr std::size_t kUnbounded = static_cast<std::size_t>(-1);

    explicit BasicQueue(std::size_t capacity) : cap_(capacity) {}
    BasicQueue(const BasicQueue&) = delete;
    BasicQueue& operator=(const BasicQueue&) = delete;

    // Adds an item, waiting for room up to `deadline`: QueueFull when it passes, QueueClosed
    // after close(). A zero deadline does not wait.
    [[gnu::always_inline]] void put(T item, Deadline deadline = {}) {
        check(put_any(item, deadline), true);
    }
    void put_nowait(T item) { put(std::move(item), Deadline(Duration::zero())); }
    // Non-throwing put: true when the item was taken (only then is it moved from).
    bool try_put(T&& item, Deadline deadline = Deadline(Duration::zero())) {
        return put_any(item, deadline) == Status::Ok;
    }
    bool try_put(const T& item, Deadline deadline = Deadline(Duration::zero())) {
        T copy(item);
        return try_put(std::move(copy), deadline);
    }

    // Removes and returns the next item, waiting up to `deadline`: QueueEmpty when it passes,
    // QueueClosed once the queue is closed and drained.
    [[gnu::always_inline]] T get(Deadline deadline = {}) {
        std::optional<T> out;
        check(get_any(out, deadline), false);
        return std::move(*out);
    }
    T get_nowait() { return get(Deadline(Duration::zero())); }
    // Non-throwing get: nullopt on deadline or when closed and drained.
    std::optional<T> try_get(Deadline deadline = Deadline(Duration::zero())) {
        std::optional<T> out;
        if (get_any(out, deadline) != Status::Ok) out.reset();
        return out;
    }

    // A copy of the item get() would return next, without removing it; waits up to `deadline`
    // for one to be buffered (QueueEmpty / QueueClosed as get()). Items handed straight to
    // waiting getters are never seen by peek, as in gevent.
    T peek(Deadline deadline = {}) {
        enum { kWaited, kGot, kClosed, kEmpty };
        for (;;) {
            // One wait per turn, each turn a fresh operation: the queue may become shared
            // while this fiber waits.
            std::optional<T> got;
            const int r = operate([&](auto& ops) {
                if (!store_.empty()) {
                    got.emplace(store_.next());
                    return kGot;
                }
                if (closed_) return kClosed;
                if (deadline.expired()) return kEmpty;
                const detail::ParkLocal<WaitQueue::Node> w(detail::running_fiber());
                ops.wait(peekers_, *w, deadline);
                return kWaited;
            });
            if (r == kGot) return std::move(*got);
            if (r == kClosed) throw QueueClosed();
            if (r == kEmpty) throw QueueEmpty();
        }
    }
    std::optional<T> try_peek() const {
        return read([this]() -> std::optional<T> {
            if (store_.empty()) return std::nullopt;
            return store_.next();
        });
    }

    // No more puts: waiting putters get QueueClosed, getters drain what is buffered, then get
    // QueueClosed (iteration ends). Idempotent.
    void close() {
        if (owner_.local()) [[likely]] {
            LocalOps ops;
            return close_impl(ops);
        }
        SharedOps ops(owner_);
        close_impl(ops);
    }
    bool closed() const noexcept {
        return read([this] { return closed_; });
    }

    // Buffered items (waiting putters' items not included, as gevent's qsize).
    std::size_t size() const noexcept {
        return read([this] { return store_.size(); });
    }
    bool empty() const noexcept { return size() == 0; }
    bool full() const noexcept { return cap_ != kUnbounded && size() >= cap_; }
    // 0 when unbounded (or a rendezvous Channel).
    std::size_t maxsize() const noexcept { return cap_ == kUnbounded ? 0 : cap_; }
    std::size_t getters_waiting() const noexcept {
        return read([this] { return getters_.size(); });
    }
    std::size_t putters_waiting() const noexcept {
        return read([this] { return putters_.size(); });
    }

    // Iterates by get() until the queue is closed and drained: for (auto& item : q) ...
    class iterator {
      public:
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        iterator(BasicQueue* q, const T* stop) : q_(q), stop_(stop) { advance(); }
        T& operator*() { return *cur_; }
        T* operator->() { return &*cur_; }
        iterator& operator++() {
            advance();
            return *this;
        }
        bool operator==(const iterator& o) const { return !cur_ && !o.cur_; }

      private:
        void advance() {
            cur_.reset();
            if (q_->get_any(cur_, Deadline{}) != Status::Ok || (stop_ && *cur_ == *stop_))
                cur_.reset();
        }
        BasicQueue* q_ = nullptr;
        const T* stop_ = nullptr;
        std::optional<T> cur_;
    };
    iterator begin() { return iterator(this, nullptr); }
    iterator end() { return iterator(); }

    // Iterates until an item equal to `sentinel` is got (it is consumed, not yielded), or close.
    class Until {
      public:
        Until(BasicQueue& q, T sentinel) : q_(&q), sentinel_(std::move(sentinel)) {}
        iterator begin() { return iterator(q_, &sentinel_); }
        iterator end() { return iterator(); }

      private:
        BasicQueue* q_;
        T sentinel_;
    };
    Until until(T sentinel) { return Until(*this, std::move(sentinel)); }

  protected:
    // Runs f() as an operation of this queue: without the lock on the owning hub while the
    // queue is single-hub, under it otherwise. f gets the ops (LocalOps / SharedOps).
    template <class F>
    decltype(auto) operate(F&& f) {
        if (owner_.local()) [[likely]] {
            LocalOps ops;
            return f(ops);
        }
        SharedOps ops(owner_);
        return f(ops);
    }
    // A read of the state: under the lock once shared.
    template <class F>
    auto read(F f) const noexcept(noexcept(f())) {
        if (!owner_.shared()) return f();
        std::lock_guard lk(owner_.lock());
        return f();
    }
    // After a wait threw: runs f with ops that match the queue's mode now (it may have become
    // shared during the wait); SharedOps' wait returned without the lock, so it is taken again.
    template <class Ops, class F>
    void after_wait(Ops& ops, F&& f) {
        if constexpr (std::is_same_v<Ops, SharedOps>) {
            ops.lk.lock();
            f(ops);
        } else if (owner_.shared()) {
            SharedOps shared(owner_);
            f(shared);
        } else {
            f(ops);
        }
    }
    std::size_t accepted_ = 0;  // items ever accepted (JoinableQueue counts tasks with it)

  private:
    template <class Q>
    friend class SelectRecv;
    template <class Q>
    friend class SelectSend;
    enum class Status { Ok, Timeout, Closed, NotReady };
    struct GetWaiter : WaitQueue::Node {
        std::optional<T>* slot = nullptr;
    };
    struct PutWaiter : WaitQueue::Node {
        T* item = nullptr;
        bool closed = false;
    };
    // A compact fiber's waiters, on the heap, carry the item themselves: the caller's variables
    // are on a stack that is copied away while it waits (stack_mode.hpp).
    struct HeldGet : GetWaiter {
        std::optional<T> held;
    };
    struct HeldPut : PutWaiter {
        std::optional<T> held;
    };

    static void check(Status s, bool putting) {
        if (s == Status::Ok) return;
        if (s == Status::Closed) throw QueueClosed();
        if (putting) throw QueueFull();
        throw QueueEmpty();
    }

    // The shared-mode halves are separate functions: inlined together, the lock's state and
    // unwinding made every single-hub put and get save and restore twice the registers.
    // The single-hub waits are inlined as well (one call, WaitQueue::wait, down to the switch):
    // out of line, a bound-1 stream took ~1.25x f6f6a9a's time at the same instruction count,
    // most of it sampled on the returns after the switch (bench/README.md).
    // The single-hub path, from put()/get() down to put_now()/get_now(), is inlined by force:
    // left to the heuristics, an unrelated header change made the compiler call parts of it out
    // of line, ~30 instructions more per round trip.
    [[gnu::always_inline]] Status put_any(T& item, const Deadline& deadline) {
        if (owner_.local()) [[likely]] {
            LocalOps ops;
            if (const Status s = put_now(item, ops); s != Status::NotReady) [[likely]]
                return s;
            return put_wait(item, deadline, ops);
        }
        return put_shared(item, deadline);
    }
    [[gnu::always_inline]] Status get_any(std::optional<T>& out, const Deadline& deadline) {
        if (owner_.local()) [[likely]] {
            LocalOps ops;
            if (const Status s = get_now(out, ops); s != Status::NotReady) [[likely]]
                return s;
            return get_wait(out, deadline, ops);
        }
        return get_shared(out, deadline);
    }
    [[gnu::noinline]] Status put_shared(T& item, const Deadline& deadline) {
        SharedOps ops(owner_);
        return put_impl(item, deadline, ops);
    }
    [[gnu::noinline]] Status get_shared(std::optional<T>& out, const Deadline& deadline) {
        SharedOps ops(owner_);
        return get_impl(out, deadline, ops);
    }

    // The part of a put that does not wait: Ok, Closed, or NotReady (no room).
    template <class Ops>
    [[gnu::always_inline]] Status put_now(T& item, Ops& ops) {
        if (closed_) return Status::Closed;
        if (WaitQueue::Node* w =
                getters_.claim_front()) {  // a getter waits: the buffer is empty, hand over
            static_cast<GetWaiter*>(w)->slot->emplace(std::move(item));
            ++accepted_;
            ops.notify(getters_, *w);
            return Status::Ok;
        }
        // Waiting putters go first (a select's node whose select went another way does not count).
        if ((putters_.empty() || !putters_.live_waiter()) && store_.size() < cap_) {
            store_.push(std::move(item));
            ++accepted_;
            if (!peekers_.empty()) ops.notify_all(peekers_);
            return Status::Ok;
        }
        return Status::NotReady;
    }

    template <class Ops>
    Status put_impl(T& item, const Deadline& deadline, Ops& ops) {
        if (const Status s = put_now(item, ops); s != Status::NotReady) return s;
        return put_wait(item, deadline, ops);
    }
    // After put_now found no room.
    template <class Ops>
    Status put_wait(T& item, const Deadline& deadline, Ops& ops) {
        if (deadline.expired()) return Status::Timeout;
        PutWaiter w;
        w.item = &item;
        // Interrupted after a getter took the item: the put happened; nothing to undo.
        switch (ops.wait_on_stack(putters_, w, deadline)) {
            case WaitQueue::StackWait::Notified:
                return w.closed ? Status::Closed : Status::Ok;
            case WaitQueue::StackWait::Timeout:
                return Status::Timeout;
            case WaitQueue::StackWait::Compact:
                break;
        }
        return put_wait_compact(item, deadline, ops);
    }
    template <class Ops>
    [[gnu::noinline]] Status put_wait_compact(T& item, const Deadline& deadline, Ops& ops) {
        const auto w = std::make_unique<HeldPut>();
        w->item = &w->held.emplace(std::move(item));
        struct GiveBack {  // not taken (timeout, closed, interrupted): the caller keeps it
            HeldPut& w;
            T& item;
            ~GiveBack() {
                if (!w.notified || w.closed) item = std::move(*w.held);
            }
        } give_back{*w, item};
        if (!ops.wait(putters_, *w, deadline)) return Status::Timeout;
        return w->closed ? Status::Closed : Status::Ok;
    }

    // The part of a get that does not wait: Ok, Closed (and drained), or NotReady (nothing yet).
    template <class Ops>
    [[gnu::always_inline]] Status get_now(std::optional<T>& out, Ops& ops) {
        if (!store_.empty()) {
            out.emplace(store_.pop());
            refill(ops);
            return Status::Ok;
        }
        if (WaitQueue::Node* w =
                putters_.claim_front()) {  // rendezvous: take straight from a waiting putter
            out.emplace(std::move(*static_cast<PutWaiter*>(w)->item));
            ++accepted_;
            ops.notify(putters_, *w);
            return Status::Ok;
        }
        return closed_ ? Status::Closed : Status::NotReady;
    }

    template <class Ops>
    Status get_impl(std::optional<T>& out, const Deadline& deadline, Ops& ops) {
        if (const Status s = get_now(out, ops); s != Status::NotReady) return s;
        return get_wait(out, deadline, ops);
    }
    // After get_now found nothing.
    template <class Ops>
    Status get_wait(std::optional<T>& out, const Deadline& deadline, Ops& ops) {
        if (deadline.expired()) return Status::Timeout;
        GetWaiter w;
        w.slot = &out;
        if (const Status s = get_waited<true>(w, out, deadline, ops); s != Status::NotReady)
            return s;
        return get_wait_compact(out, deadline, ops);
    }
    template <class Ops>
    [[gnu::noinline]] Status get_wait_compact(std::optional<T>& out, const Deadline& deadline,
                                              Ops& ops) {
        const auto w = std::make_unique<HeldGet>();
        w->slot = &w->held;
        struct Land {  // the item, from the waiter to the caller, also when interrupted
            HeldGet& w;
            std::optional<T>& out;
            ~Land() {
                if (w.held) out = std::move(w.held);
            }
        };
        return get_waited<false>(*w, out, deadline, ops, [&] { return Land{*w, out}; });
    }
    struct NoLanding {
        int operator()() const noexcept { return 0; }
    };
    // The wait of a get; `landing` makes the guard that hands a compact waiter's item over.
    // kOnStack: `w` is on the stack, and a compact fiber gets NotReady (to wait with a heap node).
    template <bool kOnStack, class Ops, class Landing = NoLanding>
    Status get_waited(GetWaiter& w, std::optional<T>& out, const Deadline& deadline, Ops& ops,
                      Landing landing = {}) {
        try {
            [[maybe_unused]] const auto land = landing();
            if constexpr (kOnStack) {
                const WaitQueue::StackWait waited = ops.wait_on_stack(getters_, w, deadline);
                if (waited == WaitQueue::StackWait::Compact) return Status::NotReady;
                if (waited == WaitQueue::StackWait::Timeout) return Status::Timeout;
            } else if (!ops.wait(getters_, w, deadline)) {
                return Status::Timeout;
            }
        } catch (...) {
            if (out) {  // handed an item, then killed: it belongs to the next getter
                after_wait(ops, [&](auto& now) { redeliver(std::move(*out), now); });
                out.reset();
            }
            throw;
        }
        return out ? Status::Ok : Status::Closed;
    }

    template <class Ops>
    void close_impl(Ops& ops) {
        closed_ = true;
        while (WaitQueue::Node* w = getters_.claim_front())
            ops.notify(getters_, *w);  // no item: closed
        while (WaitQueue::Node* w = putters_.claim_front()) {
            static_cast<PutWaiter*>(w)->closed = true;
            ops.notify(putters_, *w);
        }
        ops.notify_all(peekers_);
    }

    // Room appeared: the longest-waiting putters' items move into the buffer.
    template <class Ops>
    void refill(Ops& ops) {
        while (store_.size() < cap_) {
            WaitQueue::Node* w = putters_.claim_front();
            if (!w) break;
            store_.push(std::move(*static_cast<PutWaiter*>(w)->item));
            ++accepted_;
            ops.notify(putters_, *w);
        }
    }

    // An accepted item whose getter was interrupted: next getter, or the front of the buffer
    // (possibly one over capacity: it was accepted already).
    template <class Ops>
    void redeliver(T&& item, Ops& ops) {
        if (WaitQueue::Node* w = getters_.claim_front()) {
            static_cast<GetWaiter*>(w)->slot->emplace(std::move(item));
            ops.notify(getters_, *w);
        } else {
            store_.push_next(std::move(item));
            if (!peekers_.empty()) ops.notify_all(peekers_);
        }
    }

    Store store_;
    std::size_t cap_;
    WaitQueue getters_{detail::WaitKind::QueueGet};
    WaitQueue putters_{detail::WaitKind::QueuePut};
    WaitQueue peekers_{detail::WaitKind::QueuePeek};
    bool closed_ = false;

  protected:
    // After the wait queues it converts; JoinableQueue adds its own.
    mutable HubAffinity owner_{&getters_, &putters_, &peekers_};
};

}  // namespace detail

// FIFO queue. maxsize 0 (the default) is unbounded, as Python's queue.Queue.
template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoStore<T>> {
    using Base = detail::BasicQueue<T, detail::FifoStore<T>>;

  public:
    explicit Queue(std::size_t maxsize = 0) : Base(maxsize == 0 ? Base::kUnbounded : maxsize) {}
};

// Last in, first out.
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::LifoStore<T>> {
    using Base = detail::BasicQueue<T, detail::LifoStore<T>>;

  public:
    explicit LifoQueue(std::size_t maxsize = 0) : Base(maxsize == 0 ? Base::kUnbounded : maxsize) {}
};

// Lowest item first by Compare (Python's PriorityQueue); equal items in arrival order.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, detail::PriorityStore<T, Compare>> {
    using Base = detail::BasicQueue<T, detail::PriorityStore<T, Compare>>;

  public:
    explicit PriorityQueue(std::size_t maxsize = 0)
        : Base(maxsize == 0 ? Base::kUnbounded : maxsize) {}
};

// A FIFO queue that counts unfinished tasks: every accepted item is one, task_done() finishes
// one, join() waits until none is left.
template <class T>
class JoinableQueue : public Queue<T> {
  public:
    explicit JoinableQueue(std::size_t maxsize = 0) : Queue<T>(maxsize) {
        this->owner_.add(&all_done_);
    }

    void task_done() {
        this->operate([this](auto& ops) {
            if (done_ >= this->accepted_)
                throw std::logic_error(
                    "green::JoinableQueue: task_done() called more times than items were put");
            if (++done_ == this->accepted_) ops.notify_all(all_done_);
        });
    }
    // Waits until every accepted item was marked done (true) or the deadline (false).
    bool join(Deadline deadline = {}) {
        for (;;) {
            // One wait per turn, each turn a fresh operation: the queue may become shared
            // while this fiber waits.
            const int r = this->operate([&](auto& ops) {
                if (this->accepted_ == done_) return 1;
                if (deadline.expired()) return 0;
                const detail::ParkLocal<WaitQueue::Node> w(detail::running_fiber());
                ops.wait(all_done_, *w, deadline);
                return -1;
            });
            if (r >= 0) return r == 1;
        }
    }
    std::size_t unfinished_tasks() const noexcept {
        return this->read([this] { return this->accepted_ - done_; });
    }

  private:
    std::size_t done_ = 0;
    WaitQueue all_done_{detail::WaitKind::QueueJoin};
};

// A rendezvous (gevent's Channel, a Go unbuffered channel): put() waits until a getter takes
// the item, get() until a putter brings one.
template <class T>
class Channel : public detail::BasicQueue<T, detail::FifoStore<T>> {
    using Base = detail::BasicQueue<T, detail::FifoStore<T>>;

  public:
    Channel() : Base(0) {}
};

}  // namespace green
