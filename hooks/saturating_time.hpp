// A relative timespec or timeval as a green Duration without overflow: a time too long to
// represent (tv_sec near the largest time_t, as programs pass for "practically forever")
// saturates to Duration::max(), which a Deadline treats as "never". Negative times give
// Duration::min(). The fields are taken as already validated (0 <= tv_nsec < 1e9).
#pragma once

#include <sys/time.h>
#include <time.h>

#include <chrono>

#include "green/clock.hpp"

namespace green::hooks {

inline Duration saturating_duration(long long sec, Duration fraction) noexcept {
    using std::chrono::seconds;
    constexpr long long kMaxSec = std::chrono::duration_cast<seconds>(Duration::max()).count() - 1;
    if (sec >= kMaxSec) return Duration::max();
    if (sec <= -kMaxSec) return Duration::min();
    return std::chrono::duration_cast<Duration>(seconds(sec)) + fraction;
}

inline Duration saturating_duration(const timespec& ts) noexcept {
    return saturating_duration(
        ts.tv_sec, std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(ts.tv_nsec)));
}

inline Duration saturating_duration(const timeval& tv) noexcept {
    return saturating_duration(
        tv.tv_sec, std::chrono::duration_cast<Duration>(std::chrono::microseconds(tv.tv_usec)));
}

}  // namespace green::hooks
