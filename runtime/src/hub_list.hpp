// The one list of every hub in the process, for the code that looks at hubs from another
// thread: format_run_info (asks each hub through its mailbox) and the blocking monitor (samples
// each watched hub's switch counter). A hub is alive while its mailbox is open (read under the
// mailbox's lock, which the hub's destructor takes first).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "scheduler.hpp"

namespace green::detail {

struct MonitorWatch;  // monitor.cpp

struct HubEntry {
    Hub* hub;
    std::weak_ptr<Mailbox> mailbox;       // not kept alive here: a dead hub's goes back for reuse
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

// Calls fn(hub) on the thread of every hub but `mine`, one hub at a time, waiting up to a second
// for each. A hub that does not answer in time (busy, or blocked in a system call) gives
// nullopt; one that went away meanwhile is left out. The calling thread waits meanwhile.
template <class T, class Fn>
std::vector<std::optional<T>> ask_other_hubs(const Hub& mine, Fn fn) {
    std::vector<std::shared_ptr<Mailbox>> others;
    {
        auto& l = hub_list();
        std::lock_guard lk(l.mu);
        for (auto& e : l.entries)
            if (auto m = e.mailbox.lock(); m && m != mine.mailbox()) others.push_back(std::move(m));
    }
    struct Answer {
        std::mutex mu;
        std::condition_variable cv;
        std::optional<T> value;
        bool done = false;
    };
    std::vector<std::optional<T>> out;
    for (auto& m : others) {
        auto answer = std::make_shared<Answer>();  // outlives a wait that gave up
        const bool posted = m->post([answer, fn] {
            std::optional<T> v;
            if (Hub* h = Hub::peek()) v.emplace(fn(*h));
            std::lock_guard lk(answer->mu);
            answer->value = std::move(v);
            answer->done = true;
            answer->cv.notify_all();
        });
        if (!posted) continue;  // that hub is going away
        std::unique_lock lk(answer->mu);
        if (!answer->cv.wait_for(lk, std::chrono::seconds(1), [&] { return answer->done; }))
            out.emplace_back(std::nullopt);
        else if (answer->value)
            out.push_back(std::move(answer->value));
    }
    return out;
}

}  // namespace green::detail
