// The event hook's side inside the runtime (green/stats.hpp): one atomic pointer, read where
// events happen; nothing else runs unless a hook is set.
#pragma once

#include <atomic>

#include "green/detail/fiber.hpp"
#include "green/stats.hpp"

namespace green::detail {

struct EventHookSlot {
    EventHook fn;
    void* arg;
    const EventHookSlot* older;  // every slot ever set stays on this chain (see below)
};
// Never freed once set: another thread may be calling through it. Each slot is kept on a chain
// from a global, so the few bytes per set_event_hook call stay reachable, not leaked.
extern std::atomic<const EventHookSlot*> g_event_hook;

// Out of line and cold: the places that test g_event_hook keep no extra live values for it.
[[gnu::cold, gnu::noinline]] void emit_event(RuntimeEventKind kind, std::uint64_t fiber,
                                             long os_tid, Duration ran = Duration::zero()) noexcept;
[[gnu::cold, gnu::noinline]] void emit_memory_event(RuntimeEventKind kind, std::uint64_t resident,
                                                    std::uint64_t threshold) noexcept;
[[gnu::cold, gnu::noinline]] void emit_fiber_event(RuntimeEventKind kind, const Fiber& f,
                                                   long os_tid) noexcept;

}  // namespace green::detail
