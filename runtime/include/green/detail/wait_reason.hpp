// Why a parked fiber waits: recorded where it parks (cheap stores, nothing on the switch path)
// and read by green::format_run_info (run_info.hpp).
#pragma once

#include <cstdint>

namespace green::detail {

enum class WaitKind : std::uint8_t {
    None,         // not recorded (a park the runtime did not label)
    Sleep,        // green::sleep
    Io,           // wait_fd / a socket, pipe or file operation: fd and events
    Event,        // Event::wait
    AsyncResult,  // AsyncResult::get / wait
    Lock,         // Lock acquire
    Semaphore,    // Semaphore / BoundedSemaphore acquire
    QueueGet,     // Queue family: get
    QueuePut,     // Queue family: put on a full queue
    QueuePeek,    // Queue family: peek
    QueueJoin,    // JoinableQueue::join
    Join,         // join of a greenlet
    Offload,      // a job on the offload thread pool
    Idle,         // green::idle
    Signal,       // a signal wait
    WaitQueue,    // another primitive built on WaitQueue
    Select,       // green::select over several queues and channels
};

// A short lower-case name ("sleep", "io", "event", ...).
const char* wait_kind_name(WaitKind k) noexcept;

}  // namespace green::detail
