// green::stats() and green::set_event_hook (green/stats.hpp).
#include "green/stats.hpp"

#include "green/threadpool.hpp"

#include "event_hook.hpp"
#include "hub_list.hpp"
#include "scheduler.hpp"

namespace green {

namespace detail {

std::atomic<const EventHookSlot*> g_event_hook{nullptr};
namespace {
std::atomic<const EventHookSlot*> g_every_hook_slot{nullptr};
}

void emit_event(RuntimeEventKind kind, std::uint64_t fiber, long os_tid, Duration ran) noexcept {
    if (const EventHookSlot* h = g_event_hook.load(std::memory_order_acquire))
        h->fn(RuntimeEvent{kind, fiber, os_tid, ran}, h->arg);
}

void emit_memory_event(RuntimeEventKind kind, std::uint64_t resident,
                       std::uint64_t threshold) noexcept {
    if (const EventHookSlot* h = g_event_hook.load(std::memory_order_acquire))
        h->fn(RuntimeEvent{kind, 0, 0, Duration::zero(), resident, threshold}, h->arg);
}

void emit_fiber_event(RuntimeEventKind kind, const Fiber& f, long os_tid) noexcept {
    emit_event(kind, f.id(), os_tid);
}

static_assert(kParkReasonCount == static_cast<int>(WaitKind::Select) + 1,
              "one counter per WaitKind");

namespace {

// A hub's counters and its stack figures, on the hub's own thread (its stack pool is its
// own), and the offload pool's.
HubStats collect(Hub& hub) {
    HubStats s = hub.stats();
    s.stack_reserved_bytes = hub.stacks().reserved_bytes();
    s.stack_resident_bytes = hub.stacks().resident_bytes();
    const ThreadPool& pool = default_threadpool();
    s.offload_threads = pool.started_threads();
    s.offload_busy = pool.busy();
    s.offload_queued = pool.queued();
    return s;
}

}  // namespace

}  // namespace detail

HubStats hub_stats() {
    return detail::collect(detail::Hub::get());
}

std::vector<HubStats> stats() {
    using namespace detail;
    Hub& mine = Hub::get();
    std::vector<HubStats> out{collect(mine)};
    for (auto& s : ask_other_hubs<HubStats>(mine, [](Hub& h) { return collect(h); }))
        if (s) out.push_back(*s);
    return out;
}

void set_event_hook(EventHook hook, void* arg) noexcept {
    using namespace detail;
    const EventHookSlot* slot = nullptr;
    if (hook) {
        auto* fresh = new (std::nothrow) EventHookSlot{hook, arg, nullptr};
        if (!fresh) return;
        fresh->older = g_every_hook_slot.load(std::memory_order_relaxed);
        while (!g_every_hook_slot.compare_exchange_weak(fresh->older, fresh,
                                                        std::memory_order_relaxed)) {
        }
        slot = fresh;
    }
    g_event_hook.store(slot, std::memory_order_release);
    // This thread's hub sees it now; other hubs at their next loop turn (Hub::refresh_slow_switch).
    if (Hub* h = Hub::peek()) h->refresh_slow_switch();
}

}  // namespace green
