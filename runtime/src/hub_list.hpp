// The one list of every hub in the process, for the code that looks at hubs from another
// thread: format_run_info (asks each hub through its mailbox) and the blocking monitor (samples
// each watched hub's switch counter). A hub is alive while its mailbox is open (read under the
// mailbox's lock, which the hub's destructor takes first).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

namespace green::detail {

class Hub;
struct Mailbox;
struct MonitorWatch;  // monitor.cpp

struct HubEntry {
    Hub* hub;
    std::weak_ptr<Mailbox> mailbox;       // not kept alive here: its eventfd closes with the hub
    std::shared_ptr<MonitorWatch> watch;  // set while the blocking monitor watches this hub
};

struct HubList {
    std::mutex mu;
    std::vector<HubEntry> entries;
};

// Never destroyed: hubs of other threads may outlive main.
HubList& hub_list();

// At the end of Hub's constructor: lists it (dropping hubs that went away). In a forked child
// the list keeps the forking thread's hub only, with its new mailbox.
void hub_list_add(Hub& hub) noexcept;

}  // namespace green::detail
