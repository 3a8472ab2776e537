// The hub set behind GREEN_HUBS: starting the extra hub threads, placing new threads, and the
// cross-hub wake path of the thread hooks (per-hub waiter counts by bucket, mailbox posts).
#include "hub_set.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <thread>

#include "green/event.hpp"
#include "real_symbols.hpp"
#include "sync_table.hpp"

namespace green::hooks::hubs {

std::atomic<bool> g_multi{false};
std::atomic<unsigned> g_live_threads{0};
thread_local bool t_posting = false;

namespace {

struct Slot {
    HubHandle handle;
    // A fiber parked for another hub's wake-up is not a deadlock: no hub reports LoopExit.
    HubHandle::KeepAlive keep;
    pthread_t thread = 0;
    pid_t tid = 0;
    std::atomic<std::uint32_t> waiting[kBuckets] = {};
};

// Made by start() in static storage and never destroyed: fibers of other hubs may still post
// while exit() runs the static destructors. Written while the hubs start, before g_multi.
alignas(Slot) unsigned char g_slot_memory[sizeof(Slot) * rt::kMaxHubs];
Slot* g_slots = nullptr;
std::size_t g_count = 1;
std::atomic<std::size_t> g_next{1};  // round robin; the first thread goes to hub 1
std::atomic<std::size_t> g_up{0};
thread_local std::size_t t_index __attribute__((tls_model("initial-exec"))) = rt::kMaxHubs;

void fill_slot(std::size_t i, rt::Hub& h) {
    rt::set_pooled(h);  // greenlets started here get a home: joinable from any hub
    Slot& s = g_slots[i];
    s.handle = rt::handle(h);
    s.thread = GREEN_REAL(pthread_self)();
    s.tid = ::gettid();
    s.keep = HubHandle::KeepAlive(s.handle);
    t_index = i;
    (void)sync::table();  // its side table, before any post looks for it
}

// An extra hub's OS thread: its main fiber keeps the hub running for the life of the process
// (the process ends with exit(), which does not wait for it).
void run_hub(std::size_t i) {
    // start_os_thread blocked every signal. The hub's own thread is no thread of the program:
    // it blocks every signal a program thread could take, and the hub unblocks, for real, what
    // every program thread placed here lets through (signal_delivery.cpp, update_real), so a
    // process-directed signal reaches one of those threads or, when none is here, another hub
    // (the main thread's). With the main thread's mask, as before, the hub's own thread took
    // such signals itself: a handler ran on no program thread, and a thread of this hub waiting
    // in sigsuspend for a signal the main thread blocks was never woken
    // (tests/preload/signals/suspend.c under --hubs 2). Faults stay unblocked (a blocked
    // SIGSEGV kills the process instead of reaching a handler); glibc's sigfillset leaves out
    // its own two (cancellation, setxid), which every thread must take.
    sigset_t mask;
    sigfillset(&mask);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) sigdelset(&mask, sig);
    (void)::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, nullptr, _NSIG / 8);
    fill_slot(i, rt::hub_or_create());
    g_up.fetch_add(1, std::memory_order_release);
    Event forever{cross_thread};
    for (;;) {
        try {
            forever.wait();
        } catch (...) {  // nothing may end this fiber: a stray interrupt is dropped
        }
    }
}

void warn(const char* what) noexcept {
    char line[200];
    const int n =
        std::snprintf(line, sizeof line, "green: GREEN_HUBS=%zu: %s; the threads run on one hub\n",
                      rt::config().hubs, what);
    if (n > 0) (void)!::syscall(SYS_write, 2, line, static_cast<std::size_t>(n));
}

}  // namespace

// A forked child keeps only the calling thread: it goes on as one hub.
[[gnu::constructor]] static void one_hub_after_fork() {
    ::pthread_atfork(nullptr, nullptr, [] { g_multi.store(false, std::memory_order_relaxed); });
}

void start() noexcept {
    static std::atomic<bool> done{false};
    if (done.load(std::memory_order_relaxed) || done.exchange(true)) return;
    const std::size_t n = rt::config().hubs;
    if (n <= 1) return;
    g_slots = reinterpret_cast<Slot*>(g_slot_memory);
    for (std::size_t i = 0; i < n; ++i) ::new (&g_slots[i]) Slot();
    try {
        fill_slot(0, rt::hub_or_create());
        for (std::size_t i = 1; i < n; ++i) rt::start_os_thread([i] { run_hub(i); }).detach();
    } catch (...) {
        // Threads already started keep running idle; nothing is ever placed on them.
        warn("cannot start the hub threads");
        return;
    }
    // A moment at start-up: a plain yield, since the hub itself cannot run before they are up.
    while (g_up.load(std::memory_order_acquire) < n - 1) GREEN_REAL(sched_yield)();
    g_count = n;
    g_multi.store(true, std::memory_order_release);
}

std::size_t count() noexcept {
    return multi() ? g_count : 1;
}

std::size_t current() noexcept {
    return t_index < count() ? t_index : count();
}

std::size_t place(const pthread_attr_t* attr) noexcept {
    const std::size_t n = count();
    if (attr) {
        cpu_set_t set;
        if (::pthread_attr_getaffinity_np(attr, sizeof set, &set) == 0) {
            // glibc reports every CPU for an attr that sets none.
            const int c = CPU_COUNT(&set);
            if (c > 0 && c < CPU_SETSIZE)
                for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
                    if (CPU_ISSET(cpu, &set)) return static_cast<std::size_t>(cpu) % n;
        }
    }
    return g_next.fetch_add(1, std::memory_order_relaxed) % n;
}

const HubHandle& handle(std::size_t i) noexcept {
    return g_slots[i].handle;
}

pthread_t os_thread(std::size_t i) noexcept {
    return g_slots[i].thread;
}

bool is_hub_tid(pid_t tid) noexcept {
    if (!multi()) return false;
    for (std::size_t i = 0, n = count(); i < n; ++i)
        if (g_slots[i].tid == tid) return true;
    return false;
}

std::atomic<std::uint32_t>* waiting_counter(const void* obj) noexcept {
    const std::size_t i = t_index;
    return i < count() ? &g_slots[i].waiting[bucket(obj)] : nullptr;
}

bool waiting_elsewhere(const void* obj) noexcept {
    if (!multi()) return false;
    const std::size_t b = bucket(obj), me = t_index;
    for (std::size_t i = 0, n = count(); i < n; ++i)
        if (i != me && g_slots[i].waiting[b].load(std::memory_order_relaxed)) return true;
    return false;
}

void wake_others(const void* obj) noexcept {
    // Pairs with Elsewhere's increment: either the waiter sees our release, or we see it. On
    // x86 the release was a locked instruction (libc's unlock, post and rwlock unlock exchange
    // or compare-and-swap; the futex hook fences itself), already a full barrier: an mfence
    // here would double an uncontended unlock's cost.
#if defined(__x86_64__) || defined(__i386__)
    std::atomic_signal_fence(std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
    const std::size_t b = bucket(obj), me = t_index;
    for (std::size_t i = 0, n = g_count; i < n; ++i) {
        if (i == me || !g_slots[i].waiting[b].load(std::memory_order_relaxed)) continue;
        // Without memory for the post the waiter stays until its poll or the next wake.
        post(i, [obj] {
            if (sync::Entry* e = sync::t_table ? sync::t_table->find(obj) : nullptr)
                e->queue.notify_all();
        });
    }
}

bool post(std::size_t i, std::function<void()> fn) noexcept {
    const bool outer = t_posting;
    t_posting = true;
    bool ok = false;
    try {
        ok = g_slots[i].handle.post(std::move(fn));
    } catch (...) {
    }
    t_posting = outer;
    return ok;
}

void thread_ended() noexcept {
    if (g_live_threads.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    post(0, [] {
        if (sync::t_table) sync::t_table->threads_done.notify_all();
    });
}

}  // namespace green::hooks::hubs
