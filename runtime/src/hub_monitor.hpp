// Internal side of the blocking monitor: every new hub offers itself here, and is watched when
// GREEN_MONITOR_MS is set.
#pragma once

namespace green::detail {

class Hub;

// Called at the end of Hub's constructor, on the hub's own thread.
void monitor_hub_created(Hub& hub) noexcept;

}  // namespace green::detail
