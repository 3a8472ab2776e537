// green::Timeout — gevent's Timeout in C++: a scoped deadline that throws itself into the fiber
// that created it when the block runs too long. Nestable; also usable as a Deadline value.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>

#include "green/clock.hpp"
#include "green/detail/fiber.hpp"
#include "green/detail/timer.hpp"

namespace green {

namespace detail {
class Hub;
}

// Usage:  { green::Timeout t(2s); conn.recv(buf); }   // throws green::Timeout after 2 s
// The exception thrown is a copy of the Timeout: a disarmed record with the same identity, so a
// handler for nested timeouts can tell which one expired with `e.is(t)`.
// The check happens at the fiber's next switch (a wait, a sleep, I/O), as in gevent.
//
// When several interrupts reach a fiber before it next runs, none is lost; they are thrown one
// per resume point, in this order:
//  - a kill (GreenletExit, or the exception given to kill) before any Timeout, kills in the
//    order they came: a kill ends the fiber whatever deadline it is under;
//  - Timeouts in the order they expired (for nested ones due together, the inner first, as in
//    gevent, whose timer callbacks throw in due order).
// A Timeout not yet thrown when its scope ends (it is destroyed or cancelled, e.g. while a kill
// or an inner Timeout unwinds through it) is withdrawn and never thrown: an expiry is raised
// only inside the block it limits. So an outer Timeout that expires while an inner one's handler
// runs is raised at the first wait or switch after that handler returns into the outer block;
// a block that then ends without waiting again ends normally, as in gevent.
// A Timeout that outlives the fiber that armed it is disarmed when that fiber ends.
class Timeout : public std::exception {
  public:
    explicit Timeout(Duration d, bool start_now = true);
    template <class Rep, class Period>
    explicit Timeout(std::chrono::duration<Rep, Period> d, bool start_now = true)
        : Timeout(saturate(d), start_now) {}
    Timeout(const Timeout& other) noexcept;  // a disarmed record, same identity
    Timeout& operator=(const Timeout&) = delete;
    ~Timeout() override;

    // Arms the timer for the current fiber, counting the duration from now.
    void start();
    // Disarms; a pending, undelivered expiry of this Timeout is withdrawn.
    void cancel() noexcept;
    bool pending() const noexcept { return armed().timer_.armed(); }
    bool expired() const noexcept { return armed().fired_; }
    bool is(const Timeout& other) const noexcept { return id_ == other.id_; }
    Clock::time_point deadline() const noexcept { return armed().timer_.when; }
    Duration duration() const noexcept { return duration_; }
    const char* what() const noexcept override;

  private:
    friend class detail::Hub;
    static void on_fire(detail::Timer& t);
    // Called by the hub when the fiber that armed this Timeout ends.
    static void fiber_ended(detail::TimeoutLink& link) noexcept;
    // The record whose timer is armed: this one, or for a compact fiber its twin on the heap
    // (the timer heap and the fiber's list must not point into a stack that is copied away).
    const Timeout& armed() const noexcept { return twin_ ? *twin_ : *this; }
    void arm(detail::Fiber& fiber);
    void disarm() noexcept;
    template <class Rep, class Period>
    static Duration saturate(std::chrono::duration<Rep, Period> d) noexcept {
        // ceil to Duration may overflow for durations near their type's max: those are forever.
        using Seconds = std::chrono::duration<double>;
        if (std::chrono::duration_cast<Seconds>(d) >=
            std::chrono::duration_cast<Seconds>(Duration::max()))
            return Duration::max();
        return std::chrono::ceil<Duration>(d);
    }

    detail::TimeoutLink link_;  // in the list of fiber_'s armed Timeouts while fiber_ is set
    detail::Timer timer_;
    detail::Fiber* fiber_ = nullptr;
    std::uint64_t id_ = 0;
    Duration duration_{};
    bool record_ = false;
    bool fired_ = false;
    Timeout* twin_ = nullptr;  // compact fibers: the heap record armed in this one's place
};

inline Deadline::Deadline(const Timeout& t) noexcept {
    if (t.pending()) {
        when_ = t.deadline();
        infinite_ = false;
    }
}

}  // namespace green
