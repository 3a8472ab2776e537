// A timer entry of the hub's timer heap. Embedded by whatever needs a timer (a parked fiber,
// a Timeout, spawn_later), so arming a timer never allocates. Hub-thread only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "green/clock.hpp"

namespace green::detail {

struct Timer {
    using Callback = void (*)(Timer&);

    Clock::time_point when{};
    Callback fire = nullptr;  // runs on the hub's loop fiber; must not block
    void* arg = nullptr;
    std::uint32_t slot = npos;  // the heap's handle for this timer; npos when not armed
    bool ref = true;            // false: does not keep the hub alive (gevent's ref=False)

    static constexpr std::uint32_t npos = 0xffffffffu;
    bool armed() const noexcept { return slot != npos; }
};

}  // namespace green::detail
