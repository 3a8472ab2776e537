// Sleep hooks: sleep, usleep, nanosleep, clock_nanosleep (relative and TIMER_ABSTIME). In a
// fiber they park on the hub's timer (green::sleep) while other fibers run; elsewhere libc.
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "hook_common.hpp"
#include "saturating_time.hpp"
#include "signal_hooks.hpp"

namespace green::hooks {

namespace {

bool valid(const timespec* ts) noexcept {
    return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

Duration duration_of(const timespec& ts) noexcept {
    return saturating_duration(ts);  // tv_sec near the largest time_t: practically forever
}

timespec timespec_of(Duration d) noexcept {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

// Sleeps the fiber for d. Returns zero, or the time left when a signal handler ran meanwhile
// (a native sleep returns early with EINTR then).
Duration sleep_for(Duration d) {
    return cancellable([&] { return interruptible_sleep(d); }, Duration::zero());
}

// Clocks whose absolute deadlines can be mapped onto the hub's steady clock.
bool sleepable(clockid_t clock) noexcept {
    return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME ||
           clock == CLOCK_TAI;
}

}  // namespace

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

unsigned int sleep(unsigned int seconds) {
    if (!route(Need::Io)) {
        if (auto real = GREEN_REAL(sleep)) return real(seconds);
        timespec ts{static_cast<time_t>(seconds), 0};
        return ::syscall(SYS_nanosleep, &ts, &ts) == 0 ? 0 : static_cast<unsigned>(ts.tv_sec);
    }
    const Duration left = sleep_for(std::chrono::seconds(seconds));
    if (left <= Duration::zero()) return 0;
    // As glibc: the whole seconds not slept (truncated), with errno from the interrupted wait.
    errno = EINTR;
    return static_cast<unsigned>(std::chrono::duration_cast<std::chrono::seconds>(left).count());
}

int usleep(useconds_t usec) {
    if (!route(Need::Io)) {
        if (auto real = GREEN_REAL(usleep)) return real(usec);
        timespec ts{static_cast<time_t>(usec / 1000000), static_cast<long>(usec % 1000000) * 1000};
        return static_cast<int>(::syscall(SYS_nanosleep, &ts, nullptr));
    }
    if (sleep_for(std::chrono::microseconds(usec)) > Duration::zero()) {
        errno = EINTR;
        return -1;
    }
    return 0;
}

int nanosleep(const timespec* req, timespec* rem) {
    if (!route(Need::Io) || !req) {
        if (auto real = GREEN_REAL(nanosleep)) return real(req, rem);
        return static_cast<int>(::syscall(SYS_nanosleep, req, rem));
    }
    if (!valid(req)) {
        errno = EINVAL;
        return -1;
    }
    const Duration left = sleep_for(duration_of(*req));
    if (left > Duration::zero()) {
        if (rem) *rem = timespec_of(left);
        errno = EINTR;
        return -1;
    }
    return 0;
}

int clock_nanosleep(clockid_t clock, int flags, const timespec* req, timespec* rem) {
    if (!route(Need::Io) || !req || !sleepable(clock)) {
        if (auto real = GREEN_REAL(clock_nanosleep)) return real(clock, flags, req, rem);
        return static_cast<int>(::syscall(SYS_clock_nanosleep, clock, flags, req, rem));
    }
    if (!valid(req)) return EINVAL;
    Duration d = duration_of(*req);
    const bool absolute = flags & TIMER_ABSTIME;
    if (absolute) {
        timespec now;
        ::clock_gettime(clock, &now);
        if (d != Duration::max()) d -= duration_of(now);
        if (d <= Duration::zero()) return 0;
    }
    const Duration left = sleep_for(d);
    if (left > Duration::zero()) {
        if (rem && !absolute) *rem = timespec_of(left);
        return EINTR;
    }
    return 0;
}

}  // extern "C"
