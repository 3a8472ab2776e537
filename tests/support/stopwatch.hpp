// Elapsed time for tests that bound how long something took: time since a point on green's
// (steady) clock, as a Duration, in seconds or in whole milliseconds.
#pragma once

#include <chrono>

#include <green/clock.hpp>

namespace green_test {

inline green::Duration since(green::Clock::time_point t0) {
    return green::Clock::now() - t0;
}

inline double seconds_since(green::Clock::time_point t0) {
    return std::chrono::duration<double>(since(t0)).count();
}

inline long ms_since(green::Clock::time_point t0) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(since(t0)).count());
}

}  // namespace green_test
