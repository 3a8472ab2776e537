// Greenlet machinery behind green/greenlet.hpp, not user API: the reference-counted core a
// Greenlet handle points to (a Fiber that records its outcome and tells its observers), the
// core that binds a callable, and the functions spawn/join/kill are built on.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "green/clock.hpp"
#include "green/detail/fiber.hpp"
#include "green/detail/timer.hpp"
#include "green/hub.hpp"
#include "green/waitable.hpp"

namespace green {

struct SpawnOptions;

namespace detail {

// Shared state of one greenlet: its fiber, outcome and observers. Reference-counted by the
// handles and, while it runs, by itself.
class GreenletCore : public Fiber, public Waitable {
  public:
    GreenletCore();
    ~GreenletCore() override;

    // Cores are recycled through their hub's cache (core_cache.hpp), not malloc'd each spawn.
    static void* operator new(std::size_t size);
    static void operator delete(void* p, std::size_t size) noexcept;

    // Handles of a greenlet that runs on a HubPool hub may live on any thread: their count is
    // atomic then. Every other greenlet keeps the plain count (and stays on its thread).
    void add_ref() noexcept {
        if (pooled_) [[unlikely]]
            std::atomic_ref<unsigned>(refs_).fetch_add(1, std::memory_order_relaxed);
        else
            ++refs_;
    }
    void release() noexcept {
        if (pooled_) [[unlikely]] {
            if (std::atomic_ref<unsigned>(refs_).fetch_sub(1, std::memory_order_acq_rel) == 1)
                delete this;
        } else if (--refs_ == 0) {
            delete this;
        }
    }

    // Release order: the outcome (value, exception, killed) is written before finished_, so a
    // thread that sees ready() sees the outcome.
    bool ready() const noexcept override { return finished_.load(std::memory_order_acquire); }
    void rawlink(LinkNode& node) override;
    void unlink(LinkNode& node) noexcept override;
    const LinkList& links() const noexcept { return links_; }
    std::string name() const override;
    void set_name(std::string n) { extras().name = std::move(n); }

    bool started() const noexcept { return state() != FiberState::Created || ready(); }
    bool finished() const noexcept { return ready(); }
    bool killed() const noexcept { return killed_; }
    const std::exception_ptr& exception() const noexcept { return exception_; }
    std::uint64_t id() const noexcept override { return id_; }

    void body() noexcept final;
    void reaped() noexcept final;

    // spawn_later's timer, made by start(); null for the others (it lives in Extras).
    Timer* start_timer() const noexcept { return extras_ ? extras_->start_timer.get() : nullptr; }
    Timer& make_start_timer() { return *(extras().start_timer = std::make_unique<Timer>()); }

    // The mailbox of the HubPool hub it runs on: set before the greenlet is shared with other
    // threads (hub_pool.cpp), empty for greenlets of other hubs. Other threads join, kill and
    // link it through this handle.
    // It lives in Extras; pooled_, never written once the greenlet is shared, says whether
    // there is one, so that other threads never read extras_ of a greenlet that is not theirs.
    const HubHandle& home() const noexcept { return pooled_ ? extras_->home : kNoHome; }
    void set_home(HubHandle h) {
        extras().home = std::move(h);
        pooled_ = static_cast<bool>(extras_->home);
    }

  protected:
    virtual void run() = 0;

  private:
    friend void finish_unstarted(GreenletCore&, std::exception_ptr);
    void finish(std::exception_ptr error, bool killed) noexcept;

    // What few greenlets have, kept out of the core every greenlet writes on spawn.
    struct Extras {
        std::string name;
        std::unique_ptr<Timer> start_timer;
        HubHandle home;
    };
    static const HubHandle kNoHome;
    Extras& extras() {
        if (!extras_) extras_ = std::make_unique<Extras>();
        return *extras_;
    }

    std::exception_ptr exception_;
    LinkList links_;
    std::unique_ptr<Extras> extras_;
    std::uint64_t id_;
    alignas(std::atomic_ref<unsigned>::required_alignment) unsigned refs_ = 0;
    std::atomic<bool> finished_{false};
    bool killed_ = false;
    bool pooled_ = false;  // runs on a HubPool hub: home() is set, refs_ is atomic
};

template <class R>
class ResultCore : public GreenletCore {
  public:
    std::optional<R> value_;
};
template <>
class ResultCore<void> : public GreenletCore {};

template <class R, class Fn>
class BoundCore final : public ResultCore<R> {
  public:
    explicit BoundCore(Fn fn) : fn_(std::move(fn)) {}

  private:
    void run() override {
        if constexpr (std::is_void_v<R>) {
            fn_();
        } else {
            this->value_.emplace(fn_());
        }
    }
    Fn fn_;
};

// Schedules a created core: now (delay < 0) or after `delay`.
void start(GreenletCore& core, const SpawnOptions& opts, std::optional<Duration> delay);
bool join(GreenletCore& core, Deadline deadline);
// True for a greenlet of another thread's hub. Only HubPool greenlets (which have a home
// mailbox) may be reached from there; for the others this throws std::logic_error.
bool is_remote(const GreenletCore& core);
// Finishes a greenlet that never ran: killed (GreenletExit) or failed with `exc`. On its hub's
// thread, or on any thread while it belongs to no hub yet.
void finish_unstarted(GreenletCore& core, std::exception_ptr exc);
void kill(GreenletCore& core, std::exception_ptr exc, bool block, Deadline deadline);
GreenletCore* current_greenlet() noexcept;
[[noreturn]] void throw_timeout_expired();

template <class F, class... Args>
auto bind_call(F&& f, Args&&... args) {
    if constexpr (sizeof...(Args) == 0) {
        // Nothing to bind: the callable itself (an empty tuple beside it still costs a word of
        // every greenlet core, which can tip it into the next CoreCache class).
        return std::decay_t<F>(std::forward<F>(f));
    } else {
        return [fn = std::decay_t<F>(std::forward<F>(f)),
                tup = std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...)]() mutable {
            return std::apply(fn, std::move(tup));
        };
    }
}

}  // namespace detail

}  // namespace green
