// The list of hubs (hub_list.hpp).
#include "hub_list.hpp"

#include <pthread.h>

#include <new>

#include "scheduler.hpp"

namespace green::detail {

namespace {

// fork(2): only the forking thread exists in the child, with (if it has one) its hub, which
// Hub::reinit_after_fork has given a new mailbox by now (its handler was registered first).
// The list's lock is not held by a thread that is gone unless one was mid-update at the fork,
// which placement-new sidesteps.
void keep_only_the_forking_hub() noexcept {
    auto& l = hub_list();
    new (&l.mu) std::mutex;
    Hub* mine = Hub::peek();
    std::erase_if(l.entries, [&](const HubEntry& e) { return e.hub != mine; });
    for (auto& e : l.entries) e.mailbox = mine->mailbox();
}

}  // namespace

HubList& hub_list() {
    static auto* l = [] {
        (void)::pthread_atfork(nullptr, nullptr, keep_only_the_forking_hub);
        return new HubList;
    }();
    return *l;
}

void hub_list_add(Hub& hub) noexcept {
    try {
        auto& l = hub_list();
        std::lock_guard lk(l.mu);
        std::erase_if(l.entries, [](const HubEntry& e) {
            auto m = e.mailbox.lock();
            if (!m) return true;
            std::lock_guard alive(m->mu);
            return !m->open;
        });
        l.entries.push_back(HubEntry{&hub, hub.mailbox(), nullptr});
    } catch (...) {
    }
}

}  // namespace green::detail
