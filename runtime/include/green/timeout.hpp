// green::Timeout — gevent's Timeout in C++: a scoped deadline that throws itself into the fiber
// that created it when the block runs too long. Nestable; also usable as a Deadline value.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>

#include "green/clock.hpp"
#include "green/detail/timer.hpp"

namespace green {

namespace detail {
class Fiber;
}

// Usage:  { green::Timeout t(2s); conn.recv(buf); }   // throws green::Timeout after 2 s
// The exception thrown is a copy of the Timeout: a disarmed record with the same identity, so a
// handler for nested timeouts can tell which one expired with `e.is(t)`.
// The check happens at the fiber's next switch (a wait, a sleep, I/O), as in gevent.
class Timeout : public std::exception {
  public:
    explicit Timeout(Duration d, bool start_now = true);
    template <class Rep, class Period>
    explicit Timeout(std::chrono::duration<Rep, Period> d, bool start_now = true)
        : Timeout(std::chrono::ceil<Duration>(d), start_now) {}
    Timeout(const Timeout& other) noexcept;  // a disarmed record, same identity
    Timeout& operator=(const Timeout&) = delete;
    ~Timeout() override;

    // Arms the timer for the current fiber, counting the duration from now.
    void start();
    // Disarms; a pending, undelivered expiry of this Timeout is withdrawn.
    void cancel() noexcept;
    bool pending() const noexcept { return timer_.armed(); }
    bool expired() const noexcept { return fired_; }
    bool is(const Timeout& other) const noexcept { return id_ == other.id_; }
    Clock::time_point deadline() const noexcept { return timer_.when; }
    Duration duration() const noexcept { return duration_; }
    const char* what() const noexcept override;

  private:
    static void on_fire(detail::Timer& t);

    detail::Timer timer_;
    detail::Fiber* fiber_ = nullptr;
    std::uint64_t id_ = 0;
    Duration duration_{};
    bool record_ = false;
    bool fired_ = false;
};

inline Deadline::Deadline(const Timeout& t) noexcept {
    if (t.pending()) {
        when_ = t.deadline();
        infinite_ = false;
    }
}

}  // namespace green
