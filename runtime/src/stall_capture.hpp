// The stack of whatever another OS thread of this process is running right now: the blocking
// monitor's view of a stalled fiber. A signal makes that thread record its own program counters
// in the handler; they are named later, on the asking thread.
#pragma once

#include <sys/types.h>

#include "backtrace.hpp"
#include "green/clock.hpp"

namespace green::detail {

// The signal used: SIGURG, as Go's preemption (its default action is to ignore it, and programs
// rarely handle it). Installed on first use unless the program handles SIGURG itself.
// True with `out` filled when thread `tid` answered within `wait`; false when the program
// handles SIGURG itself, the signal is blocked on that thread, or it did not answer. One
// capture at a time in the process (callers are serialized).
bool capture_thread(pid_t tid, Frames& out, Duration wait) noexcept;

}  // namespace green::detail
