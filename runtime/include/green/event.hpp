// gevent.event in C++: Event (a flag fibers wait for) and AsyncResult<T> (a value or an
// exception delivered once to many waiters). Both are Waitables, so green::wait/iwait take them,
// and both may be set from any OS thread: the waiters' hub is woken through its mailbox.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "green/clock.hpp"
#include "green/greenlet.hpp"
#include "green/hub.hpp"
#include "green/wait_queue.hpp"
#include "green/waitable.hpp"

namespace green {

// Tag for objects another OS thread will set: their waiters hold a HubHandle::KeepAlive, so a
// wait for that thread ends with the set, not with LoopExit. Without it cross-thread set() works
// too, but a fiber that has nothing else to wake its hub gets LoopExit (gevent's behaviour) unless
// the program holds a KeepAlive itself.
struct CrossThread {
    explicit CrossThread() = default;
};
inline constexpr CrossThread cross_thread{};

namespace detail {

class Hub;

// The hub an Event or AsyncResult belongs to: the one its first waiter (or link) ran on. Other
// threads reach it through its mailbox; deliveries still in flight when the object dies are
// dropped, never run on freed memory. Fibers of other hubs wait too, "away": on a list under the
// lock, each woken through its own hub's mailbox when the object becomes ready.
class HubBinding {
  public:
    explicit HubBinding(bool cross = false) noexcept : cross_(cross) {}
    HubBinding(const HubBinding&) = delete;
    HubBinding& operator=(const HubBinding&) = delete;
    ~HubBinding();

    // Called by a fiber before it waits or links: binds to its hub, or checks that it is the
    // bound one (std::logic_error otherwise).
    void bind();
    // The same without the check: false when bound to another hub (the caller waits away).
    bool try_bind();
    // A fiber of a hub other than the bound one waits until wake_away() (true) or the deadline
    // (false); throws what kill() or a Timeout delivers. ready(object) is checked under the lock
    // before parking; the setter makes the object ready with a seq_cst store or exchange, then
    // calls wake_away() (which reads the count of away waiters after it).
    bool wait_away(bool (*ready)(const void*), const void* object, WaitKind kind,
                   Deadline deadline);
    // Any thread, once the object is ready: wakes the waiters of other hubs.
    void wake_away() noexcept {
        if (away_count_.load(std::memory_order_seq_cst) != 0) [[unlikely]]
            wake_away_slow();
    }
    // True on the bound hub's thread.
    bool at_home() const noexcept;
    // For another thread: hold the lock while changing shared state, then post_locked().
    std::unique_lock<std::mutex> lock() const { return std::unique_lock(mu_); }
    // With lock() held: runs `fn` on the bound hub's thread soon (unless this object is
    // destroyed first); false when nothing is bound yet, i.e. nobody waits.
    bool post_locked(std::function<void()> fn);

    bool cross_thread() const noexcept { return cross_.load(std::memory_order_relaxed); }
    void set_cross_thread(bool on) noexcept { cross_.store(on, std::memory_order_relaxed); }
    // Held by a fiber waiting on a cross-thread object (empty otherwise).
    HubHandle::KeepAlive keep_alive() const;

  private:
    struct Token {
        std::atomic<bool> alive{true};
    };
    struct AwayWaiter {
        AwayWaiter* prev = nullptr;
        AwayWaiter* next = nullptr;
        bool linked = false;
        bool notified = false;  // under mu_
        Fiber* fiber = nullptr;
        std::atomic<bool> wake_in_flight{false};
    };
    void wake_away_slow() noexcept;
    IntrusiveList<AwayWaiter> away_;  // under mu_
    std::atomic<std::size_t> away_count_{0};
    std::atomic<Hub*> hub_{nullptr};
    mutable std::mutex mu_;
    HubHandle handle_;              // set once, under mu_, when bound
    std::shared_ptr<Token> token_;  // under mu_; shared with posted deliveries
    std::atomic<bool> cross_;
};

}  // namespace detail

// A flag that fibers wait for. set() wakes every waiter (in the order they started waiting);
// clear() resets it. wait() on a set Event returns at once.
class Event final : public Waitable {
  public:
    Event() = default;
    explicit Event(CrossThread) : binding_(true) {}
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    ~Event() override = default;

    // Any thread. From a thread other than the waiters' hub, the flag is visible at once and the
    // waiters wake on their hub shortly after.
    void set();
    void clear() noexcept { flag_.store(false, std::memory_order_release); }
    bool is_set() const noexcept { return flag_.load(std::memory_order_acquire); }

    // Waits until set (true) or the deadline (false). Throws what kill() or a Timeout delivers.
    // A waiter woken by set() returns true even if clear() followed (gevent, CPython issue 13502).
    bool wait(Deadline deadline = {});

    // Waiters keep the hub alive (see CrossThread). May be switched on before waiting.
    void set_cross_thread(bool on = true) noexcept { binding_.set_cross_thread(on); }

    bool ready() const noexcept override { return is_set(); }
    void rawlink(LinkNode& node) override;
    void unlink(LinkNode& node) noexcept override { links_.remove(node); }

  private:
    void wake_here();

    std::atomic<bool> flag_{false};
    WaitQueue waiters_{detail::WaitKind::Event};
    LinkList links_;
    detail::HubBinding binding_;
};

// One result (value or exception) for many waiters: gevent.event.AsyncResult. Setting again
// replaces the result (references returned by get() then refer to the new value).
template <class T>
class AsyncResult final : public Waitable {
    using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
    using Ref = std::add_lvalue_reference_t<T>;

  public:
    AsyncResult() = default;
    explicit AsyncResult(CrossThread) : binding_(true) {}
    AsyncResult(const AsyncResult&) = delete;
    AsyncResult& operator=(const AsyncResult&) = delete;
    ~AsyncResult() override = default;

    // Any thread. From a thread other than the waiters' hub, the value travels to that hub and
    // ready() turns true there.
    template <class U = T>
    requires(!std::is_void_v<U>) void set(U value) { deliver(Stored(std::move(value)), nullptr); }
    template <class U = T>
    requires std::is_void_v<U>
    void set() { deliver(Stored{}, nullptr); }
    void set_exception(std::exception_ptr e) {
        if (!e) throw std::invalid_argument("green::AsyncResult::set_exception: null exception");
        deliver(std::nullopt, std::move(e));
    }
    template <class E>
    requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>) void set_exception(E&& e) {
        set_exception(std::make_exception_ptr(std::forward<E>(e)));
    }

    bool ready() const noexcept override {
        return state_.load(std::memory_order_acquire) != kPending;
    }
    bool successful() const noexcept { return state_.load(std::memory_order_acquire) == kValue; }
    // The stored exception, or null (not ready, or a value).
    std::exception_ptr exception() const { return ready() ? error_ : nullptr; }

    // Waits until ready (true) or the deadline (false).
    bool wait(Deadline deadline = {}) {
        if (ready()) return true;
        if (!binding_.try_bind()) [[unlikely]]
            return binding_.wait_away(
                [](const void* r) { return static_cast<const AsyncResult*>(r)->ready(); }, this,
                detail::WaitKind::AsyncResult, deadline);
        if (ready()) return true;
        if (binding_.cross_thread()) {
            HubHandle::KeepAlive keep = binding_.keep_alive();
            return waiters_.wait(deadline) || ready();
        }
        return waiters_.wait(deadline) || ready();
    }
    // The value (a reference into this object; move from it if T is move-only), the stored
    // exception rethrown, or green::Timeout when the deadline passes first (as gevent).
    Ref get(Deadline deadline = {}) {
        if (!wait(deadline)) detail::throw_timeout_expired();
        return value_now();
    }
    // get() that never waits: green::Timeout if not ready.
    Ref get_nowait() {
        if (!ready()) detail::throw_timeout_expired();
        return value_now();
    }

    void set_cross_thread(bool on = true) noexcept { binding_.set_cross_thread(on); }

    void rawlink(LinkNode& node) override {
        binding_.bind();
        links_.push(node);
    }
    void unlink(LinkNode& node) noexcept override { links_.remove(node); }

  private:
    static constexpr std::uint8_t kPending = 0, kValue = 1, kError = 2;

    Ref value_now() {
        if (error_) std::rethrow_exception(error_);
        if constexpr (!std::is_void_v<T>) return *value_;
    }

    void deliver(std::optional<Stored> value, std::exception_ptr error) {
        if (binding_.at_home()) return store_here(std::move(value), std::move(error));
        // From elsewhere: the value must not be written while the home hub may read it, so it
        // travels in the posted callback (copyable for std::function, hence the shared_ptr).
        auto payload = std::make_shared<std::pair<std::optional<Stored>, std::exception_ptr>>(
            std::move(value), std::move(error));
        auto apply = [this, payload] {
            store_here(std::move(payload->first), std::move(payload->second));
        };
        auto lk = binding_.lock();
        if (!binding_.post_locked(apply)) apply();  // unbound: nobody waits or reads yet
    }

    void store_here(std::optional<Stored> value, std::exception_ptr error) {
        if (error) {
            error_ = std::move(error);
            value_.reset();
        } else {
            value_ = std::move(value);
            error_ = nullptr;
        }
        // seq_cst: against a waiter of another hub that checks ready() after it queued.
        state_.exchange(error_ ? kError : kValue, std::memory_order_seq_cst);
        waiters_.notify_all();
        binding_.wake_away();
        links_.fire_all(*this);
    }

    std::optional<Stored> value_;
    std::exception_ptr error_;
    std::atomic<std::uint8_t> state_{kPending};
    WaitQueue waiters_{detail::WaitKind::AsyncResult};
    LinkList links_;
    detail::HubBinding binding_;
};

}  // namespace green
