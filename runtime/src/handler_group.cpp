// HandlerGroup bookkeeping: a finished handler frees its slot and wakes whoever waits for the
// group to drain; kill_all also sweeps handlers that were killed before they ever ran.
#include "handler_group.hpp"

#include <vector>

namespace green::detail {

void HandlerGroup::finished(GreenletCore* core) noexcept {
    if (live_.erase(core) == 0) return;
    slot_free_.notify_one();
    changed_.notify_all();
}

std::size_t HandlerGroup::others() const {
    GreenletCore* self = current_greenlet();
    return live_.size() - (self && live_.count(self) ? 1 : 0);
}

bool HandlerGroup::wait_idle(Deadline deadline) {
    while (others() > 0) {
        if (!changed_.wait(deadline)) return others() == 0;
    }
    return true;
}

void HandlerGroup::kill_all() {
    GreenletCore* self = current_greenlet();
    std::vector<GreenletHandle> victims;
    victims.reserve(live_.size());
    for (auto& [core, g] : live_)
        if (core != self) victims.push_back(g);
    killall(victims, /*block=*/true);
    // A greenlet killed before it started never runs its body, so it never reported itself.
    for (auto& g : victims)
        if (g.dead()) finished(detail::core_ptr_of(g));
}

}  // namespace green::detail
