// The event hook's side inside the runtime (green/stats.hpp): one atomic pointer, read where
// events happen; nothing else runs unless a hook is set.
#pragma once

#include <atomic>

#include "green/stats.hpp"

namespace green::detail {

struct EventHookSlot {
    EventHook fn;
    void* arg;
};
// Never freed once set: another thread may be calling through it.
extern std::atomic<const EventHookSlot*> g_event_hook;

inline void emit_event(RuntimeEventKind kind, std::uint64_t fiber, long os_tid,
                       Duration ran = Duration::zero()) noexcept {
    if (const EventHookSlot* h = g_event_hook.load(std::memory_order_acquire))
        h->fn(RuntimeEvent{kind, fiber, os_tid, ran}, h->arg);
}

}  // namespace green::detail
