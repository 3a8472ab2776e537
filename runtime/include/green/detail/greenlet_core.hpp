// Greenlet machinery behind green/greenlet.hpp, not user API: the reference-counted core a
// Greenlet handle points to (a Fiber that records its outcome and tells its observers), the
// core that binds a callable, and the functions spawn/join/kill are built on.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "green/clock.hpp"
#include "green/detail/fiber.hpp"
#include "green/detail/timer.hpp"
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

    void add_ref() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) delete this;
    }

    bool ready() const noexcept override { return finished_; }
    void rawlink(LinkNode& node) override;
    void unlink(LinkNode& node) noexcept override;
    const LinkList& links() const noexcept { return links_; }
    std::string name() const override;
    void set_name(std::string n) { name_ = std::move(n); }

    bool started() const noexcept { return state() != FiberState::Created || finished_; }
    bool finished() const noexcept { return finished_; }
    bool killed() const noexcept { return killed_; }
    const std::exception_ptr& exception() const noexcept { return exception_; }
    std::uint64_t id() const noexcept override { return id_; }

    void body() noexcept final;
    void reaped() noexcept final;

    Timer start_timer_;  // spawn_later

  protected:
    virtual void run() = 0;

  private:
    friend void finish_unstarted(GreenletCore&, std::exception_ptr);
    void finish(std::exception_ptr error, bool killed) noexcept;

    std::exception_ptr exception_;
    LinkList links_;
    std::string name_;
    std::uint64_t id_;
    unsigned refs_ = 0;
    bool finished_ = false;
    bool killed_ = false;
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
void kill(GreenletCore& core, std::exception_ptr exc, bool block, Deadline deadline);
GreenletCore* current_greenlet() noexcept;
[[noreturn]] void throw_timeout_expired();

template <class F, class... Args>
auto bind_call(F&& f, Args&&... args) {
    return [fn = std::decay_t<F>(std::forward<F>(f)),
            tup = std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...)]() mutable {
        return std::apply(fn, std::move(tup));
    };
}

}  // namespace detail

}  // namespace green
