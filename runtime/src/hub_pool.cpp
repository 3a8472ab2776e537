// HubPool: one real OS thread per hub. Each thread's main fiber parks on a cross-thread Event
// until stop(); greenlets are started on a hub by a closure posted to its mailbox.
#include "green/hub_pool.hpp"

#include <pthread.h>
#include <sched.h>

#include <future>
#include <stdexcept>
#include <string>

#include "green/event.hpp"
#include "os_thread.hpp"
#include "scheduler.hpp"

namespace green {

struct HubPool::Worker {
    std::thread thread;
    HubHandle handle;
    detail::Hub* hub = nullptr;
    Event stop{cross_thread};  // its main fiber waits here, keeping the hub alive
    bool stopping = false;     // hub thread only: greenlets posted from now on never start
};

namespace {

void pin_to_cpu(std::size_t i) {
    cpu_set_t allowed;
    if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
    const int n = CPU_COUNT(&allowed);
    if (n <= 0) return;
    int want = static_cast<int>(i % static_cast<std::size_t>(n));
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (!CPU_ISSET(cpu, &allowed)) continue;
        if (want-- == 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            ::pthread_setaffinity_np(::pthread_self(), sizeof one, &one);
            return;
        }
    }
}

// Kills what still runs on this hub, until nothing does (a dying greenlet may spawn more).
void kill_everything(detail::Hub& hub) {
    for (;;) {
        std::vector<GreenletHandle> live;
        for (auto* l = hub.fibers().front(); l; l = l->next) {
            auto* core = dynamic_cast<detail::GreenletCore*>(&detail::Fiber::of(*l));
            if (core && !core->ready()) live.emplace_back(core);
        }
        if (live.empty()) return;
        killall(live, true);
    }
}

// Owns a greenlet that was posted to a hub: if the hub exits before the post runs, the
// greenlet never runs and is finished as killed, so its joiners do not wait for ever.
struct PendingStart {
    GreenletHandle g;
    SpawnOptions opts;
    bool started = false;
    PendingStart(GreenletHandle h, SpawnOptions o) : g(std::move(h)), opts(std::move(o)) {}
    PendingStart(const PendingStart&) = delete;
    PendingStart& operator=(const PendingStart&) = delete;
    ~PendingStart() {
        if (started) return;
        auto& core = detail::core_of(g);
        if (!core.ready()) detail::finish_unstarted(core, std::make_exception_ptr(GreenletExit()));
    }
};

}  // namespace

HubPool::HubPool(std::size_t n, HubPoolOptions opts) {
    if (n == 0) throw std::invalid_argument("green::HubPool: needs at least one hub");
    workers_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>());
    try {
        for (std::size_t i = 0; i < n; ++i) {
            Worker& w = *workers_[i];
            std::promise<void> up;
            auto started = up.get_future();
            w.thread = detail::start_os_thread([&w, &up, i, pin = opts.pin_cpus] {
                if (pin) pin_to_cpu(i);
                detail::Hub& hub = detail::Hub::get();
                hub.set_pooled();
                w.hub = &hub;
                w.handle = hub.handle();
                up.set_value();
                w.stop.wait();
                w.stopping = true;
                kill_everything(hub);
            });
            started.wait();
        }
    } catch (...) {
        stop();
        throw;
    }
}

HubPool::~HubPool() {
    stop();
}

HubHandle HubPool::handle(std::size_t i) const {
    if (i >= workers_.size())
        throw std::out_of_range("green::HubPool: no hub " + std::to_string(i) + " (size " +
                                std::to_string(workers_.size()) + ")");
    return workers_[i]->handle;
}

std::size_t HubPool::current_index() const noexcept {
    detail::Hub* here = detail::Hub::peek();
    for (std::size_t i = 0; i < workers_.size(); ++i)
        if (here && workers_[i]->hub == here) return i;
    return workers_.size();
}

std::size_t HubPool::next_index() noexcept {
    return next_.fetch_add(1, std::memory_order_relaxed) % workers_.size();
}

void HubPool::start_on(std::size_t i, detail::GreenletCore& core, const SpawnOptions& opts) {
    Worker& w = *workers_.at(i);
    auto pending = std::make_shared<PendingStart>(GreenletHandle(&core), opts);
    auto run = [pending, &w] {
        pending->started = true;
        auto& c = detail::core_of(pending->g);
        if (w.stopping) {  // stop() already killed this hub's greenlets: this one never runs
            if (!c.ready()) detail::finish_unstarted(c, std::make_exception_ptr(GreenletExit()));
            return;
        }
        detail::start(c, pending->opts, std::nullopt);
    };
    if (detail::Hub::peek() == w.hub) return run();
    if (stopped_.load(std::memory_order_acquire) || !w.handle.post(run))
        throw std::logic_error("green::HubPool::spawn after stop()");
}

void HubPool::stop() {
    if (current_index() < workers_.size())
        throw std::logic_error("green::HubPool::stop from one of the pool's own hubs");
    stopped_.store(true, std::memory_order_release);
    for (auto& w : workers_)
        if (w->thread.joinable()) w->stop.set();
    for (auto& w : workers_)
        if (w->thread.joinable()) w->thread.join();
}

}  // namespace green
