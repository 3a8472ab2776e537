// The blocking monitor: one real OS thread samples each watched hub's switch counter; when it
// has not moved for the threshold while a fiber (not the loop, which may just be polling) is
// current, that fiber is reported, once per episode: its name, its backtrace (captured on the
// hub's thread by a signal, named here) and what it last waited for. Hubs are reached under
// their mailbox lock, which the hub's destructor takes first, so a hub is never read after it
// started to go away. The same thread samples resident memory when a threshold is set
// (set_memory_threshold, GREEN_MAX_MEMORY) and emits its crossings.
#include "green/monitor.hpp"

#include "green/stats.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backtrace.hpp"
#include "config.hpp"
#include "event_hook.hpp"
#include "hub_list.hpp"
#include "hub_monitor.hpp"
#include "os_thread.hpp"
#include "resident_memory.hpp"
#include "run_delay.hpp"
#include "sanitizer.hpp"
#include "scheduler.hpp"
#include "stall_capture.hpp"

namespace green {

namespace detail {

// The monitor's state for one watched hub, in its entry of the hub list.
struct MonitorWatch {
    Duration threshold;
    MonitorReport report;  // empty: the default report (with the backtrace)
    std::uint64_t last_switches;
    Clock::time_point since;
    bool reported = false;
    // The hub thread's run-queue time at `since` (-1: unknown), read through `run_delay`.
    std::int64_t since_delay_ns = -1;
    RunDelay run_delay;
};

namespace {

// What the default report adds to the name: the stalled fiber's stack and its latest wait.
struct Stall {
    Duration cpu_wait{};  // the hub thread's run-queue time in the episode (not in `ran`)
    Frames frames;
    bool captured = false;
    WaitInfo last_wait;
    std::int64_t parked_ago_ns = -1;  // since its latest park; -1: never parked
};

void print_report(std::string_view name, Duration ran, const Stall& st) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ran).count();
    char head[256];
    std::snprintf(head, sizeof head,
                  "green: monitor: fiber '%.*s' has run for %lld ms without yielding "
                  "(a blocking call or a long computation is stalling its hub)\n",
                  static_cast<int>(name.size()), name.data(), static_cast<long long>(ms));
    std::string text = head;
    if (st.cpu_wait >= std::chrono::milliseconds(1)) {
        std::snprintf(
            head, sizeof head,
            "  its thread also waited %lld ms for a CPU meanwhile (not counted above)\n",
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(st.cpu_wait).count()));
        text += head;
    }
    {
        const Stall* stall = &st;
        if (stall->parked_ago_ns >= 0 && stall->last_wait.last_kind != WaitKind::None) {
            char ago[64];
            std::snprintf(ago, sizeof ago, "  it last waited %.3fs ago, for: ",
                          static_cast<double>(stall->parked_ago_ns) / 1e9);
            text += ago;
            WaitInfo w = stall->last_wait;
            w.deadline_ns = 0;  // long gone
            append_wait(text, w, w.last_kind, 0);
            text += '\n';
        } else {
            text += "  it has not waited since it started\n";
        }
        Backtracer bt;
        if (!bt.unavailable().empty())
            text += "  (no backtrace: " + bt.unavailable() + ")\n";
        else if (!stall->captured)
            text +=
                "  (no backtrace: its thread did not answer SIGURG, or the program handles "
                "SIGURG itself)\n";
        else
            bt.append(text, stall->frames, "    ");
    }
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
}

// The threshold as set_memory_threshold last set it, readable without the monitor's lock.
std::atomic<std::uint64_t> g_memory_threshold{0};

class Monitor {
  public:
    static Monitor& instance();

    Monitor() {
        if (config().max_memory) set_memory_threshold(config().max_memory);
    }

    ~Monitor() {
        {
            std::lock_guard lk(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    void watch(Hub& hub, Duration threshold, MonitorReport report) {
        std::lock_guard lk(mu_);
        {
            auto& l = hub_list();
            std::lock_guard list(l.mu);
            auto it = std::find_if(l.entries.rbegin(), l.entries.rend(),
                                   [&](const HubEntry& e) { return e.hub == &hub; });
            if (it == l.entries.rend()) return;  // not listed: it could not be (out of memory)
            if (threshold <= Duration::zero()) {
                it->watch.reset();
                return;
            }
            if (it->watch) {
                it->watch->threshold = threshold;
                it->watch->report = std::move(report);
            } else {
                auto w = std::make_shared<MonitorWatch>();
                w->threshold = threshold;
                w->report = std::move(report);
                w->last_switches = hub.switch_count();
                w->since = Clock::now();
                w->since_delay_ns = w->run_delay.read(hub.os_tid());
                it->watch = std::move(w);
            }
        }
        start_locked();
        cv_.notify_all();
    }

    void set_memory_threshold(std::uint64_t bytes) {
        std::lock_guard lk(mu_);
        memory_.set(bytes);
        g_memory_threshold.store(bytes, std::memory_order_relaxed);
        if (bytes) start_locked();
        cv_.notify_all();
    }

    // fork(2): the monitor thread does not exist in the child; the forking thread's hub, the one
    // the hub list kept (its handler ran before this one), is watched by a fresh one if it was.
    void prepare_fork() { mu_.lock(); }
    void parent_after_fork() { mu_.unlock(); }
    void child_after_fork() {
        (void)new std::thread(std::move(thread_));  // the parent's thread: never joinable here
        running_ = false;
        bool any = memory_.bytes() != 0;
        for (const auto& e : hub_list().entries) any = any || e.watch;
        if (any) start_locked();
        mu_.unlock();
    }

  private:
    // A report to make once the hub list is unlocked.
    struct Due {
        std::string name;
        std::uint64_t fiber_id = 0;
        long os_tid = 0;
        Duration ran;
        std::shared_ptr<MonitorWatch> watch;
        Stall stall;
    };

    void start_locked() {
        if (running_ || stopping_) return;
        static const bool fork_safe = ::pthread_atfork([] { instance().prepare_fork(); },
                                                       [] { instance().parent_after_fork(); },
                                                       [] { instance().child_after_fork(); }) == 0;
        (void)fork_safe;
        thread_ = start_os_thread([this] { run(); });
        running_ = true;
    }

    static Duration period() {
        Duration p = std::chrono::milliseconds(100);
        auto& l = hub_list();
        std::lock_guard list(l.mu);
        for (const auto& e : l.entries)
            if (e.watch) p = std::min(p, e.watch->threshold / 4);
        return std::max<Duration>(p, std::chrono::milliseconds(1));
    }

    void run() {
        std::unique_lock lk(mu_);
        while (!stopping_) {
            cv_.wait_for(lk, period());
            if (stopping_) break;
            const auto now = Clock::now();
            std::vector<Due> due;
            {
                auto& l = hub_list();
                std::lock_guard list(l.mu);
                for (auto& e : l.entries)
                    if (e.watch) check(e, now, due);
            }
            for (auto& d : due) {
                emit_event(RuntimeEventKind::HubBlocked, d.fiber_id, d.os_tid, d.ran);
                try {
                    if (d.watch->report)
                        d.watch->report(d.name, d.ran);
                    else
                        print_report(d.name, d.ran, d.stall);
                } catch (...) {
                    std::fprintf(stderr, "green: monitor: the report callback threw\n");
                }
            }
            sample_memory(lk);
        }
    }

    // One resident-memory sample against the threshold, if one is set; a crossing is emitted
    // with the lock released, so that the hook may set another threshold.
    void sample_memory(std::unique_lock<std::mutex>& lk) {
        const std::uint64_t threshold = memory_.bytes();
        if (!threshold) return;
        const std::uint64_t resident = resident_bytes();
        const auto crossing = memory_.sample(resident);
        if (crossing == MemoryThreshold::Crossing::None) return;
        lk.unlock();
        emit_memory_event(crossing == MemoryThreshold::Crossing::Exceeded
                              ? RuntimeEventKind::MemoryThresholdExceeded
                              : RuntimeEventKind::MemoryUnderThreshold,
                          resident, threshold);
        lk.lock();
    }

    // Adds a report to `due` when the hub has stalled; stops watching a hub that went away.
    static void check(HubEntry& e, Clock::time_point now, std::vector<Due>& due) {
        MonitorWatch& w = *e.watch;
        auto mailbox = e.mailbox.lock();
        if (!mailbox) {
            e.watch.reset();
            return;
        }
        Hub* hub = e.hub;
        Due d;
        Duration held{};
        {
            std::lock_guard hub_alive(mailbox->mu);
            if (!mailbox->open) {
                e.watch.reset();
                return;
            }
            // What follows reads the hub thread's fields without its lock; the switch counter,
            // read again after each look, says whether it held still meanwhile.
            [[maybe_unused]] const tsan::IgnoreReads seqlock;
            const std::uint64_t s = hub->switch_count();
            if (s != w.last_switches) {
                w.last_switches = s;
                w.since = now;
                w.since_delay_ns = w.run_delay.read(hub->os_tid());
                w.reported = false;
                return;
            }
            if (w.reported || now - w.since < w.threshold) return;
            // The loop fiber being current means the hub is idle in its poll, not stalled.
            if (hub->in_loop_fiber()) return;
            // Time the hub's thread sat runnable while other threads had the CPU is the OS
            // scheduler's, not the fiber's: on a loaded machine a fiber that yields every few
            // milliseconds was reported when its thread waited 40 ms for a core. Time blocked
            // in the kernel still counts (the thread sleeps; it is not on a run queue).
            held = now - w.since;
            if (w.since_delay_ns >= 0) {
                const std::int64_t delay = w.run_delay.read(hub->os_tid());
                if (delay >= w.since_delay_ns)
                    d.stall.cpu_wait = std::chrono::nanoseconds(delay - w.since_delay_ns);
                held -= d.stall.cpu_wait;
            }
            if (held < w.threshold) return;
            // The counter has not moved, so the current fiber cannot have died meanwhile; the
            // second read discards a name taken while it was switching away.
            Fiber* f = hub->current();
            d.name = f == &hub->main_fiber() ? std::string("main") : f->name();
            d.fiber_id = f->id();
            d.os_tid = hub->os_tid();
            if (hub->switch_count() != s) return;
            if (!w.report) {
                // The hub thread stays in that fiber while the counter stands still: its
                // stack, captured there, and its latest wait are the stall's.
                Stall& stall = d.stall;
                stall.last_wait = f->wait_info();
                if (stall.last_wait.kind != WaitKind::None)  // spinning inside a wait's scope
                    stall.last_wait.last_kind = stall.last_wait.kind;
                stall.captured =
                    capture_thread(hub->os_tid(), stall.frames, std::chrono::milliseconds(200));
                if (hub->switch_count() != s) return;
                if (stall.last_wait.since_ns)
                    stall.parked_ago_ns = coarse_now_ns() - stall.last_wait.since_ns;
            }
        }
        w.reported = true;
        d.ran = held;
        d.watch = e.watch;
        due.push_back(std::move(d));
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::thread thread_;
    bool running_ = false;
    bool stopping_ = false;
    MemoryThreshold memory_;  // guarded by mu_
};

Monitor& Monitor::instance() {
    static Monitor m;
    return m;
}

Duration env_threshold() {
    return std::chrono::milliseconds(config().monitor_ms);  // GREEN_MONITOR_MS; 0: off
}

}  // namespace

void monitor_hub_created(Hub& hub) noexcept {
    if (config().max_memory) {
        try {
            (void)Monitor::instance();  // applies GREEN_MAX_MEMORY
        } catch (const std::exception& e) {
            std::fprintf(stderr, "green: cannot start the memory monitor: %s\n", e.what());
        }
    }
    const Duration d = env_threshold();
    if (d <= Duration::zero()) return;
    try {
        Monitor::instance().watch(hub, d, {});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "green: cannot start the blocking monitor: %s\n", e.what());
    }
}

}  // namespace detail

void start_monitor(Duration threshold, MonitorReport report) {
    detail::Monitor::instance().watch(detail::Hub::get(), threshold, std::move(report));
}

void set_memory_threshold(std::uint64_t bytes) {
    detail::Monitor::instance().set_memory_threshold(bytes);
}

std::uint64_t memory_threshold() noexcept {
    return detail::g_memory_threshold.load(std::memory_order_relaxed);
}

}  // namespace green
