// Several hubs in one process: HubPool starts N OS threads, each running a hub, and spawns
// greenlets on them. Fibers never move between hubs (errno, thread_local and the kernel's view of
// the thread stay stable); parallelism comes from where greenlets are placed.
//
// A greenlet spawned on a pool hub (by HubPool::spawn, or by spawn() inside a pool hub) may be
// joined, killed and linked from a fiber of any hub and from a plain thread: those calls travel to
// its hub through the hub's mailbox (HubHandle::post), and the answer comes back the same way.
// Link callbacks run in a new greenlet on the greenlet's own hub.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "green/greenlet.hpp"
#include "green/hub.hpp"

namespace green {

struct HubPoolOptions {
    // Pin hub i to the i-th CPU of the process's affinity mask (modulo their number).
    bool pin_cpus = false;
};

class HubPool {
  public:
    // Starts n hubs (n >= 1, else std::invalid_argument) and returns once all of them run.
    explicit HubPool(std::size_t n, HubPoolOptions opts = {});
    HubPool(const HubPool&) = delete;
    HubPool& operator=(const HubPool&) = delete;
    // stop().
    ~HubPool();

    std::size_t size() const noexcept { return workers_.size(); }
    // Hub i's mailbox (post work to it; HubHandle::KeepAlive).
    HubHandle handle(std::size_t i) const;
    // The index of the pool hub the calling thread runs, or size() when it runs none of them.
    std::size_t current_index() const noexcept;

    // Starts f(args...) in a new greenlet on hub i (std::out_of_range when i >= size(); after
    // stop(), std::logic_error). It starts at that hub's next loop turn.
    template <class F, class... Args>
    Greenlet<SpawnResult<F, Args...>> spawn_on(std::size_t i, const SpawnOptions& opts, F&& f,
                                               Args&&... args) {
        using R = SpawnResult<F, Args...>;
        auto bound = detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...);
        HubHandle home = handle(i);  // std::out_of_range before anything is allocated
        auto* core = new detail::BoundCore<R, decltype(bound)>(std::move(bound));
        Greenlet<R> g(core);              // frees the core if set_home throws (no memory)
        core->set_home(std::move(home));  // before it is shared: its count is atomic now
        start_on(i, *core, opts);
        return g;
    }
    template <class F, class... Args>
    requires(!std::is_same_v<std::decay_t<F>, SpawnOptions>)
        Greenlet<SpawnResult<F, Args...>> spawn(std::size_t i, F&& f, Args&&... args) {
        return spawn_on(i, SpawnOptions{}, std::forward<F>(f), std::forward<Args>(args)...);
    }
    // Placement chosen by the pool: round robin over the hubs, in spawn order (a counter shared by
    // every thread). Round robin rather than least-loaded: a hub's load is its fibers' future CPU
    // use, which no count of them predicts, and reading other hubs' run queues would put a
    // shared cache line on every spawn.
    template <class F, class... Args>
    requires(!std::is_integral_v<std::decay_t<F>> && !std::is_same_v<std::decay_t<F>, SpawnOptions>)
        Greenlet<SpawnResult<F, Args...>> spawn(F&& f, Args&&... args) {
        return spawn_on(next_index(), SpawnOptions{}, std::forward<F>(f),
                        std::forward<Args>(args)...);
    }

    // Kills every greenlet still running on the pool's hubs (GreenletExit, waiting for each to
    // unwind), then ends and joins the hub threads. Idempotent. Not from a pool hub itself
    // (std::logic_error: it would join its own thread).
    void stop();

  private:
    struct Worker;
    std::size_t next_index() noexcept;
    void start_on(std::size_t i, detail::GreenletCore& core, const SpawnOptions& opts);

    std::vector<std::unique_ptr<Worker>> workers_;
    std::atomic<std::size_t> next_{0};
    std::atomic<bool> stopped_{false};
};

}  // namespace green
