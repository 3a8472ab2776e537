// Time as green sees it: one monotonic clock, and Deadline, the single way every blocking
// call in green expresses "how long may this wait" (a duration, a time point, a Timeout, or never).
#pragma once

#include <chrono>
#include <cstdint>

namespace green {

using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;

class Timeout;

namespace detail {
// now + d without overflow: a time point too late to represent saturates to the latest one
// (which the clock never reaches: "forever"); a negative d means now. Every timer green arms
// relative to now goes through here.
inline Clock::time_point after_now(Duration d) noexcept {
    const auto now = Clock::now();
    if (d <= Duration::zero()) return now;
    if (d >= Clock::time_point::max() - now) return Clock::time_point::max();
    return now + d;
}
}  // namespace detail

// A point in time after which a wait gives up. Default-constructed: wait forever.
// Built from a duration it is relative to now; a zero or negative duration is already expired
// (the wait polls once), matching gevent where timeout=0 means "do not block".
class Deadline {
  public:
    constexpr Deadline() noexcept = default;
    template <class Rep, class Period>
    Deadline(std::chrono::duration<Rep, Period> d) noexcept {  // NOLINT: implicit by design
        set_relative(d);
    }
    Deadline(Clock::time_point when) noexcept : when_(when), infinite_(false) {}  // NOLINT
    Deadline(const Timeout& t) noexcept;                                          // NOLINT

    static constexpr Deadline never() noexcept { return Deadline(); }

    bool infinite() const noexcept { return infinite_; }
    Clock::time_point when() const noexcept { return when_; }
    bool expired() const noexcept { return !infinite_ && Clock::now() >= when_; }
    // Time left, clamped at zero; Duration::max() when infinite.
    Duration remaining() const noexcept {
        if (infinite_) return Duration::max();
        auto left = when_ - Clock::now();
        return left < Duration::zero() ? Duration::zero() : left;
    }
    // The earlier of two deadlines.
    friend Deadline earliest(const Deadline& a, const Deadline& b) noexcept {
        if (a.infinite_) return b;
        if (b.infinite_) return a;
        return a.when_ <= b.when_ ? a : b;
    }

  private:
    template <class Rep, class Period>
    void set_relative(std::chrono::duration<Rep, Period> d) noexcept {
        using namespace std::chrono;
        // Saturate: durations too large to add to now() mean "forever", not overflow.
        const auto limit = duration_cast<duration<double>>(hours(24 * 365 * 100));
        if (duration_cast<duration<double>>(d) > limit) return;
        when_ = Clock::now() + duration_cast<Duration>(d);
        infinite_ = false;
    }

    Clock::time_point when_{};
    bool infinite_ = true;
};

}  // namespace green
