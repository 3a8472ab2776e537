// The raw greenlet layer (Python's `greenlet` module): explicit switches between execution
// contexts, values passed on switch, control returning to the parent when a greenlet ends.
// It shares fibers with the hub, so a raw greenlet may also sleep or do cooperative I/O.
#pragma once

#include <any>
#include <exception>
#include <functional>
#include <memory>

namespace green {

namespace detail {
class Fiber;
class RawFiber;
}  // namespace detail

class RawGreenlet {
  public:
    using Function = std::function<std::any(std::any)>;

    // `parent` defaults to the greenlet that creates this one.
    explicit RawGreenlet(Function fn, RawGreenlet* parent = nullptr);
    explicit RawGreenlet(std::function<void()> fn, RawGreenlet* parent = nullptr);
    RawGreenlet(const RawGreenlet&) = delete;
    RawGreenlet& operator=(const RawGreenlet&) = delete;
    // A started, unfinished greenlet is unwound with GreenletExit, as Python's greenlet does
    // when one is garbage-collected.
    ~RawGreenlet();

    // Switches to this greenlet. On the first switch `value` is the function's argument;
    // later it is what the paused switch_to() inside it returns. Returns the value passed by
    // whoever switches back here (or the function's result when this greenlet finishes).
    std::any switch_to(std::any value = {});
    // Switches in and raises `e` at its paused switch point (or at start).
    std::any throw_into(std::exception_ptr e);

    bool dead() const noexcept;
    bool started() const noexcept;
    RawGreenlet* parent() const noexcept;
    void set_parent(RawGreenlet* p);

    // The raw greenlet currently running (the thread's main greenlet outside any other).
    static RawGreenlet& current();

  private:
    explicit RawGreenlet(detail::Fiber* adopted) noexcept;  // a view of a non-raw fiber
    static RawGreenlet& view_of(detail::Fiber* f);
    std::any enter(std::any value);
    friend class detail::RawFiber;

    std::unique_ptr<detail::RawFiber> owned_;
    detail::Fiber* fiber_ = nullptr;
    RawGreenlet* parent_ = nullptr;
    std::any transfer_;  // the value handed over by the last switch into this greenlet
};

}  // namespace green
