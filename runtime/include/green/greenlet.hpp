// Greenlets, gevent's unit of concurrency: spawn a function into its own fiber, then join it,
// get its result (or its exception), kill it, or watch it finish. Plus the module functions
// joinall / killall / wait / iwait / getcurrent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "green/clock.hpp"
#include "green/detail/greenlet_core.hpp"
#include "green/errors.hpp"
#include "green/stack_mode.hpp"
#include "green/timeout.hpp"
#include "green/wait_queue.hpp"
#include "green/waitable.hpp"

namespace green {

struct SpawnOptions {
    std::string name{};          // default: "Greenlet-N"
    std::size_t stack_size = 0;  // 0: default_stack_size()
    // gevent's ref=False: with false, this greenlet's sleeps, timed waits, I/O waits and
    // spawn_later start do not keep the hub alive. A wait elsewhere that only such a greenlet
    // could end raises LoopExit instead of blocking (a background job that must not hold the
    // program open). It still runs normally while the hub lives for other reasons.
    bool ref = true;
    // Compact: runs on the hub's shared run stack, copied out while it waits (stack_mode.hpp).
    StackMode stack_mode = StackMode::Unset;
};

// A type-erased reference to a greenlet: what joinall/killall/wait work with.
class GreenletHandle;
namespace detail {
// The greenlet behind a handle (null for an empty one): for the runtime, the hooks and tests.
GreenletCore* core_ptr_of(const GreenletHandle& g) noexcept;
inline GreenletCore& core_of(const GreenletHandle& g) noexcept {
    return *core_ptr_of(g);
}
}  // namespace detail

class GreenletHandle {
  public:
    GreenletHandle() = default;
    explicit GreenletHandle(detail::GreenletCore* c) noexcept : core_(c) {
        if (core_) core_->add_ref();
    }
    GreenletHandle(const GreenletHandle& o) noexcept : GreenletHandle(o.core_) {}
    GreenletHandle(GreenletHandle&& o) noexcept : core_(std::exchange(o.core_, nullptr)) {}
    GreenletHandle& operator=(GreenletHandle o) noexcept {
        std::swap(core_, o.core_);
        return *this;
    }
    ~GreenletHandle() {
        if (core_) core_->release();
    }

    explicit operator bool() const noexcept { return core_ != nullptr; }
    bool operator==(const GreenletHandle& o) const noexcept { return core_ == o.core_; }

    // True once the greenlet finished (returned, raised, or was killed).
    bool ready() const noexcept { return core().ready(); }
    bool dead() const noexcept { return core().ready(); }
    bool started() const noexcept { return core().started(); }
    // Finished without an exception. As in gevent, a killed greenlet counts as successful.
    bool successful() const noexcept { return core().ready() && !core().exception(); }
    bool killed() const noexcept { return core().killed(); }
    std::exception_ptr exception() const noexcept { return core().exception(); }

    // Waits until the greenlet finishes; false if the deadline passed first.
    bool join(Deadline deadline = {}) const { return detail::join(core(), deadline); }
    // Raises GreenletExit (or `exc`) inside the greenlet. A greenlet that has not started never
    // runs. With block, waits for it to finish (up to `deadline`).
    void kill(bool block = true, Deadline deadline = {}) const {
        detail::kill(core(), nullptr, block, deadline);
    }
    void kill(std::exception_ptr exc, bool block = true, Deadline deadline = {}) const {
        detail::kill(core(), std::move(exc), block, deadline);
    }

    // Calls `cb(this greenlet)` in a new greenlet once this one finishes. The id unlinks it;
    // unlinking a link that already fired (or the id 0 of one that fired at once) does nothing.
    using LinkId = std::uint64_t;
    LinkId link(std::function<void(const GreenletHandle&)> cb) const;
    LinkId link_value(std::function<void(const GreenletHandle&)> cb) const;
    LinkId link_exception(std::function<void(const GreenletHandle&)> cb) const;
    void unlink(LinkId id) const noexcept;

    std::string name() const { return core().name(); }
    void set_name(std::string n) const { core().set_name(std::move(n)); }

    Waitable& waitable() const noexcept { return core(); }

  protected:
    detail::GreenletCore& core() const noexcept { return *core_; }

  private:
    friend detail::GreenletCore* detail::core_ptr_of(const GreenletHandle& g) noexcept;
    detail::GreenletCore* core_ = nullptr;
};

inline detail::GreenletCore* detail::core_ptr_of(const GreenletHandle& g) noexcept {
    return g.core_;
}

template <class R>
class Greenlet : public GreenletHandle {
  public:
    Greenlet() = default;
    explicit Greenlet(detail::ResultCore<R>* c) noexcept : GreenletHandle(c) {}

    // Waits for the result: the value, the greenlet's own exception rethrown, GreenletExit if
    // it was killed, or green::Timeout if the deadline passed first.
    R get(Deadline deadline = {}) const {
        if (!join(deadline)) detail::throw_timeout_expired();
        return value();
    }
    // The result of a finished greenlet (rethrows its failure, as get() does).
    std::add_lvalue_reference_t<std::add_const_t<R>> value() const {
        auto& c = static_cast<detail::ResultCore<R>&>(core());
        if (!c.ready())
            throw std::logic_error("green: value() of a greenlet that has not finished");
        if (c.exception()) std::rethrow_exception(c.exception());
        if (c.killed()) throw GreenletExit();
        if constexpr (!std::is_void_v<R>) return *c.value_;
    }
};

template <class F, class... Args>
using SpawnResult = std::decay_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;

// Starts f(args...) in a new greenlet; it runs once the current fiber yields or waits.
template <class F, class... Args>
Greenlet<SpawnResult<F, Args...>> spawn(const SpawnOptions& opts, F&& f, Args&&... args) {
    using R = SpawnResult<F, Args...>;
    auto bound = detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...);
    auto* core = new detail::BoundCore<R, decltype(bound)>(std::move(bound));
    Greenlet<R> g(core);
    detail::start(*core, opts, std::nullopt);
    return g;
}
template <class F, class... Args>
requires(!std::is_same_v<std::decay_t<F>, SpawnOptions>) Greenlet<SpawnResult<F, Args...>> spawn(
    F&& f, Args&&... args) {
    return spawn(SpawnOptions{}, std::forward<F>(f), std::forward<Args>(args)...);
}

// Like spawn, but the greenlet starts after `delay` (gevent.spawn_later; the seed's Timer).
template <class F, class... Args>
Greenlet<SpawnResult<F, Args...>> spawn_later(const SpawnOptions& opts, Duration delay, F&& f,
                                              Args&&... args) {
    using R = SpawnResult<F, Args...>;
    auto bound = detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...);
    auto* core = new detail::BoundCore<R, decltype(bound)>(std::move(bound));
    Greenlet<R> g(core);
    detail::start(*core, opts, delay < Duration::zero() ? Duration::zero() : delay);
    return g;
}
template <class F, class... Args>
Greenlet<SpawnResult<F, Args...>> spawn_later(Duration delay, F&& f, Args&&... args) {
    return spawn_later(SpawnOptions{}, delay, std::forward<F>(f), std::forward<Args>(args)...);
}

// The greenlet running now; an empty handle in the main fiber or a raw greenlet.
GreenletHandle getcurrent();

// Waits for all greenlets to finish or the deadline. Returns those that finished. With
// raise_error, the first failure is rethrown as soon as it happens.
std::vector<GreenletHandle> joinall(const std::vector<GreenletHandle>& greenlets,
                                    Deadline deadline = {}, bool raise_error = false);
inline std::vector<GreenletHandle> joinall(std::initializer_list<GreenletHandle> greenlets,
                                           Deadline deadline = {}, bool raise_error = false) {
    return joinall(std::vector<GreenletHandle>(greenlets), deadline, raise_error);
}
template <class Range>
std::vector<GreenletHandle> joinall(const Range& greenlets, Deadline deadline = {},
                                    bool raise_error = false) {
    return joinall(std::vector<GreenletHandle>(std::begin(greenlets), std::end(greenlets)),
                   deadline, raise_error);
}

// Kills every greenlet (GreenletExit); with block, waits for all of them up to the deadline.
void killall(const std::vector<GreenletHandle>& greenlets, bool block = true,
             Deadline deadline = {});
template <class Range>
void killall(const Range& greenlets, bool block = true, Deadline deadline = {}) {
    killall(std::vector<GreenletHandle>(std::begin(greenlets), std::end(greenlets)), block,
            deadline);
}

// A Waitable reference built from a greenlet handle or any Waitable (Event, AsyncResult...).
class WaitableRef {
  public:
    WaitableRef(Waitable& w) noexcept : w_(&w) {}                         // NOLINT
    WaitableRef(const GreenletHandle& g) noexcept : w_(&g.waitable()) {}  // NOLINT
    Waitable* get() const noexcept { return w_; }

  private:
    Waitable* w_;
};

// Yields objects as they become ready, until `count` were yielded or the deadline passed.
class IWait {
  public:
    IWait(const std::vector<WaitableRef>& objects, Deadline deadline = {},
          std::size_t count = static_cast<std::size_t>(-1));
    IWait(const IWait&) = delete;
    IWait& operator=(const IWait&) = delete;
    ~IWait();

    // The next ready object, or nullptr when done or timed out.
    Waitable* next();

    class iterator {
      public:
        using value_type = Waitable*;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        explicit iterator(IWait* w) : w_(w), cur_(w->next()) {}
        Waitable* operator*() const { return cur_; }
        iterator& operator++() {
            cur_ = w_->next();
            return *this;
        }
        bool operator==(const iterator& o) const { return cur_ == o.cur_; }

      private:
        IWait* w_ = nullptr;
        Waitable* cur_ = nullptr;
    };
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }

  private:
    struct State;
    static void on_ready(LinkNode& node, Waitable& source);

    // What completions write while the owner waits lives on the heap, never on the owner's stack
    // (a compact fiber's stack is elsewhere while it waits).
    std::unique_ptr<State> s_;
};

// Iterate objects as they become ready: for (green::Waitable* w : green::iwait({g1, g2})) ...
inline IWait iwait(const std::vector<WaitableRef>& objects, Deadline deadline = {},
                   std::size_t count = static_cast<std::size_t>(-1)) {
    return IWait(objects, deadline, count);
}

// Waits until `count` objects (default all) are ready or the deadline passes; returns the ready
// ones in the order they became ready.
std::vector<Waitable*> wait(const std::vector<WaitableRef>& objects, Deadline deadline = {},
                            std::size_t count = static_cast<std::size_t>(-1));

}  // namespace green
