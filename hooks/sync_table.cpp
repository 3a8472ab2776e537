// The thread hooks' shared machinery: absolute-time deadlines, waits that hold kill/Timeout
// back from C callers, the poll back-off for objects held outside this hub, and the side table.
#include "sync_table.hpp"

#include "green/hub.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace green::hooks::sync {

Deadline deadline_from(clockid_t clock, const timespec& abstime) noexcept {
    if (abstime.tv_sec < 0) return Deadline(Clock::now());  // long past (and no overflow below)
    timespec now{};
    ::clock_gettime(clock, &now);
    const long long sec = static_cast<long long>(abstime.tv_sec) - now.tv_sec;
    constexpr long long kCentury = 100LL * 365 * 24 * 3600;
    if (abstime.tv_sec > now.tv_sec && sec > kCentury) return Deadline::never();
    if (sec < -kCentury) return Deadline(Clock::now());
    const long long ns = sec * 1000000000LL + (abstime.tv_nsec - now.tv_nsec);
    if (ns <= 0) return Deadline(Clock::now());
    return Deadline(Clock::now() + std::chrono::nanoseconds(ns));
}

Masked::~Masked() {
    if (!held_) return;
    rt::interrupt(*ctx_.hub, *ctx_.self, held_);
    for (auto& e : more_) rt::interrupt(*ctx_.hub, *ctx_.self, std::move(e));
}

void Masked::hold(std::exception_ptr e) noexcept {
    if (!held_) {
        held_ = std::move(e);
        return;
    }
    try {
        more_.push_back(std::move(e));
    } catch (...) {  // no memory for a second one: the first is still delivered
    }
}

Deadline Backoff::next(const Deadline& user) noexcept {
    Deadline poll(Clock::now() + std::chrono::microseconds(us_));
    us_ = std::min(us_ * 2, 10000L);
    return earliest(user, poll);
}

void await_outside(FiberCtx c, const char* where) noexcept {
    static std::atomic<bool> said{false};
    if (!said.exchange(true)) {
        // Raw system calls: stderr may be a pipe that the I/O hooks would wait on.
        static const char msg[] = "green: every fiber is blocked (";
        static const char tail[] = "); waiting for a signal or another thread\n";
        (void)!::syscall(SYS_write, 2, msg, sizeof msg - 1);
        (void)!::syscall(SYS_write, 2, where, __builtin_strlen(where));
        (void)!::syscall(SYS_write, 2, tail, sizeof tail - 1);
    }
    // Until another thread posts to the hub (wake_from_outside) or a signal arrives.
    rt::sleep_until_posted(*c.hub);
}

thread_local Table* t_table = nullptr;

namespace {

// A forked child keeps only the calling thread, and gets a fresh hub: waiters recorded in
// the parent's table are fibers that do not exist there. Start the child with an empty table.
[[gnu::constructor]] void forget_parent_table_on_fork() {
    ::pthread_atfork(nullptr, nullptr, [] { t_table = nullptr; });
}

// Hubs that have a side table: where wake_from_outside() posts.
std::atomic_flag g_hubs_lock = ATOMIC_FLAG_INIT;
std::vector<HubHandle>* g_hubs = nullptr;  // never freed: posts may come during exit

struct HubsLock {
    HubsLock() noexcept {
        while (g_hubs_lock.test_and_set(std::memory_order_acquire)) {
        }
    }
    ~HubsLock() { g_hubs_lock.clear(std::memory_order_release); }
};

}  // namespace

Table& new_table() noexcept {
    // In private memory, and published before anything below allocates: registering the hub
    // may call the program's malloc, which may lock a mutex, which comes back here.
    void* mem = private_pages(sizeof(Table));
    if (!mem) std::abort();  // out of memory before the first pthread object could be used
    t_table = ::new (mem) Table();
    HubHandle here = rt::handle(rt::hub_or_create());
    HubsLock lk;
    if (!g_hubs) __atomic_store_n(&g_hubs, new std::vector<HubHandle>(), __ATOMIC_RELEASE);
    g_hubs->push_back(std::move(here));
    return *t_table;
}

void wake_from_outside(const void* obj) noexcept {
    // Only hubs with a side table are listed, and only patched threads make one: no need to
    // read the configuration here (this may run early in start-up, before the environment).
    if (!__atomic_load_n(&g_hubs, __ATOMIC_ACQUIRE)) return;
    std::vector<HubHandle> hubs;
    {
        HubsLock lk;
        if (!g_hubs || g_hubs->empty()) return;
        try {
            hubs = *g_hubs;
        } catch (...) {
            return;
        }
    }
    for (const HubHandle& h : hubs) {
        try {
            h.post([obj] {
                if (Entry* e = t_table ? t_table->find(obj) : nullptr) e->queue.notify_all();
            });
        } catch (...) {
        }
    }
}

Table* table_if_any() noexcept {
    // No hub (any more: exit() destroys it before atexit handlers run): the waiters recorded
    // here belong to it and must not be touched.
    if (!t_table || !rt::hub() || !patched(Need::Threads)) return nullptr;
    return t_table;
}

}  // namespace green::hooks::sync
