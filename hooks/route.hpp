// The one routing decision of the hook library: does a hooked call take the fiber path, or go
// straight to libc? Every hook asks route() (or, for a pure "is this patched" question,
// patched()); nothing else in hooks/ decides it.
#pragma once

#include <cstdint>

#include "hook_interface.hpp"
#include "patch_config.hpp"

namespace green::hooks {

// What a hook needs patched (GREEN_PATCH, patch_config.hpp) to take the fiber path.
enum class Need : std::uint8_t {
    Io = 1,       // sleep, sockets, pipes, poll/select/epoll, DNS, signals
    Threads = 2,  // pthreads as fibers: thread, mutex, condvar, key... hooks
};

// patch_config() as bits, cached where every hook reads it with one relaxed load: no call and
// no static-local guard (the guard functions are hooked themselves).
inline bool patched(Need need) noexcept {
    constexpr unsigned char kUnread = 0x80;
    static constinit unsigned char cached = kUnread;
    unsigned char v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v & kUnread) [[unlikely]] {
        if (!library_started()) return false;
        const PatchConfig& c = patch_config();
        v = static_cast<unsigned char>((c.io ? unsigned(Need::Io) : 0u) |
                                       (c.threads ? unsigned(Need::Threads) : 0u));
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return (v & static_cast<unsigned char>(need)) != 0;
}

// The calling fiber's hub when this call may park it; nullptr means "call libc": no hub on
// this thread (offload workers, plain threads), the hub's own loop fiber, or `need` is not
// patched. The hub is looked at first (one TLS load): libc and sanitizer start-up call hooked
// functions before the environment that patch_config() reads is in place.
inline rt::Hub* route(Need need) noexcept {
    rt::Hub* h = rt::hub();
    if (!h || rt::in_loop_fiber(*h)) [[likely]]
        return nullptr;
    return patched(need) ? h : nullptr;
}

}  // namespace green::hooks
