// Counters of every hub, cheap enough to read every second, and an event hook (gevent.events):
//
//   for (const auto& h : green::stats()) std::printf("%llu switches\n", h.switches);
//   green::set_event_hook([](const green::RuntimeEvent& e, void*) { ... }, nullptr);
//
// The counters are plain increments the scheduler makes anyway (a fiber gets a stack, is
// reaped, parks, the loop turns); reading them costs one visit per hub (the calling hub directly,
// the others through their mailbox, as format_run_info), plus one mincore call per 16 MiB of
// fiber stacks for their resident size.
#pragma once

#include <cstdint>
#include <vector>

#include "green/clock.hpp"

namespace green {

// Why fibers parked, counted per reason (the run info's words, in this order).
inline constexpr const char* kParkReasons[] = {
    "unknown",   "sleep",     "io",        "event",      "async result", "lock",
    "semaphore", "queue get", "queue put", "queue peek", "queue join",   "join",
    "offload",   "idle",      "signal",    "wait queue", "select"};
inline constexpr int kParkReasonCount = sizeof(kParkReasons) / sizeof(kParkReasons[0]);

struct HubStats {
    long os_tid = 0;                    // the hub's OS thread
    std::uint64_t fibers_live = 0;      // fibers holding a stack now (the loop fiber included)
    std::uint64_t fibers_spawned = 0;   // fibers that got a stack so far
    std::uint64_t fibers_finished = 0;  // fibers reaped so far
    std::uint64_t switches = 0;         // context switches
    std::uint64_t loop_turns = 0;       // turns of the hub's loop (timers, posts, I/O polls)
    std::uint64_t parks = 0;            // parks, all reasons
    std::uint64_t parks_by_reason[kParkReasonCount] = {};
    std::uint64_t timers_armed = 0;      // timers waiting now (sleeps, timeouts, deadlines)
    std::uint64_t io_waits_started = 0;  // I/O operations submitted or readiness waits begun
    std::uint64_t io_waiting = 0;        // fibers parked in the I/O backend now
    // Fiber stacks: the address space the hub's stack pool mapped (stacks and their guard
    // pages, in use or free; reserved, not committed: MAP_NORESERVE), and how much of it is
    // resident now (mincore over those mappings, counted when stats are asked for; pages
    // handed back with MADV_FREE count until the kernel reclaims them).
    std::uint64_t stack_reserved_bytes = 0;
    std::uint64_t stack_resident_bytes = 0;
    // The process's offload pool (green::offload, default_threadpool()), the same in every
    // hub's entry: threads started, threads running a call now, calls waiting for a thread.
    std::uint64_t offload_threads = 0;
    std::uint64_t offload_busy = 0;
    std::uint64_t offload_queued = 0;
};

// The calling thread's hub (created if it has none).
HubStats hub_stats();
// Every hub of the process, the calling one first; a hub that does not answer within a second
// is left out.
std::vector<HubStats> stats();

// Events, in the spirit of gevent.events: a process-wide hook called on the hub's thread, in the
// order things happen, except HubBlocked and the memory events (the blocking monitor's thread).
// It must not switch, block or throw. With no hook set each place costs one predictable branch.
enum class RuntimeEventKind : std::uint8_t {
    Spawn,       // a fiber was queued to start (fiber: its id)
    SwitchIn,    // a fiber is about to run (fiber: its id; 0 for main, the loop, raw greenlets)
    Finish,      // a fiber's body returned or was killed (fiber: its id)
    HubBlocked,  // the blocking monitor saw a fiber run past its threshold (fiber: its id)
    // Resident memory went above the memory threshold (gevent's MemoryUsageThresholdExceeded);
    // once per crossing. fiber and os_tid are 0.
    MemoryThresholdExceeded,
    // ...and came back to it or below (gevent's MemoryUsageUnderThreshold); once per crossing.
    MemoryUnderThreshold,
};

struct RuntimeEvent {
    RuntimeEventKind kind;
    std::uint64_t fiber;  // greenlet id, 0 for the main fiber, the loop and raw greenlets
    long os_tid;          // the hub's OS thread
    Duration ran;         // HubBlocked: how long it has run without yielding
    std::uint64_t resident_bytes = 0;    // memory events: the resident memory sampled
    std::uint64_t memory_threshold = 0;  // memory events: the threshold it crossed
};

using EventHook = void (*)(const RuntimeEvent& event, void* arg);

// Sets the hook (nullptr removes it). The previous one may still be running on another thread
// when this returns; `arg` is passed to it unchanged. The calling thread's hub reports switches
// from now on; another hub from its next loop turn (at most 64 switches, or its next idle wait):
// its switch path tests one byte of its own, not the global hook.
void set_event_hook(EventHook hook, void* arg = nullptr) noexcept;

// Watches the process's resident memory against `bytes` (0: stop watching): the blocking
// monitor's thread reads it (/proc/self/statm) every 100 ms, or at the monitor's period when
// that is shorter, and emits MemoryThresholdExceeded / MemoryUnderThreshold once per crossing.
// GREEN_MAX_MEMORY=<size> (k, m, g suffixes) sets it when the first hub is created. Nothing
// runs while no threshold is set.
void set_memory_threshold(std::uint64_t bytes);
// The threshold now (0: none).
std::uint64_t memory_threshold() noexcept;

}  // namespace green
