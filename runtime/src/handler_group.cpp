// HandlerGroup bookkeeping: a finished handler frees its slot and wakes whoever waits for the
// group to drain; kill_all also sweeps handlers that were killed before they ever ran.
#include "handler_group.hpp"

#include <vector>

namespace green::detail {

void HandlerGroup::finished(GreenletCore* core) noexcept {
    if (live_.erase(core) == 0) return;
    slot_free_.notify_one();
    changed_.notify_all();
    // Last: a thread that reads the count at zero (acquire) may destroy the group at once.
    count_.fetch_sub(1, std::memory_order_release);
}

std::size_t HandlerGroup::others(GreenletCore* spare) const {
    return live_.size() - (spare && live_.count(spare) ? 1 : 0);
}

bool HandlerGroup::wait_idle(Deadline deadline, GreenletCore* spare) {
    while (others(spare) > 0) {
        if (!changed_.wait(deadline)) return others(spare) == 0;
    }
    return true;
}

void HandlerGroup::kill_all(GreenletCore* spare) {
    std::vector<GreenletHandle> victims;
    victims.reserve(live_.size());
    for (auto& [core, g] : live_)
        if (core != spare) victims.push_back(g);
    killall(victims, /*block=*/true);
    // A greenlet killed before it started never runs its body, so it never reported itself.
    for (auto& g : victims)
        if (g.dead()) finished(detail::core_ptr_of(g));
}

}  // namespace green::detail
