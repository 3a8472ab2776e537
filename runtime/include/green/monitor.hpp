// The blocking monitor (gevent's monitor_thread): a watchdog OS thread that notices when one
// fiber keeps its hub busy longer than a threshold without switching — a blocking call that was
// not made cooperative, or a long computation — and names it on stderr.
#pragma once

#include <functional>
#include <string_view>

#include "green/clock.hpp"

namespace green {

// Called on the monitor's thread with the fiber's name and how long it has held its hub so far.
using MonitorReport = std::function<void(std::string_view fiber_name, Duration ran)>;

// Watches the calling thread's hub: a fiber that runs longer than `threshold` without switching
// is reported once per episode ("main" is the thread's own stack). Time the hub's thread waited
// for a CPU while runnable (a loaded machine) is not counted; time blocked in the kernel is
// (the kernel's schedstat; where it has none, wall time). The default report prints a
// line on stderr; a custom one must not call start_monitor. A threshold <= 0 stops watching.
// GREEN_MONITOR_MS=<ms> (greenrun --monitor MS) watches every hub from its creation.
void start_monitor(Duration threshold, MonitorReport report = {});

}  // namespace green
